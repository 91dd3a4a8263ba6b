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

import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import KernelDiedError
from nbmlops.pipeline import interrupts
from nbmlops.pipeline.notebook import INJECTED_TAG, tagged_index, uses_mlflow
from nbmlops.pipeline.plan import (
    ExecOptions,
    Plan,
    check_tracking,
    kernel_env,
    load_params_file,
    prepare,
)
from nbmlops.pipeline.recorders import RecorderLike, choose
from nbmlops.pipeline.results import NotebookRunResult
from nbmlops.tracking.context import owner_tags


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
) -> NotebookRunResult:
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
    NotebookRunResult
        Status, metrics, MLflow run id, executed notebook path.

    Raises
    ------
    ParameterError
        Unknown parameter or a value that does not fit its declared type.
    PipelineError
        The notebook cannot be read, or the output would overwrite it.
    Interrupted
        On SIGINT/SIGTERM: the kernel was stopped and the run and its cell
        runs ended KILLED (``exit_code`` 130 or 143).

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
    options = ExecOptions(timeout=timeout, start_timeout=start_timeout, kernel_name=kernel_name,
                          progress=progress, log_output=log_output, experiment=experiment,
                          run_name=run_name, parent_run_id=parent_run_id)
    plan = prepare(notebook, given, text=set(text_params or ()), output=output, cwd=cwd,
                   kernel_name=kernel_name, config=config)
    with interrupts.handling():  # Ctrl-C/SIGTERM: kernel stopped, runs KILLED, Interrupted
        result = execute(plan, options)
    if raise_on_error:
        result.raise_for_status()
    return result


def execute(plan: Plan, options: ExecOptions | None = None, *,
            recorder: RecorderLike | None = None,
            recording: Executor | None = None) -> NotebookRunResult:
    """Execute a prepared notebook and record it; never raises for a failed notebook.

    Parameters
    ----------
    plan
        From :func:`~nbmlops.pipeline.plan.prepare`.
    options
        How it executes and where it is recorded (default: :class:`ExecOptions`'s defaults).
    recorder
        A recorder to reuse (sweeps); default: one chosen by
        :func:`~nbmlops.pipeline.recorders.choose` and closed at the end.
    recording
        Record the outcome in MLflow on this executor instead of waiting for
        it (a sweep starts its next combination meanwhile); the result's
        ``pending`` future ends when the record is written, and until then
        ``metrics`` and ``child_run_ids`` may be empty. Notebooks recorded
        from inside their own kernel are always recorded before returning.

    Returns
    -------
    NotebookRunResult
        With ``status`` ``ok``, ``failed`` or ``kernel_died``.
    """
    from nbmlops.pipeline.kernel import start_kernel, stop_kernel

    interrupts.check()  # a sweep being stopped launches nothing new
    t0 = time.perf_counter()
    options = options or ExecOptions()
    experiment = options.experiment or plan.config.experiment
    own = recorder is None
    # only a notebook that logs to MLflow itself needs its run id before the first cell
    # (NBMLOPS_PARENT_RUN_ID nests its %%mlops runs); the others start at once
    nests = uses_mlflow(plan.nb)
    if own and not nests:  # a helper process starts loading MLflow before the kernel
        recorder = choose(plan.config, experiment)
    km = None
    pool = ThreadPoolExecutor(1)
    try:
        km = start_kernel(plan.kernel_name, kernel_env(plan, experiment), str(plan.cwd),
                          startup_timeout=options.start_timeout)
        if recorder is None:  # the notebook loads MLflow: record inside its kernel
            recorder = choose(plan.config, experiment, km)
        result = _run(plan, km, recorder, recording or pool, nests, options)
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


def _run(plan: Plan, km: Any, recorder: RecorderLike, pool: Executor, nests: bool,
         options: ExecOptions) -> NotebookRunResult:
    """Create the MLflow run, execute with papermill, record the outcome."""
    from nbmlops.pipeline.kernel import set_env, stop_kernel

    run_tags = {"mlflow.source.name": str(plan.source), "mlflow.source.type": "NOTEBOOK",
                "nbmlops.kind": "pipeline", **owner_tags("batch"), **options.tags}
    # the run is created (in a helper, the kernel or here) while papermill loads
    begun = pool.submit(recorder.begin, options.run_name or plan.source.stem, run_tags,
                        options.parent_run_id, plan.effective)
    try:
        _import_papermill()
        if nests:  # the run exists before the first cell (the kernel recorder sets the id)
            run_id = begun.result()
            if not recorder.sets_parent_env:
                set_env(km, {"NBMLOPS_PARENT_RUN_ID": run_id})
        interrupts.check()  # stopped while the kernel was starting
        status, error, cell = _papermill(plan, km, options)
        interrupts.check()  # the kernel was interrupted by a signal, not by the notebook
    except KernelDiedError as exc:
        status, error, cell = "kernel_died", str(exc), None
    except BaseException as exc:  # Interrupted, KeyboardInterrupt...: the run ends KILLED
        created = _begun_id(begun)
        if created is not None:
            stop_kernel(km)  # before the record: a cell run ends itself first
            recorder.kill(created, {"nbmlops.status": "killed",
                                    "nbmlops.error": f"stopped: {exc or type(exc).__name__}"})
        raise
    result = NotebookRunResult(str(plan.source), str(plan.output), status, plan.effective,
                               error=error, cell=cell)
    if recorder.sets_parent_env:  # the kernel records: stop it only afterwards
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


def _import_papermill() -> None:
    import nbformat  # noqa: F401 - loaded here, while the kernel boots
    import papermill  # noqa: F401


def _papermill(plan: Plan, km: Any,
               options: ExecOptions) -> tuple[str, str | None, int | None]:
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    timeout = options.timeout
    if not options.log_output:  # our own one-line error replaces papermill's/nbclient's log lines
        _quiet_logger("papermill")
    try:
        papermill.execute_notebook(
            nbformat.from_dict(plan.nb), str(plan.output), kernel_name=plan.kernel_name,
            progress_bar=options.progress, log_output=options.log_output,
            start_timeout=options.start_timeout, execution_timeout=timeout, km=km,
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
    return tagged_index(plan.nb, INJECTED_TAG) if plan.values else None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _record(begun: Future[str], recorder: RecorderLike, plan: Plan,
            result: NotebookRunResult) -> None:
    result.run_id = begun.result()
    tags = {"nbmlops.exit_code": str(result.exit_code), "nbmlops.status": result.status}
    if result.error:
        tags["nbmlops.error"] = result.error
    metrics_path = plan.metrics_path if result.ok and plan.metrics_path else None
    artifacts = [str(plan.output)] + ([str(plan.metrics_path)] if plan.metrics_path else [])
    result.metrics, result.child_run_ids = recorder.end(
        result.run_id, "FINISHED" if result.ok else "FAILED",
        str(metrics_path) if metrics_path else None, artifacts, tags)
