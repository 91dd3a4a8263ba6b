"""The one MLflow gateway: every MLflow read and write of nbmlops goes through here.

One client policy for the whole package:

- :func:`client_for` gives an ``MlflowClient`` bound to a URI with MLflow's
  store-creation INFO logs kept out of notebook cells;
- :func:`few_retries` caps MLflow's HTTP retries (7 with exponential back-off
  by default, minutes against a dead server) for every call nbmlops makes;
- :func:`reachable` probes ``/health`` before work that would otherwise hang;
- :func:`write` logs a whole :class:`~nbmlops.run_record.RunRecord` in a
  handful of batched calls (one ``log_batch`` per 100 params/tags or 1000
  metrics, one ``log_artifacts``, one ``log_inputs``, one ``set_terminated``:
  mlflow#5269, one call per value is what makes logging slow).

No library code uses the fluent ``mlflow.start_run``: it keeps one active run
per thread and collides with an active ``%%mlops run`` cell. The only MLflow
internals nbmlops touches are in the "private MLflow internals" section at
the end, each with the reason; ``tests/test_mlflow_gateway.py`` fails loudly
if MLflow changes them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.run_record import RunRecord

#: MLflow loggers whose INFO lines ("Creating initial MLflow database tables...",
#: alembic migrations) would land in the user's cell output on a new SQLite store
_NOISY_LOGGERS = ("mlflow.store.db.utils", "alembic.runtime.migration", "alembic")


def quiet_store_logs() -> None:
    """Keep MLflow's store-creation INFO lines out of notebook cells (warnings stay)."""
    import logging

    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def is_remote(uri: str) -> bool:
    """``True`` for tracking URIs that reach a server over the network."""
    return uri.startswith(("http://", "https://"))


def reachable(uri: str, timeout: float = 2.0) -> bool:
    """Whether the tracking store answers (``/health`` for servers; local: always)."""
    if not is_remote(uri):
        return True
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


@contextlib.contextmanager
def few_retries(retries: int = 2, backoff: int = 1,
                timeout: float | None = None) -> Iterator[None]:
    """Cap MLflow's HTTP retries (and, with ``timeout``, each request's seconds).

    MLflow retries a dead server 7 times with exponential back-off and waits
    120 s per request (minutes against a dead or frozen server); a notebook
    cell must not hang that long. A failed write is spooled instead. Values
    the user set in the environment are kept.
    """
    keys = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(backoff),
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0"}
    if timeout is not None:
        keys["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(max(1, round(timeout)))
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: v for k, v in keys.items() if saved[k] is None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)


def user_caps(timeout: float) -> contextlib.AbstractContextManager[None]:
    """The same caps for the user's own ``mlflow.*`` calls (and autolog) inside a cell.

    MLflow reads these environment variables at each request, so a cell that
    calls ``mlflow.log_metric`` against a dead server fails in seconds instead
    of ~4 minutes of retries.
    """
    return few_retries(retries=2, backoff=1, timeout=timeout)


def client_for(uri: str) -> Any:
    """An ``MlflowClient`` bound to ``uri``."""
    from mlflow import MlflowClient

    quiet_store_logs()
    return MlflowClient(tracking_uri=uri)


def ensure_experiment(client: Any, name: str, artifact_root: str | None = None) -> str:
    """Id of experiment ``name`` in ``client``'s store, created when missing."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        return str(exp.experiment_id)
    location = None
    if artifact_root and not is_remote(client.tracking_uri):
        location = Path(artifact_root, name).resolve().as_uri()
    return str(client.create_experiment(name, artifact_location=location))


def create_run(client: Any, record: RunRecord, artifact_root: str | None = None) -> str:
    """Create the MLflow run for ``record`` (offline-started runs, at sync)."""
    if record.experiment_id is None:
        record.experiment_id = ensure_experiment(client, record.experiment, artifact_root)
    tags = dict(record.tags)
    if record.parent_run_id:
        tags["mlflow.parentRunId"] = record.parent_run_id
    run = client.create_run(record.experiment_id, start_time=record.start_time, tags=tags,
                            run_name=record.run_name)
    record.run_id = run.info.run_id
    return str(record.run_id)


def write(client: Any, record: RunRecord, artifact_root: str | None = None,
          terminate: bool = True) -> str:
    """Log everything in ``record`` to its run (created if needed); return the run id."""
    with few_retries():
        return _write(client, record, artifact_root, terminate)


def _write(client: Any, record: RunRecord, artifact_root: str | None, terminate: bool) -> str:
    from mlflow.entities import Metric, Param, RunTag

    run_id = record.run_id or create_run(client, record, artifact_root)
    params = [Param(k, v) for k, v in record.params.items()]
    tags = [RunTag(k, str(v)[:8000]) for k, v in record.tags.items()]
    metrics = [Metric(k, v, ts, step) for k, v, ts, step in record.metrics]
    if not (params or tags or metrics):
        pass  # nothing to log: no store round trip
    elif len(params) <= 100 and len(tags) <= 100 and len(metrics) <= 800:
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags, synchronous=True)
    else:  # MLflow's batch limits: 100 params, 100 tags, 1000 entities per call
        for i in range(0, len(params), 100):
            client.log_batch(run_id, params=params[i : i + 100], synchronous=True)
        for i in range(0, len(tags), 100):
            client.log_batch(run_id, tags=tags[i : i + 100], synchronous=True)
        for i in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[i : i + 1000], synchronous=True)
    if record.artifacts:
        with tempfile.TemporaryDirectory(prefix="nbmlops-art-") as tmp:
            for rel, text in record.artifacts.items():
                path = Path(tmp, rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
            client.log_artifacts(run_id, tmp)
    if record.datasets:
        client.log_inputs(run_id, datasets=[_dataset_input(d) for d in record.datasets])
    if terminate:
        client.set_terminated(run_id, record.status, end_time=record.end_time)
    return str(run_id)


def _dataset_input(entry: dict[str, Any]) -> Any:
    from mlflow.entities import Dataset, DatasetInput, InputTag

    ds = Dataset(entry["name"], entry["digest"], entry["source_type"], entry["source"],
                 schema=entry.get("schema"), profile=entry.get("profile"))
    return DatasetInput(ds, tags=[InputTag("mlflow.data.context", entry.get("context", ""))])


def use_store(config: NbmlopsConfig, experiment: str | None = None) -> str:
    """Point MLflow at the configured store and return the experiment id.

    Parameters
    ----------
    config
        The resolved configuration.
    experiment
        Experiment name; default ``config.experiment``.

    Returns
    -------
    str
        The MLflow experiment id (created when missing).
    """
    import mlflow

    client = client_for(config.tracking_uri)  # also quiets store-creation logs
    mlflow.set_tracking_uri(config.tracking_uri)
    exp_id = ensure_experiment(client, experiment or config.experiment, config.artifact_root)
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id


def log_params(client: Any, run_id: str, params: dict[str, str]) -> None:
    """Log ``params`` to run ``run_id`` in batches of 100."""
    from mlflow.entities import Param

    items = [Param(k, v) for k, v in params.items()]
    with few_retries():
        for i in range(0, len(items), 100):
            client.log_batch(run_id, params=items[i : i + 100], synchronous=True)


def log_tree(client: Any, run_id: str, folder: Path) -> None:
    """Upload the files under ``folder`` as artifacts of run ``run_id`` (same layout)."""
    with few_retries():
        client.log_artifacts(run_id, str(folder))


def log_files(client: Any, run_id: str, paths: list[Path]) -> None:
    """Upload existing files as artifacts at the root of run ``run_id`` (missing ones skipped).

    For files written by someone else (an executed notebook, its metrics
    file), uploaded as they are on disk; :func:`write` takes text artifacts.
    """
    with few_retries():
        for path in paths:
            if Path(path).is_file():
                client.log_artifact(run_id, str(path))


def frame_schema(df: Any, name: str, digest: str) -> str | None:
    """MLflow's own JSON schema of a pandas frame (as a dataset input records it), or None.

    Schema inference is best effort: exotic dtypes give ``None``, never an error.
    """
    import warnings

    try:
        from mlflow.data.pandas_dataset import from_pandas

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            schema = from_pandas(df, name=name, digest=digest).to_dict().get("schema")
    except Exception:
        return None
    return None if schema is None else str(schema)


def set_sklearn_autolog(on: bool) -> None:
    """Switch MLflow's sklearn autolog on or off, silently (no datasets, no input examples).

    While it is on, the autologged model's requirements are the ones nbmlops
    knows (see :func:`known_requirements`) instead of MLflow's inference,
    which loads the model in a fresh Python subprocess (seconds per fit).
    """
    import warnings

    import mlflow.sklearn

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if on:
            _use_known_requirements(True)
            mlflow.sklearn.autolog(log_datasets=False, silent=True, log_input_examples=False)
        else:
            mlflow.sklearn.autolog(disable=True, silent=True)
            _use_known_requirements(False)


# ---------------------------------------------------------------- the fluent API's state
# A ``%%mlops run`` cell shares the process with the user's own ``mlflow.*`` calls:
# these point MLflow's fluent API at the configured store and read its active run.


def use_fluent_uri(uri: str) -> None:
    """Point the fluent API (``mlflow.log_metric`` in the user's cell, autolog) at ``uri``."""
    import mlflow

    if mlflow.get_tracking_uri() != uri:
        mlflow.set_tracking_uri(uri)


def fluent_active_run() -> Any:
    """The fluent API's active run (started by the user or by a cell), or None."""
    import mlflow

    return mlflow.active_run()


# ---------------------------------------------------------------- private MLflow internals
# MLflow keeps the fluent API's active run in ``mlflow.tracking.fluent``'s
# context variables. A ``%%mlops run`` cell creates its run with the client
# (explicit ids, no thread-bound state), then makes it the fluent active run so
# that the user's own ``mlflow.log_metric`` and sklearn autolog inside the cell
# log to it, and removes it again at the cell's end. MLflow has no public API
# for "make this existing run active without starting it" (``start_run(run_id)``
# would also mark it RUNNING again and log system tags). Checked against MLflow
# 3.9 to 3.17; tests/test_mlflow_gateway.py fails if the names go away.


_INFER: list[Any] = []


def known_requirements(model_uri: str, flavor: str, fallback: list[str] | None = None,
                       **_: Any) -> list[str]:
    """The requirements of an autologged model, without MLflow's inference subprocess.

    MLflow passes ``fallback``: the flavor's own pinned requirements
    (``scikit-learn==<installed>``, ``cloudpickle==<installed>``); MLflow adds
    ``mlflow==<installed>`` itself. The run's ``env/requirements.txt`` (nbmlops'
    capture of the whole environment) holds everything else installed.
    """
    return list(fallback or [])


def _use_known_requirements(on: bool) -> None:
    """Swap ``mlflow.models.infer_pip_requirements`` while nbmlops' autolog is on.

    MLflow's sklearn flavor looks the function up at call time
    (``mlflow.models.infer_pip_requirements(path, "sklearn", fallback=...)``);
    nothing else changes. Checked against MLflow 3.17.
    """
    import mlflow.models

    if on and not _INFER:
        _INFER.append(mlflow.models.infer_pip_requirements)
        mlflow.models.infer_pip_requirements = known_requirements  # type: ignore[assignment]
    elif not on and _INFER:
        mlflow.models.infer_pip_requirements = _INFER.pop()


def activate_run(run: Any) -> None:
    """Make the MLflow ``run`` (already created) the fluent API's active run."""
    from mlflow.tracking import fluent

    fluent._active_run_stack.get().append(fluent.ActiveRun(run))


def deactivate_run(run_id: str | None) -> None:
    """Remove run ``run_id`` from the fluent API's active-run stack (not ending it)."""
    from mlflow.tracking import fluent

    stack = fluent._active_run_stack.get()
    for run in list(stack):
        if run.info.run_id == run_id:
            stack.remove(run)
    fluent._last_active_run_id.set(run_id)
