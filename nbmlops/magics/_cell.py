"""Run a ``%%mlops run`` cell exactly as IPython runs any cell.

:class:`ShellExecutor` is the executor the magic passes to
:func:`nbmlops.tracking.lifecycle.capture_run`: it translates IPython syntax
with the shell's ``transform_cell`` and runs the cell through IPython's own
``run_ast_nodes``, so the last expression is shown as ``Out[n]`` and an
exception is shown once by IPython and fails the cell (papermill and
nbclient see it).
"""

from __future__ import annotations

from typing import Any

# IPython's own runner for run_ast_nodes outside an event loop (what run_cell uses when
# the cell needs no autoawait); IPython has no public spelling of it.
from IPython.core.async_helpers import _pseudo_sync_runner
from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

_SYNTAX_ERRORS = (SyntaxError, ValueError, TypeError, OverflowError, MemoryError)


class ShellExecutor:
    """The cell executor for code running inside an IPython shell.

    Parameters
    ----------
    shell
        The ``InteractiveShell`` whose cell is being captured.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self._handed: BaseException | None = None

    def transform(self, source: str) -> str:
        """IPython syntax (``%magics``, ``!cmd``) -> Python."""
        return str(self.shell.transform_cell(source))

    def run(self, source: str, py_source: str, namespace: dict[str, Any]) -> BaseException | None:
        """Run the cell through IPython's ``run_ast_nodes`` (in the shell's own namespace).

        The outer cell's ``ExecutionResult`` receives the error, so IPython
        shows the traceback once and marks the cell failed.
        """
        shell = self.shell
        outer = shell.displayhook.exec_result
        mine = ExecutionResult(ExecutionInfo(source, False, False, True, None))
        compiler = shell.compile
        cell_name = compiler.cache(py_source, shell.execution_count, raw_code=source)
        try:
            tree = compiler.ast_parse(py_source, filename=cell_name)
        except _SYNTAX_ERRORS as exc:
            shell.showsyntaxerror(filename=cell_name)
            mine.error_in_exec = exc
        else:
            self._run_nodes(shell.transform_ast(tree), cell_name, mine, own_result=outer is None)
        if outer is not None:
            if mine.result is not None:
                outer.result = mine.result
            if mine.error_in_exec is not None:
                outer.error_in_exec = mine.error_in_exec
                self._handed = mine.error_in_exec
        return mine.error_in_exec

    def _run_nodes(self, tree: Any, cell_name: str, result: Any, own_result: bool) -> None:
        shell = self.shell
        if own_result:
            shell.displayhook.exec_result = result
        try:
            _pseudo_sync_runner(shell.run_ast_nodes(
                tree.body, cell_name, interactivity=shell.ast_node_interactivity,
                compiler=shell.compile, result=result))
        finally:
            if own_result:
                shell.displayhook.exec_result = None

    def reported(self, error: BaseException) -> bool:
        """``True`` when ``error`` went to the outer cell's result (IPython shows it)."""
        return error is self._handed
