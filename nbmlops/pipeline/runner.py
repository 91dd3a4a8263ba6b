"""Batch runs: one notebook, typed parameters, a real kernel, one MLflow run.

:func:`run_notebook` checks the parameters against the notebook's
parameters cell, injects them safely, executes the notebook with papermill in
a fresh kernel and records the whole run in MLflow (parameters, the executed
notebook, metrics, and the notebook's own ``%%mlops run`` cells as nested
child runs through ``NBMLOPS_PARENT_RUN_ID``).

To keep the overhead over plain papermill small, the kernel is launched
first and MLflow is imported and the run created while the kernel boots.
"""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import (
    KernelDiedError,
    NbmlopsError,
    NotebookExecutionError,
    ParameterError,
    PipelineError,
    TrackingError,
)
from nbmlops.pipeline.inject import inject
from nbmlops.pipeline.parameters import ParametersCell, read_parameters, resolve_values

#: result status -> process exit code
EXIT_CODES = {"ok": 0, "failed": 1, "bad_input": 2, "kernel_died": 3}
_ERRORS: dict[str, type[PipelineError]] = {
    "failed": NotebookExecutionError, "kernel_died": KernelDiedError, "bad_input": PipelineError,
}


@dataclass
class RunResult:
    """Outcome of one batch run (also what ``nbmlops run --json`` prints)."""

    notebook: str
    output_notebook: str | None
    status: str
    parameters: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None
    experiment_id: str | None = None
    child_run_ids: list[str] = field(default_factory=list)
    error: str | None = None
    cell: int | None = None
    duration_s: float = 0.0
    #: set when the MLflow record is still being written (see ``execute(recording=...)``)
    pending: Future[None] | None = field(default=None, repr=False, compare=False)

    @property
    def exit_code(self) -> int:
        """0 ok, 1 the notebook failed, 2 bad input, 3 the kernel died or timed out."""
        return EXIT_CODES[self.status]

    @property
    def ok(self) -> bool:
        """True when the notebook ran to the end."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-serialisable)."""
        return {
            "notebook": self.notebook, "output_notebook": self.output_notebook,
            "status": self.status, "exit_code": self.exit_code, "parameters": self.parameters,
            "metrics": self.metrics, "run_id": self.run_id, "experiment_id": self.experiment_id,
            "child_run_ids": self.child_run_ids, "error": self.error, "cell": self.cell,
            "duration_s": round(self.duration_s, 3),
        }

    def raise_for_status(self) -> None:
        """Raise the error matching :attr:`status` (nothing when ok)."""
        if not self.ok:
            raise _ERRORS[self.status](self.error or self.status, result=self, cell=self.cell)

    def __str__(self) -> str:
        head = f"{self.status}: {self.notebook} -> {self.output_notebook}"
        if self.error:
            head += f"\n  {self.error}"
        if self.metrics:
            head += "\n  metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in self.metrics.items())
        if self.run_id:
            head += f"\n  MLflow run: {self.run_id}"
        return head


@dataclass
class Plan:
    """A checked, parameterized notebook ready to execute."""

    source: Path
    output: Path
    cwd: Path
    config: NbmlopsConfig
    declared: ParametersCell
    values: dict[str, Any]
    effective: dict[str, Any]
    nb: dict[str, Any]
    kernel_name: str
    metrics_path: Path | None


def run_notebook(
    notebook: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    params_file: str | Path | None = None,
    text_params: dict[str, str] | None = None,
    output: str | Path | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
    start_timeout: float = 60,
    kernel_name: str | None = None,
    config: NbmlopsConfig | None = None,
    experiment: str | None = None,
    run_name: str | None = None,
    parent_run_id: str | None = None,
    progress: bool = False,
    log_output: bool = False,
    raise_on_error: bool = True,
) -> RunResult:
    """Run ``notebook`` with parameters in a fresh kernel, tracked as an MLflow run.

    Parameters
    ----------
    notebook
        The source notebook (never written to).
    parameters
        Name -> value, checked and coerced to the declared types.
    params_file
        A YAML file of values; ``file.yaml:section`` takes one section.
    text_params
        Name -> text from the command line (``-p NAME VALUE``), parsed for
        the declared type. Wins over ``parameters`` and ``params_file``.
    output
        Where the executed notebook goes. Default: ``<stem>.ipynb`` in the
        folder of the notebook's metrics file (or first output), else in
        ``outputs/<stem>/`` at the project root.
    cwd
        The kernel's working directory (default: the project root).
    timeout
        Seconds one cell may run before the run counts as timed out.
    start_timeout
        Seconds to wait for the kernel to start.
    kernel_name
        Kernelspec (default: the notebook's, else ``python3``).
    config
        Resolved configuration (default: :func:`~nbmlops.config.load_config`).
    experiment
        MLflow experiment (default: the configured one).
    run_name
        MLflow run name (default: the notebook's stem).
    parent_run_id
        Nest this run under another (used by sweeps).
    progress
        Show papermill's cell progress bar.
    log_output
        Stream the notebook's outputs to the log.
    raise_on_error
        Raise :class:`NotebookExecutionError` (exit 1) or
        :class:`KernelDiedError` (exit 3) when the run fails; otherwise return
        the result with its status.

    Returns
    -------
    RunResult
        Status, metrics, MLflow run id, executed notebook path.

    Raises
    ------
    ParameterError
        Unknown parameter or a value that does not fit its declared type.
    PipelineError
        The notebook cannot be read, or the output would overwrite it.

    Examples
    --------
    >>> result = run_notebook("notebooks/train.ipynb", {"C": 0.5})  # doctest: +SKIP
    >>> result.metrics["accuracy"]  # doctest: +SKIP
    0.93
    """
    given = dict(load_params_file(params_file)) if params_file else {}
    given.update(parameters or {})
    given.update(text_params or {})
    config = config or load_config()
    check_tracking(config)
    plan = prepare(notebook, given, text=set(text_params or ()), output=output, cwd=cwd,
                   kernel_name=kernel_name, config=config)
    result = execute(plan, experiment=experiment, run_name=run_name,
                     parent_run_id=parent_run_id, timeout=timeout,
                     start_timeout=start_timeout, progress=progress, log_output=log_output)
    if raise_on_error:
        result.raise_for_status()
    return result


def check_tracking(config: NbmlopsConfig) -> None:
    """Fail fast (before any kernel starts) when the MLflow server does not answer.

    Without this, MLflow's own retries would wait minutes for a dead server
    after the notebook had run.

    Raises
    ------
    TrackingError
        When a tracking server URI does not answer ``/health`` (exit code 2).
    """
    from nbmlops.mlflow_gateway import reachable

    if not reachable(config.tracking_uri):
        raise TrackingError(
            f"The MLflow tracking server {config.tracking_uri} does not answer; start it, or "
            "point MLFLOW_TRACKING_URI (or [tool.nbmlops] tracking_uri) at a running one. "
            "Nothing was run.", uri=config.tracking_uri)


def load_params_file(spec: str | Path) -> dict[str, Any]:
    """Values from ``file.yaml`` or one section of it (``file.yaml:section``).

    Raises
    ------
    ParameterError
        When the file is missing, not YAML, or not a mapping.
    """
    import yaml

    text = str(spec)
    path, section = Path(text), None
    if not path.exists() and ":" in text:
        head, _, section = text.rpartition(":")
        path = Path(head)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ParameterError(f"Cannot read parameters file {path}: {exc.strerror}.",
                             path=str(path)) from None
    except yaml.YAMLError as exc:
        raise ParameterError(f"Parameters file {path} is not valid YAML: {exc}",
                             path=str(path)) from None
    data = data or {}
    if section is not None:
        if not isinstance(data, dict) or section not in data:
            raise ParameterError(f"Parameters file {path} has no section {section!r}.",
                                 path=str(path))
        data = data[section] or {}
    if not isinstance(data, dict):
        raise ParameterError(f"Parameters file {path} must hold a mapping of name: value.",
                             path=str(path))
    return data


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook JSON at ``path`` (checked to be a v4 notebook)."""
    if path.suffix != ".ipynb":
        raise PipelineError(f"{path} is not a notebook (.ipynb).", path=str(path))
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"Notebook {path} does not exist.", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise PipelineError(f"Notebook {path} cannot be read: {exc}", path=str(path)) from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or "cells" not in nb:
        raise PipelineError(f"Notebook {path} is not an nbformat 4 notebook.", path=str(path))
    return nb


def prepare(
    notebook: str | Path,
    given: dict[str, Any],
    *,
    text: set[str] | None = None,
    output: str | Path | None = None,
    cwd: str | Path | None = None,
    kernel_name: str | None = None,
    config: NbmlopsConfig | None = None,
) -> Plan:
    """Check everything that can be checked before a kernel starts.

    Raises
    ------
    ParameterError, PipelineError
        Bad parameters or input (exit code 2).
    """
    config = config or load_config()
    source = Path(notebook).resolve()
    nb = read_notebook(source)
    declared = read_parameters(nb, where=str(notebook))
    if given and declared.index is None:
        raise ParameterError(
            f"{notebook} has no cell tagged 'parameters'; run `nbmlops pipeline init {notebook}` "
            "to tag its first cell of literal assignments.", parameter=next(iter(given)))
    values = resolve_values(declared.parameters, given, text=text or set(), where=str(notebook))
    effective = {**declared.defaults(), **values}
    workdir = Path(cwd).resolve() if cwd else config.project_root
    if not workdir.is_dir():
        raise PipelineError(f"Working directory {workdir} does not exist.", path=str(workdir))
    metrics = [p.name for p in declared.with_role("metrics")]
    outs = [p.name for p in declared.with_role("out")]
    metrics_path = _param_path(workdir, effective, metrics[0]) if metrics else None
    out_path = _output_path(source, output, workdir, config, effective, metrics + outs)
    for name in metrics + outs:
        target = _param_path(workdir, effective, name)
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    nb_meta = nb.get("metadata", {})
    kernel = kernel_name or nb_meta.get("kernelspec", {}).get("name") or "python3"
    injected = inject(nb, values, declared.index) if values else nb
    return Plan(source, out_path, workdir, config, declared, values, effective, injected,
                kernel, metrics_path)


def _param_path(workdir: Path, values: dict[str, Any], name: str) -> Path | None:
    value = values.get(name)
    if not isinstance(value, str) or not value:
        return None
    return (workdir / value).resolve()


def _output_path(source: Path, output: str | Path | None, workdir: Path, config: NbmlopsConfig,
                 values: dict[str, Any], path_params: list[str]) -> Path:
    if output is not None:
        out = Path(output).resolve()
    else:
        folder = config.project_root / "outputs" / source.stem
        for name in path_params:
            target = _param_path(workdir, values, name)
            if target is not None:
                folder = target if not target.suffix else target.parent
                break
        out = folder / f"{source.stem}.ipynb"
    if out == source:
        raise PipelineError(f"The executed notebook would overwrite its source {source}; "
                            "choose another output path.", path=str(out))
    return out


def kernel_env(plan: Plan, experiment: str) -> dict[str, str]:
    """The variables a run's kernel gets (see docs/development.md, Contracts)."""
    return {
        "MLFLOW_TRACKING_URI": plan.config.tracking_uri,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "NBMLOPS_INJECTED_PARAMS": json.dumps(plan.effective),
        "NBMLOPS_NOTEBOOK_PATH": str(plan.source),
    }


def execute(
    plan: Plan,
    *,
    recorder: Any = None,
    experiment: str | None = None,
    run_name: str | None = None,
    parent_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    timeout: float | None = None,
    start_timeout: float = 60,
    progress: bool = False,
    log_output: bool = False,
    recording: Executor | None = None,
) -> RunResult:
    """Execute a prepared notebook and record it; never raises for a failed notebook.

    Parameters
    ----------
    plan
        From :func:`prepare`.
    recorder
        A :class:`~nbmlops.pipeline.record.Recorder` to reuse (sweeps).
    experiment, run_name, parent_run_id, tags
        Where and how the MLflow run is recorded.
    timeout, start_timeout, progress, log_output
        As for :func:`run_notebook`.
    recording
        Record the outcome in MLflow on this executor instead of waiting for
        it (a sweep starts its next combination meanwhile); the result's
        ``pending`` future ends when the record is written, and until then
        ``metrics`` and ``child_run_ids`` may be empty. Notebooks recorded
        from inside their own kernel are always recorded before returning.

    Returns
    -------
    RunResult
        With ``status`` ``ok``, ``failed`` or ``kernel_died``.
    """
    from nbmlops.pipeline.kernel import start_kernel, stop_kernel

    t0 = time.perf_counter()
    experiment = experiment or plan.config.experiment
    own = recorder is None
    # only a notebook that logs to MLflow itself needs its run id before the first cell
    # (NBMLOPS_PARENT_RUN_ID nests its %%mlops runs); the others start at once
    nests = uses_mlflow(plan.nb)
    if own and not nests:  # a helper process starts loading MLflow before the kernel
        recorder = _own_recorder(plan, experiment)
    km = None
    pool = ThreadPoolExecutor(1)
    try:
        km = start_kernel(plan.kernel_name, kernel_env(plan, experiment), str(plan.cwd),
                          startup_timeout=start_timeout)
        if recorder is None:  # the notebook loads MLflow: record inside its kernel
            recorder = _own_recorder(plan, experiment, km)
        result = _run(plan, km, recorder, recording or pool, nests, run_name, parent_run_id,
                      tags, timeout, start_timeout, progress, log_output)
        if recording is None and result.pending is not None:
            result.pending.result()
            result.pending = None
        result.experiment_id = recorder.experiment_id
    finally:
        pool.shutdown(wait=True)
        if km is not None:
            stop_kernel(km)
        if own and recorder is not None:
            recorder.close()
    result.duration_s = time.perf_counter() - t0
    return result


def _run(plan: Plan, km: Any, recorder: Any, pool: Executor, nests: bool,
         run_name: str | None, parent_run_id: str | None, tags: dict[str, str] | None,
         timeout: float | None, start_timeout: float, progress: bool,
         log_output: bool) -> RunResult:
    """Create the MLflow run, execute with papermill, record the outcome."""
    from nbmlops.pipeline.kernel import set_env, stop_kernel

    run_tags = {"mlflow.source.name": str(plan.source), "mlflow.source.type": "NOTEBOOK",
                "nbmlops.kind": "pipeline", **(tags or {})}
    in_kernel = getattr(recorder, "sets_parent_env", False)
    # the run is created (in a helper, the kernel or here) while papermill loads
    begun = pool.submit(recorder.begin, run_name or plan.source.stem, run_tags,
                        parent_run_id, plan.effective)
    try:
        _import_papermill()
        if nests:  # the run exists before the first cell (the kernel recorder sets the id)
            run_id = begun.result()
            if not in_kernel:
                set_env(km, {"NBMLOPS_PARENT_RUN_ID": run_id})
        status, error, cell = _papermill(plan, km, timeout, start_timeout, progress,
                                         log_output)
    except KernelDiedError as exc:
        status, error, cell = "kernel_died", str(exc), None
    except BaseException:
        run_id = _begun_id(begun)
        if run_id is not None:
            recorder.end(run_id, "KILLED", None, [str(plan.output)], {})
        raise
    result = RunResult(str(plan.source), str(plan.output), status, plan.effective,
                       error=error, cell=cell)
    if in_kernel:  # the kernel records: stop it only afterwards
        _record(begun, recorder, plan, result)
    else:  # recorded elsewhere (after the run was created): the kernel shuts down meanwhile
        result.pending = pool.submit(_record, begun, recorder, plan, result)
        stop_kernel(km)
    return result


def _begun_id(begun: Future[str]) -> str | None:
    """The run id once the run was created (``None`` if creating it failed)."""
    try:
        return str(begun.result())
    except Exception:
        return None


_USES_MLFLOW = re.compile(
    r"^\s*(%%?mlops\b|%load_ext\s+nbmlops|(import|from)\s+(mlflow|nbmlops)\b)", re.MULTILINE)


def uses_mlflow(nb: dict[str, Any]) -> bool:
    """True when the notebook loads MLflow in its kernel anyway (magics or imports)."""
    from nbmlops.pipeline.parameters import cell_source

    return any(cell.get("cell_type") == "code" and _USES_MLFLOW.search(cell_source(cell))
               for cell in nb["cells"])


def _own_recorder(plan: Plan, experiment: str, km: Any = None) -> Any:
    """Where MLflow work happens: here, in the kernel ``km``, or in a helper process.

    Here when MLflow is loaded in this process already; in ``km`` when given
    (notebooks that load MLflow anyway); else in a helper process.
    """
    import sys

    from nbmlops.pipeline.record import KernelRecorder, Recorder, SidecarRecorder

    if "mlflow" in sys.modules:
        return Recorder(plan.config, experiment)
    if km is not None:
        return KernelRecorder(km, plan.config, experiment)
    return SidecarRecorder(plan.config, experiment)


def _import_papermill() -> None:
    import nbformat  # noqa: F401 - loaded here, while the kernel boots
    import papermill  # noqa: F401


def _papermill(plan: Plan, km: Any, timeout: float | None, start_timeout: float,
               progress: bool, log_output: bool) -> tuple[str, str | None, int | None]:
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if not log_output:  # our own one-line error replaces papermill's/nbclient's log lines
        _quiet_logger("papermill")
    try:
        papermill.execute_notebook(
            nbformat.from_dict(plan.nb), str(plan.output), kernel_name=plan.kernel_name,
            progress_bar=progress, log_output=log_output, start_timeout=start_timeout,
            execution_timeout=timeout, km=km,
        )
    except PapermillExecutionError as exc:
        cell = _source_cell(plan, exc.cell_index)
        first = exc.source.strip().splitlines()[0][:60] if exc.source.strip() else ""
        return ("failed", f"Cell {cell} (`{first}`) raised {exc.ename}: {exc.evalue}", cell)
    except CellTimeoutError as exc:
        return "kernel_died", f"A cell timed out after {timeout} s: {_one_line(exc)}", None
    except DeadKernelError as exc:
        return "kernel_died", f"The kernel died: {_one_line(exc)}", None
    except (RuntimeError, TimeoutError) as exc:  # kernel start/reply failures in nbclient
        return "kernel_died", f"The kernel stopped answering: {_one_line(exc)}", None
    return "ok", None, None


def _quiet_logger(name: str) -> None:
    import logging

    logger = logging.getLogger(name)
    if not logger.handlers and not logging.getLogger().handlers:
        logger.addHandler(logging.NullHandler())


def _source_cell(plan: Plan, executed_index: int) -> int:
    """Index in the source notebook of cell ``executed_index`` of the executed one."""
    injected_at = _injected_index(plan)
    if injected_at is not None and executed_index > injected_at:
        return executed_index - 1
    return executed_index


def _injected_index(plan: Plan) -> int | None:
    from nbmlops.pipeline.parameters import INJECTED_TAG, cell_tags

    if not plan.values:
        return None
    for i, cell in enumerate(plan.nb["cells"]):
        if INJECTED_TAG in cell_tags(cell):
            return i
    return None  # pragma: no cover


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _record(begun: Future[str], recorder: Any, plan: Plan, result: RunResult) -> None:
    result.run_id = begun.result()
    tags = {"nbmlops.exit_code": str(result.exit_code), "nbmlops.status": result.status}
    if result.error:
        tags["nbmlops.error"] = result.error
    metrics_path = plan.metrics_path if result.ok and plan.metrics_path else None
    artifacts = [str(plan.output)] + ([str(plan.metrics_path)] if plan.metrics_path else [])
    result.metrics, result.child_run_ids = recorder.end(
        result.run_id, "FINISHED" if result.ok else "FAILED",
        str(metrics_path) if metrics_path else None, artifacts, tags)


def describe_error(exc: NbmlopsError) -> dict[str, Any]:
    """``--json`` body for an error raised before the run (bad input)."""
    return {"status": "bad_input", "exit_code": exc.exit_code, "error": str(exc),
            "parameter": getattr(exc, "parameter", None)}
