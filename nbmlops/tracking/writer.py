"""Write a :class:`RunRecord` to MLflow in a handful of batched calls.

One ``log_batch`` per 100 params/tags or 1000 metrics, one ``log_artifacts``
for every text artifact, one ``log_inputs`` for the datasets and one
``set_terminated``: a run costs the same few round-trips however much it
captured (mlflow#5269: one call per value is what makes logging slow).
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

from nbmlops.tracking.record import RunRecord


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
def few_retries(retries: int = 2, backoff: int = 1) -> Iterator[None]:
    """Cap MLflow's HTTP retries for our own calls.

    MLflow retries a dead server 7 times with exponential back-off (minutes);
    a notebook cell must not hang that long. A failed write is spooled instead.
    """
    keys = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(retries),
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(backoff)}
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: v for k, v in keys.items() if saved[k] is None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)


def client_for(uri: str) -> Any:
    """An ``MlflowClient`` bound to ``uri``."""
    from mlflow import MlflowClient

    from nbmlops.tracking.store import quiet_store_logs

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
    if len(params) <= 100 and len(tags) <= 100 and len(metrics) <= 800:
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
