"""One cell, one MLflow run: start, execute, capture, end — always end.

:func:`capture_run` is what ``%%mlops run`` calls (and what a script can call
directly). It

1. creates the run (tagged with the kernel's pid/session so a crashed kernel's
   runs can be swept up later, and with a *cell fingerprint* linking re-runs);
2. executes the cell exactly as IPython would (same namespace, same display of
   the last expression, the traceback shown once by IPython itself);
3. captures params, metrics, code, history, git, environment, seeds, data and
   output into a :class:`~nbmlops.run_record.RunRecord`;
4. ends the run FINISHED, FAILED (traceback artifact) or KILLED
   (KeyboardInterrupt), writing the record in a few batched calls — or
   spooling it to disk when the tracking server cannot be reached.

The user's own exception is re-raised unchanged (same object); inside IPython
it is handed to IPython's own error reporting so it is shown exactly once.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import TrackingError, UsageArgumentError
from nbmlops.run_record import RunRecord, now_ms
from nbmlops.tracking import capture, context
from nbmlops.tracking.current import dataset_entry, set_current
from nbmlops.tracking.secrets import is_secret_name, redact

STATUS_FOR = {None: "FINISHED", KeyboardInterrupt: "KILLED"}


@dataclass
class RunResult:
    """The outcome of one captured run (rendered as the run card)."""

    run_id: str
    status: str
    experiment: str
    tracking_uri: str
    run_name: str | None = None
    experiment_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    duration: float = 0.0
    spooled: bool = False
    error: BaseException | None = None
    previous: dict[str, Any] | None = None
    best: dict[str, Any] | None = None
    best_metric: str | None = None
    ui_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (the exception as its repr)."""
        d = {k: v for k, v in self.__dict__.items() if k != "error"}
        d["error"] = repr(self.error) if self.error is not None else None
        return d

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nbmlops.widgets.run_card import render_run_card

        return render_run_card(self)


@dataclass
class _Session:
    """Per-process state: caches and the one-warning-per-outage flag."""

    experiments: dict[tuple[str, str], str] = field(default_factory=dict)
    history: dict[int, str] = field(default_factory=dict)
    autolog_on: bool = False


SESSION = _Session()


def _notify(message: str) -> None:
    print(f"nbmlops: {message}", file=sys.__stderr__ if sys.stderr is None else sys.stderr)


# --------------------------------------------------------------------------- entry point
def capture_run(
    source: str,
    namespace: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    tags: dict[str, str] | None = None,
    experiment: str | None = None,
    nested: bool = False,
    seed: int | None = None,
    autolog: bool | None = None,
    metrics: list[str] | None = None,
    config: NbmlopsConfig | None = None,
    shell: Any = None,
    command: str = "",
) -> RunResult:
    """Execute ``source`` in ``namespace`` as one MLflow run and capture it.

    Parameters
    ----------
    source
        The cell's code (IPython syntax allowed when ``shell`` is given).
    namespace
        Globals to run in (default: ``shell.user_ns``, else a new dict).
    name, tags, experiment
        Run name, extra tags, experiment (default ``config.experiment``).
    nested
        Make the run a child of the active MLflow run (``NBMLOPS_PARENT_RUN_ID``
        always nests under that run).
    seed
        Seed ``random``/``numpy``/``torch`` before the cell.
    autolog
        MLflow sklearn autolog (default ``config.autolog``).
    metrics
        Restrict automatic metrics to these names.
    config
        Resolved configuration (default :func:`~nbmlops.config.load_config`).
    shell
        The IPython shell; the cell then runs through IPython's machinery.
    command
        The magic line, for the record.

    Returns
    -------
    RunResult
        Run id, status, params, metrics and comparisons.

    Raises
    ------
    BaseException
        Without ``shell``: the cell's own exception, unchanged, after the run
        is recorded FAILED/KILLED. With ``shell`` the exception goes to
        IPython's error reporting instead (shown once; the cell fails).
    """
    from nbmlops.tracking import sweep

    sweep.wait(timeout=30)
    if config is None:
        config = load_config()
    if namespace is None:
        namespace = shell.user_ns if shell is not None else {}
    if seed is not None and not isinstance(seed, int):
        raise UsageArgumentError(f"--seed must be an integer, got {seed!r}.", parameter="seed")
    py_source = shell.transform_cell(source) if shell is not None else source
    analysis = capture.analyse(py_source)
    record = RunRecord(tracking_uri=config.tracking_uri,
                       experiment=experiment or config.experiment, run_name=name)
    nb_path = context.notebook_path(shell)
    _start_tags(record, config, shell, source, py_source, nb_path, tags or {}, command, name)
    if seed is not None:
        record.tags["nbmlops.seed"] = str(seed)
        record.tags["nbmlops.seeded"] = ",".join(capture.apply_seed(seed))
    else:
        record.tags["nbmlops.rng_digest"] = capture.rng_digest()
    online, client = _begin(record, config, nested)
    use_autolog = config.autolog if autolog is None else autolog
    autologged = False
    out = err = None
    saved = sys.stdout, sys.stderr
    error: BaseException | None = None
    started = time.perf_counter()
    try:  # from here on the run is always ended, even on Ctrl-C inside our own code
        autologged = online and use_autolog and _wants_autolog(py_source)
        if autologged:
            _autolog(True)
        if config.capture_output:
            out, err = capture.Tee(sys.stdout), capture.Tee(sys.stderr)
            sys.stdout, sys.stderr = out, err
        set_current(record)
        with _autolog_warnings(autologged):
            error = _execute(shell, source, py_source, namespace)
    except BaseException as exc:  # interrupted around the cell: record it like the cell's own
        error = exc
    finally:
        sys.stdout, sys.stderr = saved
        set_current(None)
        if autologged:
            with contextlib.suppress(Exception):
                _autolog(False)
        duration = time.perf_counter() - started
        from nbmlops.mlflow_gateway import few_retries, reachable

        alive = online and reachable(config.tracking_uri)  # probed once: no retry storms
        with few_retries():
            _finish(record, config, analysis, namespace, error, duration, out, err, metrics,
                    shell, nb_path, autologged and alive, client)
            spooled = _end(record, config, online, alive, client)
    with few_retries():
        result = _result(record, config, error, duration, spooled, client if online else None)
    if error is not None and (shell is None or not _handed_to_ipython(shell, error)):
        raise error
    return result


# --------------------------------------------------------------------------- start
def fingerprint(py_source: str, notebook: str = "", name: str | None = None) -> str:
    """A stable id for "this cell": survives edits of literal values and re-runs.

    With a run name it is the notebook + name; otherwise the cell's syntax
    tree with every constant replaced by its type, so changing ``C = 0.5`` to
    ``C = 1.0`` keeps the link to earlier runs while a different cell differs.
    """
    h = hashlib.blake2b(digest_size=8)
    h.update(notebook.encode())
    if name:
        h.update(f"name:{name}".encode())
        return h.hexdigest()
    try:
        tree = ast.parse(py_source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant):
                node.value = type(node.value).__name__
        h.update(ast.dump(tree).encode())
    except SyntaxError:
        h.update(py_source.strip().encode())
    return h.hexdigest()


def _start_tags(record: RunRecord, config: NbmlopsConfig, shell: Any, source: str,
                py_source: str, nb_path: Path | None, user_tags: dict[str, str],
                command: str, name: str | None) -> None:
    nb = str(nb_path) if nb_path else ""
    body = redact(source) if config.redact_secrets else source
    note = f"`%%mlops {command}`".replace("%%mlops ", "%%mlops ", 1) if command else "nbmlops run"
    record.tags.update({
        "mlflow.source.type": "NOTEBOOK",
        "mlflow.source.name": nb or "<ipython>",
        "mlflow.note.content": f"{note}\n\n```python\n{body[:6000]}\n```",
        "nbmlops.cell.fingerprint": fingerprint(py_source, nb, name),
        "nbmlops.version": _version(),
        **context.kernel_tags(shell),
    })
    if os.environ.get("NBMLOPS_NOTEBOOK_PATH"):
        record.tags["nbmlops.batch"] = "true"
    for key, value in user_tags.items():
        if not str(key).strip():
            raise UsageArgumentError(f"empty tag name in {key}={value}.", parameter="--tags")
        record.tags[str(key)] = str(value)


def _version() -> str:
    from nbmlops._version import __version__

    return __version__


def _begin(record: RunRecord, config: NbmlopsConfig, nested: bool) -> tuple[bool, Any]:
    """Create the MLflow run and make it MLflow's active run; offline -> spool later."""
    from nbmlops.mlflow_gateway import (
        activate_run,
        client_for,
        ensure_experiment,
        few_retries,
        reachable,
    )

    parent = os.environ.get("NBMLOPS_PARENT_RUN_ID") or None
    if not reachable(config.tracking_uri):
        _notify(f"warning: tracking server {config.tracking_uri} is unreachable; the cell runs "
                f"and its run is kept in {config.path(config.spool_dir)} until `%mlops sync` "
                "(or the next run that reaches the server) uploads it.")
        record.parent_run_id = parent
        record.tags["nbmlops.offline_start"] = "true"
        return False, None
    import mlflow

    if mlflow.get_tracking_uri() != config.tracking_uri:
        mlflow.set_tracking_uri(config.tracking_uri)
    client = client_for(config.tracking_uri)
    key = (config.tracking_uri, record.experiment)
    if key not in SESSION.experiments:
        SESSION.experiments[key] = ensure_experiment(client, record.experiment,
                                                     config.artifact_root)
    record.experiment_id = SESSION.experiments[key]
    active = mlflow.active_run()
    if nested and active is None and parent is None:
        raise UsageArgumentError("--nested needs an active MLflow run to nest under "
                                 "(none is active).", parameter="--nested")
    if active is not None and not nested and parent is None:
        raise TrackingError(f"MLflow run {active.info.run_id} is already active (started "
                            "outside nbmlops); end it with mlflow.end_run() or use --nested.",
                            run_id=active.info.run_id)
    record.parent_run_id = parent or (active.info.run_id if nested and active else None)
    tags = {k: v for k, v in record.tags.items() if not k.startswith("mlflow.note")}
    if record.parent_run_id:
        tags["mlflow.parentRunId"] = record.parent_run_id
    try:
        with few_retries():
            run = _create(client, record, tags, key, config)
    except Exception as exc:  # store refused (server died between probe and call ...)
        _notify(f"warning: could not create the run in {config.tracking_uri} "
                f"({type(exc).__name__}); it is kept in {config.spool_dir} until `%mlops sync`.")
        return False, None
    record.run_id = run.info.run_id
    record.run_name = run.info.run_name
    activate_run(run)
    return True, client


def _create(client: Any, record: RunRecord, tags: dict[str, str], key: tuple[str, str],
            config: NbmlopsConfig) -> Any:
    from nbmlops.mlflow_gateway import ensure_experiment

    try:
        return client.create_run(record.experiment_id, start_time=record.start_time,
                                 tags=tags, run_name=record.run_name)
    except Exception:  # the cached experiment may have been deleted: look it up again
        record.experiment_id = SESSION.experiments[key] = ensure_experiment(
            client, record.experiment, config.artifact_root)
        return client.create_run(record.experiment_id, start_time=record.start_time,
                                 tags=tags, run_name=record.run_name)


def _wants_autolog(py_source: str) -> bool:
    return "sklearn" in sys.modules or "sklearn" in py_source


def _autolog(on: bool) -> None:
    import warnings

    import mlflow.sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if on:
            mlflow.sklearn.autolog(log_datasets=False, silent=True, log_input_examples=False)
        else:
            mlflow.sklearn.autolog(disable=True, silent=True)
    SESSION.autolog_on = on


@contextlib.contextmanager
def _autolog_warnings(autologged: bool) -> Any:
    """Hide the one FutureWarning that MLflow's sklearn autolog itself causes.

    MLflow still passes ``y_pred=`` to ``log_loss``; the user's other warnings
    are untouched.
    """
    import warnings

    with warnings.catch_warnings():
        if autologged:
            warnings.filterwarnings(
                "ignore", message=r"`y_pred` was renamed to `y_proba`", category=FutureWarning
            )
        yield


# --------------------------------------------------------------------------- execute
def _execute(shell: Any, source: str, py_source: str,
             namespace: dict[str, Any]) -> BaseException | None:
    if shell is None:
        try:
            code = compile(py_source, "<nbmlops cell>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # the user's exception: recorded, re-raised later
            return exc
        return None
    return _execute_in_shell(shell, source, py_source)


def _execute_in_shell(shell: Any, source: str, py_source: str) -> BaseException | None:
    """Run the cell through IPython's own ``run_ast_nodes``.

    The outer cell's ``ExecutionResult`` receives the error, so IPython shows
    the traceback once and marks the cell failed (papermill/nbclient see it).
    """
    from IPython.core.async_helpers import _pseudo_sync_runner
    from IPython.core.interactiveshell import ExecutionInfo, ExecutionResult

    outer = shell.displayhook.exec_result
    mine = ExecutionResult(ExecutionInfo(source, False, False, True, None))
    compiler = shell.compile
    cell_name = compiler.cache(py_source, shell.execution_count, raw_code=source)
    try:
        tree = compiler.ast_parse(py_source, filename=cell_name)
    except (SyntaxError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        shell.showsyntaxerror(filename=cell_name)
        mine.error_in_exec = exc
    else:
        tree = shell.transform_ast(tree)
        if outer is None:
            shell.displayhook.exec_result = mine
        try:
            _pseudo_sync_runner(shell.run_ast_nodes(
                tree.body, cell_name, interactivity=shell.ast_node_interactivity,
                compiler=compiler, result=mine))
        finally:
            if outer is None:
                shell.displayhook.exec_result = None
    if outer is not None:
        if mine.result is not None:
            outer.result = mine.result
        if mine.error_in_exec is not None:
            outer.error_in_exec = mine.error_in_exec
    error = mine.error_in_exec
    if error is not None and outer is not None:
        error._nbmlops_shown = True  # type: ignore[attr-defined]
    return error


def _handed_to_ipython(shell: Any, error: BaseException) -> bool:
    return bool(getattr(error, "_nbmlops_shown", False))


# --------------------------------------------------------------------------- capture
def _finish(record: RunRecord, config: NbmlopsConfig, analysis: capture.CellAnalysis,
            namespace: dict[str, Any], error: BaseException | None, duration: float,
            out: capture.Tee | None, err: capture.Tee | None, only: list[str] | None,
            shell: Any, nb_path: Path | None, autologged: bool, client: Any) -> None:
    """Fill the record after the cell ran. Never raises into the user's cell."""
    record.end_time = now_ms()
    record.status = "KILLED" if isinstance(error, KeyboardInterrupt) else (
        "FAILED" if error is not None else "FINISHED")
    red = redact if config.redact_secrets else (lambda s: s)
    steps: list[tuple[str, Callable[[], None]]] = [
        ("params", lambda: _params(record, analysis, config, autologged, client)),
        ("metrics", lambda: _metrics(record, analysis, namespace, only, config)),
        ("code", lambda: _code(record, config, shell, red, nb_path)),
        ("git", lambda: _git(record, config, nb_path, red)),
        ("env", lambda: _env(record, config)),
        ("data", lambda: _data(record, config, analysis, namespace)),
    ]
    for what, step in steps:
        try:
            step()
        except Exception as exc:  # capture is best effort; the run itself must end
            record.tags[f"nbmlops.capture_error.{what}"] = f"{type(exc).__name__}: {exc}"[:500]
    record.tags["nbmlops.duration_s"] = f"{duration:.3f}"
    if out is not None and out.getvalue():
        record.artifacts["output/stdout.txt"] = red(out.getvalue())
    if err is not None and err.getvalue():
        record.artifacts["output/stderr.txt"] = red(err.getvalue())
    if error is not None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        record.artifacts["error/traceback.txt"] = red(text)
        record.tags["nbmlops.exception"] = red(f"{type(error).__name__}: {error}")[:500]


def _params(record: RunRecord, analysis: capture.CellAnalysis, config: NbmlopsConfig,
            autologged: bool, client: Any) -> None:
    params: dict[str, str] = {}
    raw = os.environ.get("NBMLOPS_INJECTED_PARAMS")
    if raw:
        for key, value in json.loads(raw).items():
            if not (config.redact_secrets and is_secret_name(key)):
                params[str(key)] = capture.param_value(value)
    params.update(capture.literal_params(analysis, config.redact_secrets))
    params.update(record.params)  # nbmlops.log_params inside the cell
    if autologged and client is not None and record.run_id:
        logged = client.get_run(record.run_id).data.params
        params = {(f"cell.{k}" if k in logged and logged[k] != v else k): v
                  for k, v in params.items()}
    record.params = params


def _metrics(record: RunRecord, analysis: capture.CellAnalysis, namespace: dict[str, Any],
             only: list[str] | None, config: NbmlopsConfig) -> None:
    injected = set(json.loads(os.environ.get("NBMLOPS_INJECTED_PARAMS") or "{}"))
    found = capture.scalar_metrics(analysis, namespace, only=only, exclude=injected,
                                   redact_secrets=config.redact_secrets)
    if only:
        missing = [n for n in only if n not in found]
        if missing:
            record.tags["nbmlops.metrics_missing"] = ",".join(missing)
    explicit = {key for key, *_ in record.metrics}
    for key, value in found.items():
        if key not in explicit:
            record.add_metric(key, value)


def _code(record: RunRecord, config: NbmlopsConfig, shell: Any,
          red: Callable[[str], str], nb_path: Path | None) -> None:
    note = record.tags.get("mlflow.note.content", "")
    source = note.split("```python\n", 1)[-1].rsplit("\n```", 1)[0] if note else ""
    record.artifacts["code/cell.py"] = source + "\n"
    if config.capture_history and shell is not None:
        record.artifacts["code/history.py"] = red(history_script(shell))
    if nb_path is not None and nb_path.stat().st_size < 20_000_000:
        record.artifacts[f"code/{nb_path.name}"] = red(nb_path.read_text(encoding="utf-8"))


def history_script(shell: Any) -> str:
    """The cells executed in this kernel, in order, as a runnable ``.py``.

    ``%%mlops`` cells contribute their body; other IPython syntax is
    translated to Python (``get_ipython().run_line_magic(...)``).
    """
    raw = list(getattr(shell.history_manager, "input_hist_raw", []))
    parts = ["# Cells executed in this kernel, in order; In[n] is the execution count.",
             "# Generated by nbmlops. Run with `ipython history.py`.", ""]
    for count, cell in enumerate(raw):
        if not cell.strip():
            continue
        key = hash((count, cell))
        if key not in SESSION.history:
            SESSION.history[key] = _history_cell(shell, cell)
        parts.append(f"# %% In[{count}]")
        parts.append(SESSION.history[key].rstrip() + "\n")
    return "\n".join(parts) + "\n"


def _history_cell(shell: Any, cell: str) -> str:
    first, _, body = cell.partition("\n")
    if first.lstrip().startswith("%%mlops"):
        return f"# {first.strip()}\n{shell.transform_cell(body)}"
    try:
        return str(shell.transform_cell(cell))
    except Exception:  # malformed cell: keep it as a comment
        return "\n".join(f"# {line}" for line in cell.splitlines())


def _git(record: RunRecord, config: NbmlopsConfig, nb_path: Path | None,
         red: Callable[[str], str]) -> None:
    if not config.capture_git:
        return
    info = context.git_info(nb_path.parent if nb_path else Path.cwd())
    record.tags.update(info.tags())
    if info.diff:
        record.artifacts["git/diff.patch"] = red(info.diff)


def _env(record: RunRecord, config: NbmlopsConfig) -> None:
    if not config.capture_env:
        return
    env = context.environment()
    record.tags["nbmlops.python"] = env["python"]
    record.tags["nbmlops.platform"] = env["platform"]
    record.artifacts["env/requirements.txt"] = env["requirements"]
    record.artifacts["env/python.json"] = json.dumps(
        {k: v for k, v in env.items() if k != "requirements"}, indent=1)


def _data(record: RunRecord, config: NbmlopsConfig, analysis: capture.CellAnalysis,
          namespace: dict[str, Any]) -> None:
    if not config.capture_data:
        return
    from nbmlops.hashing import frame_digest

    known = {d["name"] for d in record.datasets}
    for var, frame in capture.frames_read(analysis, namespace).items():
        if var in known:
            continue
        record.datasets.append(dataset_entry(var, frame_digest(frame), f"variable://{var}",
                                             "input", df=frame))


# --------------------------------------------------------------------------- end
def _end(record: RunRecord, config: NbmlopsConfig, online: bool, alive: bool,
         client: Any) -> bool:
    """Write the record (or spool it). Returns ``True`` when spooled."""
    from nbmlops.mlflow_gateway import deactivate_run, write
    from nbmlops.tracking import spool

    if online:
        deactivate_run(record.run_id)
    if alive:
        try:
            write(client, record, config.artifact_root)
        except Exception as exc:  # store failed mid-write: keep everything on disk
            _notify(f"warning: could not write run {record.id} to {config.tracking_uri} "
                    f"({type(exc).__name__}); kept in {config.spool_dir}, `%mlops sync` "
                    "uploads it.")
        else:
            if spool.pending(config.path(config.spool_dir)):
                result = spool.sync(config)
                if result.uploaded:
                    _notify(f"uploaded {len(result.uploaded)} run(s) spooled while offline.")
            return False
    elif online:
        _notify(f"warning: tracking server {config.tracking_uri} went away during the run; "
                f"run {record.id} is kept in {config.spool_dir}; `%mlops sync` uploads it.")
    spool.spool(record, config.path(config.spool_dir), config.artifact_root)
    return True


def _result(record: RunRecord, config: NbmlopsConfig, error: BaseException | None,
            duration: float, spooled: bool, client: Any) -> RunResult:
    from nbmlops.tracking.query import compare

    result = RunResult(
        run_id=record.id, status=record.status, experiment=record.experiment,
        tracking_uri=record.tracking_uri, run_name=record.run_name,
        experiment_id=record.experiment_id, params=dict(record.params),
        metrics=record.latest_metrics(), tags=dict(record.tags), datasets=list(record.datasets),
        duration=duration, spooled=spooled, error=error, ui_url=config.ui_url,
    )
    if client is not None and not spooled:
        with contextlib.suppress(Exception):  # comparisons are a nicety, never fatal
            compare(client, result)
    return result
