"""How a captured cell's code is run: the executor protocol and the plain-Python one.

:func:`~nbmlops.tracking.lifecycle.capture_run` never runs code itself; it
asks an executor. Plain Python (a script, a test) gets :class:`PythonExecutor`
(``compile`` + ``exec``); the ``%%mlops run`` magic passes
:class:`nbmlops.magics._cell.ShellExecutor`, which runs the cell through
IPython's own machinery. Keeping IPython out of this layer is the point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class CellExecutor(Protocol):
    """Turns a cell's source into Python and runs it."""

    def transform(self, source: str) -> str:
        """The cell as plain Python (what is analysed for params and metrics)."""

    def run(self, source: str, py_source: str, namespace: dict[str, Any]) -> BaseException | None:
        """Run the cell; return the exception it raised (``None`` when it finished)."""

    def reported(self, error: BaseException) -> bool:
        """``True`` when the host already showed ``error`` and failed the cell.

        :func:`~nbmlops.tracking.lifecycle.capture_run` then returns instead
        of raising it a second time.
        """


class PythonExecutor:
    """Run a cell with ``compile`` + ``exec`` in the given namespace.

    Parameters
    ----------
    transform
        Source -> Python (e.g. an IPython shell's ``transform_cell``, so
        ``%magics`` in the cell still work); default: the source unchanged.
    """

    def __init__(self, transform: Callable[[str], str] | None = None) -> None:
        self._transform = transform

    def transform(self, source: str) -> str:
        """The source itself, or what ``transform`` makes of it."""
        return str(self._transform(source)) if self._transform is not None else source

    def run(self, source: str, py_source: str, namespace: dict[str, Any]) -> BaseException | None:
        """``exec`` the cell; its exception is returned, to be recorded and re-raised."""
        try:
            code = compile(py_source, "<nbmlops cell>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # the user's exception: recorded, re-raised later
            return exc
        return None

    def reported(self, error: BaseException) -> bool:
        """Never: plain Python re-raises the cell's exception to the caller."""
        return False
