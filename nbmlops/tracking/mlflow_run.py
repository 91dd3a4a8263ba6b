"""The MLflow run of a captured cell: create it, make it active, end it (or spool it).

Clients and the fluent active-run internals come from
:mod:`nbmlops.mlflow_gateway`; this module decides *when*: create before the
cell (tagged, nested when asked), activate it so the user's own
``mlflow.log_*`` and sklearn autolog land in it, deactivate and write the
whole record after the cell, spool it when the store cannot be reached.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.exceptions import TrackingError, UsageArgumentError
from nbmlops.mlflow_gateway import (
    activate_run,
    client_for,
    deactivate_run,
    ensure_experiment,
    few_retries,
    fluent_active_run,
    reachable,
    use_fluent_uri,
    write,
)
from nbmlops.run_record import RunRecord
from nbmlops.tracking import spool
from nbmlops.tracking.session import SESSION


def notify(message: str) -> None:
    """One ``nbmlops: ...`` line on stderr (the real one when a cell swapped it)."""
    print(f"nbmlops: {message}", file=sys.__stderr__ if sys.stderr is None else sys.stderr)


# --------------------------------------------------------------------------- begin
def begin(record: RunRecord, config: NbmlopsConfig, nested: bool) -> tuple[bool, Any]:
    """Create the MLflow run and make it MLflow's active run; offline -> spool later.

    Returns
    -------
    tuple
        ``(online, client)``: ``online`` is ``False`` (and ``client`` ``None``)
        when the run will be spooled instead.
    """
    parent = os.environ.get("NBMLOPS_PARENT_RUN_ID") or None
    if not reachable(config.tracking_uri):
        notify(f"warning: tracking server {config.tracking_uri} is unreachable; the cell runs "
               f"and its run is kept in {config.path(config.spool_dir)} until `%mlops sync` "
               "(or the next run that reaches the server) uploads it.")
        record.parent_run_id = parent
        record.tags["nbmlops.offline_start"] = "true"
        return False, None
    use_fluent_uri(config.tracking_uri)
    client = client_for(config.tracking_uri)
    key = (config.tracking_uri, record.experiment)
    if key not in SESSION.experiments:
        SESSION.experiments[key] = ensure_experiment(client, record.experiment,
                                                     config.artifact_root)
    record.experiment_id = SESSION.experiments[key]
    record.parent_run_id = _parent(fluent_active_run(), nested, parent)
    # every start tag, the note too, in the one create call (MLflow's 8000-char tag limit)
    tags = {k: str(v)[:8000] for k, v in record.tags.items()}
    if record.parent_run_id:
        tags["mlflow.parentRunId"] = record.parent_run_id
    try:
        with few_retries():
            run = _create(client, record, tags, config)
    except Exception as exc:  # store refused (server died between probe and call ...)
        notify(f"warning: could not create the run in {config.tracking_uri} "
               f"({type(exc).__name__}); it is kept in {config.spool_dir} until `%mlops sync`.")
        return False, None
    record.run_id = run.info.run_id
    record.run_name = run.info.run_name
    activate_run(run)
    return True, client


def _parent(active: Any, nested: bool, parent: str | None) -> str | None:
    """The parent run id: the batch run, else the active run when ``nested``."""
    if nested and active is None and parent is None:
        raise UsageArgumentError("--nested needs an active MLflow run to nest under "
                                 "(none is active).", parameter="--nested")
    if active is not None and not nested and parent is None:
        raise TrackingError(f"MLflow run {active.info.run_id} is already active (started "
                            "outside nbmlops); end it with mlflow.end_run() or use --nested.",
                            run_id=active.info.run_id)
    return parent or (active.info.run_id if nested and active else None)


def _create(client: Any, record: RunRecord, tags: dict[str, str],
            config: NbmlopsConfig) -> Any:
    try:
        return client.create_run(record.experiment_id, start_time=record.start_time,
                                 tags=tags, run_name=record.run_name)
    except Exception:  # the cached experiment may have been deleted: look it up again
        key = (config.tracking_uri, record.experiment)
        record.experiment_id = SESSION.experiments[key] = ensure_experiment(
            client, record.experiment, config.artifact_root)
        return client.create_run(record.experiment_id, start_time=record.start_time,
                                 tags=tags, run_name=record.run_name)


# --------------------------------------------------------------------------- autolog
def wants_autolog(py_source: str) -> bool:
    """Whether sklearn is in play (imported already, or by this cell)."""
    return "sklearn" in sys.modules or "sklearn" in py_source


@contextlib.contextmanager
def autolog_warnings(autologged: bool) -> Iterator[None]:
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


# --------------------------------------------------------------------------- end
def end(record: RunRecord, config: NbmlopsConfig, online: bool, alive: bool,
        client: Any, files: Path | None = None) -> bool:
    """Write the record (or spool it); ``True`` when spooled. See :func:`deactivate`."""
    if alive:
        try:
            write(client, record, config.artifact_root)
        except Exception as exc:  # store failed mid-write: keep everything on disk
            notify(f"warning: could not write run {record.id} to {config.tracking_uri} "
                   f"({type(exc).__name__}); kept in {config.spool_dir}, `%mlops sync` "
                   "uploads it.")
        else:
            _upload_spooled(config)
            return False
    elif online:
        notify(f"warning: tracking server {config.tracking_uri} went away during the run; "
               f"run {record.id} is kept in {config.spool_dir}; `%mlops sync` uploads it.")
    spool.spool(record, config.path(config.spool_dir), config.artifact_root, files=files)
    return True


def deactivate(run_id: str | None) -> None:
    """The cell's run stops being MLflow's active run (in the thread that activated it)."""
    deactivate_run(run_id)


def _upload_spooled(config: NbmlopsConfig) -> None:
    """The server is back: upload runs spooled while it was not."""
    if spool.pending(config.path(config.spool_dir)):
        result = spool.sync(config, wait=0)  # another sync running: it uploads them
        if result.uploaded:
            notify(f"uploaded {len(result.uploaded)} run(s) spooled while offline.")


# --------------------------------------------------------------------------- start / bounded end
def write_start(record: RunRecord, client: Any, config: NbmlopsConfig, params: bool) -> None:
    """Write what is known at the run's start: params, cell source, git diff, env.

    The tags (the note too) went with the run's creation (:func:`begin`).

    A kernel SIGKILLed or OOM-killed mid-cell cannot write anything later; the
    reaper then marks the run KILLED and it still holds these. Params are left
    for the end when autolog runs (autolog logs the estimator's own values
    under the same names; the cell's go under ``cell.<name>`` on a clash);
    the reaper promotes them from the ``nbmlops.start_params`` tag.
    """
    start = RunRecord(tracking_uri=record.tracking_uri, experiment=record.experiment,
                      experiment_id=record.experiment_id, run_id=record.run_id,
                      params=dict(record.params) if params else {},
                      artifacts=dict(record.artifacts))
    try:
        with few_retries(timeout=config.http_timeout):
            write(client, start, config.artifact_root, terminate=False)
    except Exception:  # the end writes (or spools) everything anyway
        return
    for key in start.artifacts:
        record.artifacts.pop(key, None)


def bounded(final: Callable[[], bool], record: RunRecord, config: NbmlopsConfig,
            online: bool, files: Path | None = None) -> bool:
    """Run the final write ``final`` for at most ``config.final_write_timeout`` seconds.

    Past the deadline (a frozen or hung server) the run is spooled as it is
    and the cell returns; ``%mlops sync`` uploads it later. Returns whether
    the run was spooled.
    """
    if not online:
        return final()
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["spooled"] = final()
        except BaseException as exc:  # reported below
            box["error"] = exc

    worker = threading.Thread(target=work, name="nbmlops-final-write", daemon=True)
    worker.start()
    worker.join(float(config.final_write_timeout))
    if "spooled" in box:
        return bool(box["spooled"])
    if worker.is_alive():
        notify(f"warning: tracking server {config.tracking_uri} did not answer within "
               f"{float(config.final_write_timeout):g} s (final_write_timeout); run "
               f"{record.id} is kept in {config.spool_dir}; `%mlops sync` uploads it.")
    else:
        notify(f"warning: could not write run {record.id} ({type(box.get('error')).__name__});"
               f" kept in {config.spool_dir}, `%mlops sync` uploads it.")
    _spool_snapshot(record, config, files)
    return True


def _spool_snapshot(record: RunRecord, config: NbmlopsConfig, files: Path | None) -> None:
    for _ in range(20):  # the abandoned writer may still touch the record
        try:
            spool.spool(record, config.path(config.spool_dir), config.artifact_root, files=files)
            return
        except RuntimeError:
            time.sleep(0.05)


# --------------------------------------------------------------------------- offline shadow run
@dataclass
class Shadow:
    """A local run standing in for the server's while offline (the user's own MLflow calls)."""

    client: Any
    run: Any


def open_shadow(record: RunRecord, config: NbmlopsConfig) -> Shadow | None:
    """Offline: a run in a local SQLite store that the user's ``mlflow.*`` calls and autolog hit.

    What they log there is moved into the spooled record when the cell ends
    (:func:`close_shadow`), so it reaches the server at ``%mlops sync``.
    """
    folder = config.path(".nbmlops")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        client = client_for(f"sqlite:///{folder / 'offline.db'}")
        exp = ensure_experiment(client, record.experiment, str(folder / "offline-artifacts"))
        run = client.create_run(exp, tags={"nbmlops.offline_for": record.local_id})
    except Exception as exc:  # no shadow: the user's calls fail fast (capped) instead
        notify(f"warning: no local stand-in run for your own mlflow calls ({exc}).")
        return None
    use_fluent_uri(client.tracking_uri)
    activate_run(run)
    return Shadow(client, run)


def close_shadow(shadow: Shadow, record: RunRecord, config: NbmlopsConfig) -> Path | None:
    """Move what was logged to the shadow run into ``record``; its artifact folder."""
    run_id = shadow.run.info.run_id
    deactivate_run(run_id)
    use_fluent_uri(config.tracking_uri)
    data = shadow.client.get_run(run_id).data
    for key in data.metrics:
        for m in shadow.client.get_metric_history(run_id, key):
            record.metrics.append((m.key, m.value, m.timestamp, m.step))
    cell = dict(record.params)
    record.params = dict(data.params)
    record.params.update({(f"cell.{k}" if k in data.params and data.params[k] != v else k): v
                          for k, v in cell.items()})
    for key, value in data.tags.items():
        if not key.startswith("mlflow.") or key == "mlflow.log-model.history":
            record.tags.setdefault(key, value)
    uri = str(shadow.run.info.artifact_uri)
    path = Path(uri[len("file://"):]) if uri.startswith("file://") else Path(uri)
    return path if path.is_dir() and any(path.iterdir()) else None
