"""The run of the ``%%mlops run`` cell that is executing right now.

Other areas (snapshots, drift) attach things to the current run through this
module without knowing how runs are created::

    from nbmlops.tracking.current import active_run_id, log_dataset
    if active_run_id():
        log_dataset("train", digest, "data/snapshots/train.parquet", "training")

Everything logged here is kept on the run's :class:`RunRecord` and written
with the rest of the run when the cell ends, so it is spooled with the run
when the tracking server is unreachable.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from nbmlops.run_record import RunRecord

_lock = threading.Lock()
_current: RunRecord | None = None


def active_run_id() -> str | None:
    """Id of the run of the currently executing ``%%mlops run`` cell.

    Returns
    -------
    str or None
        The MLflow run id (or nbmlops' local id while offline), ``None``
        when no ``%%mlops run`` cell is executing.
    """
    run = _current
    return run.id if run is not None else None


def current_record() -> RunRecord | None:
    """The :class:`RunRecord` being captured, or ``None``."""
    return _current


def set_current(record: RunRecord | None) -> None:
    """Make ``record`` the current run (``None`` clears it). Used by the lifecycle."""
    global _current
    with _lock:
        _current = record


def log_dataset(
    name: str,
    digest: str,
    source: str,
    context: str,
    schema: dict[str, Any] | str | None = None,
    profile: dict[str, Any] | str | None = None,
    df: Any = None,
) -> bool:
    """Attach a dataset input to the current run.

    Parameters
    ----------
    name
        Dataset name shown by MLflow (e.g. the snapshot name).
    digest
        Full-content digest (e.g. :func:`nbmlops.hashing.frame_digest` or a DVC md5).
    source
        Where the data lives (a path or URI).
    context
        MLflow's ``mlflow.data.context`` input tag (``training``, ``reference`` ...).
    schema, profile
        Optional JSON-able descriptions; computed from ``df`` when given.
    df
        The pandas DataFrame itself, to let MLflow derive schema and profile.

    Returns
    -------
    bool
        ``True`` when logged, ``False`` when no ``%%mlops run`` cell is running.
    """
    run = _current
    if run is None:
        return False
    entry = dataset_entry(name, digest, source, context, schema=schema, profile=profile, df=df)
    with _lock:
        run.datasets = [d for d in run.datasets if (d["name"], d["digest"]) != (name, digest)]
        run.datasets.append(entry)
    return True


def dataset_entry(
    name: str,
    digest: str,
    source: str,
    context: str,
    schema: dict[str, Any] | str | None = None,
    profile: dict[str, Any] | str | None = None,
    df: Any = None,
) -> dict[str, Any]:
    """Build the JSON-able description of one dataset input."""
    source_type, source_json = _source(source)
    if df is not None and (schema is None or profile is None):
        auto_schema, auto_profile = _frame_schema_profile(df, name, digest, source)
        schema = schema if schema is not None else auto_schema
        profile = profile if profile is not None else auto_profile
    return {
        "name": str(name),
        "digest": str(digest),
        "source_type": source_type,
        "source": source_json,
        "schema": _as_json(schema),
        "profile": _as_json(profile),
        "context": str(context),
    }


def _as_json(value: dict[str, Any] | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def _source(source: str) -> tuple[str, str]:
    text = str(source)
    scheme = text.split("://", 1)[0] if "://" in text else "local"
    return scheme, json.dumps({"uri": text})


def _frame_schema_profile(df: Any, name: str, digest: str, source: str) -> tuple[str | None, str]:
    from nbmlops.mlflow_gateway import frame_schema

    profile = json.dumps({"num_rows": int(df.shape[0]), "num_elements": int(df.size)})
    return frame_schema(df, name, digest), profile
