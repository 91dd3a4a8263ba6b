"""One cell, one MLflow run: start, execute, capture, end — always end.

:func:`capture_run` is what ``%%mlops run`` calls (and what a script can call
directly). It

1. creates the run (tagged with the kernel's pid/session so a crashed kernel's
   runs can be reaped later, and with a *cell fingerprint* linking re-runs);
2. executes the cell through an executor (:mod:`nbmlops.tracking.execute`):
   plain ``exec`` by default, IPython's own machinery when the magic passes
   its shell executor (same namespace, same display of the last expression,
   the traceback shown once by IPython itself);
3. captures params, metrics, code, history, git, environment, seeds, data and
   output into a :class:`~nbmlops.run_record.RunRecord`
   (:mod:`nbmlops.tracking.collect`);
4. ends the run FINISHED, FAILED (traceback artifact) or KILLED
   (KeyboardInterrupt), writing the record in a few batched calls — or
   spooling it to disk when the tracking server cannot be reached
   (:mod:`nbmlops.tracking.mlflow_run`).

The user's own exception is re-raised unchanged (same object), unless the
executor's host (IPython) already showed it and failed the cell.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nbmlops._version import __version__
from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import UsageArgumentError
from nbmlops.mlflow_gateway import few_retries, reachable, set_sklearn_autolog, user_caps
from nbmlops.run_record import RunRecord, now_ms
from nbmlops.tracking import capture, collect, context, mlflow_run, reaper
from nbmlops.tracking.current import set_current
from nbmlops.tracking.execute import CellExecutor, PythonExecutor
from nbmlops.tracking.query import attach_comparisons
from nbmlops.tracking.results import CellRunResult
from nbmlops.tracking.secrets import Redactor, is_secret_name


@dataclass
class RunOptions:
    """What the caller asks of one run (the ``%%mlops run`` flags)."""

    name: str | None = None
    tags: dict[str, str] | None = None
    experiment: str | None = None
    nested: bool = False
    seed: int | None = None
    autolog: bool | None = None
    metrics: list[str] | None = None
    command: str = ""


_OPTION_NAMES = frozenset(f.name for f in fields(RunOptions))


@dataclass
class CellRun:
    """One cell being captured: its inputs, its record and what happened so far."""

    source: str
    namespace: dict[str, Any]
    options: RunOptions
    config: NbmlopsConfig
    executor: CellExecutor
    record: RunRecord
    shell: Any = None  # duck-typed: history and kernel identity
    notebook: Path | None = None
    py_source: str = ""
    analysis: capture.CellAnalysis = field(default_factory=capture.CellAnalysis)
    online: bool = False
    client: Any = None
    autologged: bool = False
    out: capture.Tee | None = None
    err: capture.Tee | None = None
    error: BaseException | None = None
    duration: float = 0.0
    spooled: bool = False
    red: Redactor = field(default_factory=Redactor)
    shadow: mlflow_run.Shadow | None = None
    files: Path | None = None


# --------------------------------------------------------------------------- entry point
def capture_run(source: str, namespace: dict[str, Any] | None = None, *,
                config: NbmlopsConfig | None = None, shell: Any = None,
                executor: CellExecutor | None = None, notebook: Path | None = None,
                **options: Any) -> CellRunResult:
    """Execute ``source`` in ``namespace`` as one MLflow run and capture it.

    Parameters
    ----------
    source
        The cell's code (IPython syntax allowed when ``shell`` or an IPython
        ``executor`` is given).
    namespace
        Globals to run in (default: ``shell.user_ns``, else a new dict).
    config
        Resolved configuration (default :func:`~nbmlops.config.load_config`).
    shell
        An IPython shell: its ``transform_cell`` translates IPython syntax,
        its history becomes ``code/history.py``, its kernel tags the run.
    executor
        Runs the cell (see :mod:`nbmlops.tracking.execute`); default plain
        ``exec``. ``%%mlops run`` passes one that runs the cell through
        IPython, so its exception is shown by IPython instead of raised.
    notebook
        The notebook file the cell belongs to (default: found from
        ``NBMLOPS_NOTEBOOK_PATH``, VS Code or ``JPY_SESSION_NAME``).
    **options
        The fields of :class:`RunOptions`: ``name``, ``tags``, ``experiment``
        (default ``config.experiment``); ``nested`` (child of the active
        MLflow run; ``NBMLOPS_PARENT_RUN_ID`` always nests under that run);
        ``seed`` (seed ``random``/``numpy``/``torch`` before the cell);
        ``autolog`` (MLflow sklearn autolog, default ``config.autolog``);
        ``metrics`` (restrict automatic metrics to these names); ``command``
        (the magic line, for the record).

    Returns
    -------
    CellRunResult
        Run id, status, params, metrics and comparisons.

    Raises
    ------
    BaseException
        The cell's own exception, unchanged, after the run is recorded
        FAILED/KILLED — unless the executor reports that its host (IPython)
        already showed it and failed the cell.
    """
    reaper.wait(timeout=30)
    cell = _cell_run(source, namespace, config, shell, executor, notebook, options)
    _start(cell)
    cell.online, cell.client = mlflow_run.begin(cell.record, cell.config, cell.options.nested)
    if cell.online:  # what is known now survives a SIGKILLed kernel
        mlflow_run.write_start(cell.record, cell.client, cell.config,
                               params=not _will_autolog(cell))
    elif _wants_shadow(cell):  # offline: the user's own mlflow calls go to a local run
        cell.shadow = mlflow_run.open_shadow(cell.record, cell.config)
    try:  # from here on the run is always ended, even on Ctrl-C inside our own code
        _execute(cell)
    finally:
        _close(cell)
    with few_retries():
        result = _result(cell)
    if cell.error is not None and not cell.executor.reported(cell.error):
        raise cell.error
    return result


def _cell_run(source: str, namespace: dict[str, Any] | None, config: NbmlopsConfig | None,
              shell: Any, executor: CellExecutor | None, notebook: Path | None,
              options: dict[str, Any]) -> CellRun:
    unknown = sorted(set(options) - _OPTION_NAMES)
    if unknown:
        raise TypeError(f"capture_run() got an unexpected keyword argument {unknown[0]!r}")
    opts = RunOptions(**options)
    if opts.seed is not None and not isinstance(opts.seed, int):
        raise UsageArgumentError(f"--seed must be an integer, got {opts.seed!r}.",
                                 parameter="seed")
    if namespace is None:
        namespace = shell.user_ns if shell is not None else {}
    config = config if config is not None else load_config()
    record = RunRecord(tracking_uri=config.tracking_uri,
                       experiment=opts.experiment or config.experiment, run_name=opts.name)
    return CellRun(
        source=source, namespace=namespace, options=opts, config=config,
        executor=executor or PythonExecutor(getattr(shell, "transform_cell", None)),
        record=record, shell=shell,
        notebook=notebook or context.notebook_from_env(getattr(shell, "user_ns", None)),
    )


# --------------------------------------------------------------------------- start
def _start(cell: CellRun) -> None:
    """Translate and analyse the cell, tag its record, seed the random generators."""
    opts = cell.options
    cell.py_source = cell.executor.transform(cell.source)
    cell.analysis = capture.analyse(cell.py_source)
    _learn_secrets(cell)
    _start_tags(cell)
    if opts.seed is not None:
        cell.record.tags["nbmlops.seed"] = str(opts.seed)
        cell.record.tags["nbmlops.seeded"] = ",".join(capture.apply_seed(opts.seed))
    else:
        cell.record.tags["nbmlops.rng_digest"] = capture.rng_digest()
    _run_steps(cell, _start_steps(cell))
    cell.record.tags["nbmlops.start_params"] = json.dumps(cell.record.params)[:7900]


def _learn_secrets(cell: CellRun) -> None:
    """Values held by secret-named variables, env vars and parameters: redacted everywhere."""
    if not cell.config.redact_secrets:
        return
    raw = os.environ.get("NBMLOPS_INJECTED_PARAMS")
    cell.red.learn(cell.analysis.literals.items())
    cell.red.learn(cell.namespace.items())
    cell.red.learn(os.environ.items())
    cell.red.learn((cell.options.tags or {}).items())
    if raw:
        with contextlib.suppress(ValueError, AttributeError):
            cell.red.learn(json.loads(raw).items())


def _wants_shadow(cell: CellRun) -> bool:
    """Offline, and the cell may call MLflow (``mlflow`` in it, or autolog)."""
    return "mlflow" in cell.py_source or _will_autolog(cell)


def _will_autolog(cell: CellRun) -> bool:
    use = cell.config.autolog if cell.options.autolog is None else cell.options.autolog
    return bool(use and mlflow_run.wants_autolog(cell.py_source))


def _start_tags(cell: CellRun) -> None:
    opts, record = cell.options, cell.record
    nb = str(cell.notebook) if cell.notebook else ""
    red = cell.red if cell.config.redact_secrets else (lambda s: s)
    body = red(cell.source)
    note = f"`%%mlops {opts.command}`" if opts.command else "nbmlops run"
    record.tags.update({
        "mlflow.source.type": "NOTEBOOK",
        "mlflow.source.name": nb or "<ipython>",
        "mlflow.note.content": red(f"{note}\n\n```python\n{body[:6000]}\n```"),
        "nbmlops.cell.fingerprint": collect.cell_fingerprint(cell.py_source, nb, opts.name),
        "nbmlops.version": __version__,
        **context.kernel_tags(cell.shell),
    })
    if os.environ.get("NBMLOPS_NOTEBOOK_PATH"):
        record.tags["nbmlops.batch"] = "true"
    for key, value in (opts.tags or {}).items():
        if not str(key).strip():
            raise UsageArgumentError(f"empty tag name in {key}={value}.", parameter="--tags")
        secret = cell.config.redact_secrets and is_secret_name(str(key))
        record.tags[str(key)] = "[REDACTED]" if secret else red(str(value))


# --------------------------------------------------------------------------- execute
def _execute(cell: CellRun) -> None:
    """Run the cell with autolog, output tees and the current run in place; restore after."""
    config = cell.config
    use_autolog = config.autolog if cell.options.autolog is None else cell.options.autolog
    saved = sys.stdout, sys.stderr
    started = time.perf_counter()
    try:
        cell.autologged = (cell.online or cell.shadow is not None) and bool(
            use_autolog) and mlflow_run.wants_autolog(cell.py_source)
        if cell.autologged:
            set_sklearn_autolog(True)
        if config.capture_output:
            cell.out, cell.err = capture.Tee(sys.stdout), capture.Tee(sys.stderr)
            sys.stdout, sys.stderr = cell.out, cell.err
        set_current(cell.record)
        with mlflow_run.autolog_warnings(cell.autologged), user_caps(config.http_timeout):
            cell.error = cell.executor.run(cell.source, cell.py_source, cell.namespace)
    except BaseException as exc:  # interrupted around the cell: record it like the cell's own
        cell.error = exc
    finally:
        sys.stdout, sys.stderr = saved
        set_current(None)
        if cell.autologged:
            with contextlib.suppress(Exception):
                set_sklearn_autolog(False)
        cell.duration = time.perf_counter() - started


# --------------------------------------------------------------------------- end
def _close(cell: CellRun) -> None:
    """Fill the record and end the run: written when the store answers, else spooled.

    The whole final phase (probe, reading autolog's params, the write) is
    bounded by ``config.final_write_timeout``: a hung server gets the run
    spooled instead of a blocked cell.
    """
    if cell.config.redact_secrets:
        cell.red.learn(cell.namespace.items())
    if cell.online:  # the fluent active-run stack is per thread: leave it here
        mlflow_run.deactivate(cell.record.run_id)
    if cell.shadow is not None:
        try:
            cell.files = mlflow_run.close_shadow(cell.shadow, cell.record, cell.config)
        except Exception as exc:  # best effort: the run itself must end
            cell.record.tags["nbmlops.capture_error.offline"] = f"{type(exc).__name__}: {exc}"

    _finish(cell)  # local: everything is in the record before any network call

    def final() -> bool:
        alive = cell.online and reachable(cell.config.tracking_uri)  # probed once
        with few_retries(timeout=cell.config.http_timeout):
            # only the cell's own params can clash with autolog's: none, no store read
            if alive and cell.autologged and cell.client is not None and cell.record.params:
                collect.rename_clashes(cell.record,
                                       cell.client.get_run(cell.record.run_id).data.params)
            return mlflow_run.end(cell.record, cell.config, cell.online, alive, cell.client,
                                  cell.files)

    cell.spooled = mlflow_run.bounded(final, cell.record, cell.config, cell.online, cell.files)


def _finish(cell: CellRun) -> None:
    """Fill the record after the cell ran. Never raises into the user's cell."""
    record, config, error = cell.record, cell.config, cell.error
    record.end_time = now_ms()
    record.status = "KILLED" if isinstance(error, KeyboardInterrupt) else (
        "FAILED" if error is not None else "FINISHED")
    red: Callable[[str], str] = cell.red if config.redact_secrets else (lambda s: s)
    _run_steps(cell, _end_steps(cell, red))
    record.tags["nbmlops.duration_s"] = f"{cell.duration:.3f}"
    if cell.out is not None and cell.out.getvalue():
        record.artifacts["output/stdout.txt"] = red(cell.out.getvalue())
    if cell.err is not None and cell.err.getvalue():
        record.artifacts["output/stderr.txt"] = red(cell.err.getvalue())
    if error is not None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        record.artifacts["error/traceback.txt"] = red(text)
        record.tags["nbmlops.exception"] = red(f"{type(error).__name__}: {error}")[:500]


Step = tuple[str, Callable[[], None]]


def _run_steps(cell: CellRun, steps: list[Step]) -> None:
    for what, step in steps:
        try:
            step()
        except Exception as exc:  # capture is best effort; the run itself must end
            cell.record.tags[f"nbmlops.capture_error.{what}"] = (
                f"{type(exc).__name__}: {exc}"[:500])


def _start_steps(cell: CellRun) -> list[Step]:
    """What is known before the cell runs: params, code, git, env (kept if the kernel dies)."""
    record, config, analysis = cell.record, cell.config, cell.analysis
    red: Callable[[str], str] = cell.red if config.redact_secrets else (lambda s: s)
    return [
        ("params", lambda: collect.collect_params(record, analysis, config, False, None)),
        ("code", lambda: collect.collect_cell(record)),
        ("git", lambda: collect.collect_git(record, config, cell.notebook, red)),
        ("env", lambda: collect.collect_env(record, config)),
    ]


def _end_steps(cell: CellRun, red: Callable[[str], str]) -> list[Step]:
    record, config, analysis = cell.record, cell.config, cell.analysis
    return [
        ("params", lambda: collect.collect_params(record, analysis, config, False, None)),
        ("metrics", lambda: collect.collect_metrics(record, analysis, cell.namespace,
                                                    cell.options.metrics, config)),
        ("code", lambda: collect.collect_code(record, config, cell.shell, red, cell.notebook)),
        ("data", lambda: collect.collect_data(record, config, analysis, cell.namespace)),
        ("secrets", lambda: collect.scrub(record, red) if config.redact_secrets else None),
    ]


def _result(cell: CellRun) -> CellRunResult:
    record = cell.record
    result = CellRunResult(
        run_id=record.id, status=record.status, experiment=record.experiment,
        tracking_uri=record.tracking_uri, run_name=record.run_name,
        experiment_id=record.experiment_id, params=dict(record.params),
        metrics=record.latest_metrics(), tags=dict(record.tags), datasets=list(record.datasets),
        duration=cell.duration, spooled=cell.spooled, error=cell.error,
        ui_url=cell.config.ui_url,
    )
    if cell.online and cell.client is not None and not cell.spooled:
        with contextlib.suppress(Exception):  # comparisons are a nicety, never fatal
            attach_comparisons(cell.client, result, cell.config.primary_metric)
    return result
