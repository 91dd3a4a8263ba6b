"""Read the service's prediction log and late labels for a time window."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from nbmlops.loop.config import LoopConfig, LoopError

#: columns the serving log adds around the model's inputs (never features)
META = ("timestamp", "request_id", "row", "prediction_id", "model_name", "model_version",
        "model_alias", "latency_ms", "shadow_prediction", "shadow_version", "date", "hour")


def span(text: str, what: str) -> _dt.timedelta:
    """``"7D"`` / ``"1h"`` as a timedelta (error names the key)."""
    import pandas as pd

    try:
        delta = pd.Timedelta(text).to_pytimedelta()
    except (ValueError, TypeError):
        raise LoopError(f"{what}: {text!r} is not a duration (e.g. 1D, 7D, 12h).",
                        parameter=what) from None
    if delta <= _dt.timedelta(0):
        raise LoopError(f"{what}: {text!r} must be positive.", parameter=what)
    return delta


def read_window(cfg: LoopConfig, start: _dt.datetime, end: _dt.datetime) -> Any:
    """Prediction-log rows with ``start <= time < end`` (a pandas DataFrame, maybe empty)."""
    import pandas as pd

    folder = Path(cfg.monitor.log)
    if not folder.exists():
        raise LoopError(f"monitor.log: no prediction log at {folder}.", path=str(folder))
    files = [p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_"))]
    if not files:
        return pd.DataFrame()
    frame = pd.concat([pd.read_parquet(p) for p in sorted(files)], ignore_index=True)
    t = pd.to_datetime(frame[cfg.monitor.time_column], utc=True)
    keep = (t >= pd.Timestamp(start)) & (t < pd.Timestamp(end))
    return frame.loc[keep].drop(columns=[c for c in ("date", "hour") if c in frame.columns])


def id_column(cfg: LoopConfig) -> str:
    """The key labels join on (``prediction_id`` for the serving logs)."""
    return cfg.monitor.id_column or "prediction_id"


def labels_folder(cfg: LoopConfig) -> Path:
    """The labels log (``monitor.labels``, else ``labels`` beside the prediction log)."""
    if cfg.monitor.labels:
        return Path(cfg.monitor.labels)
    return Path(cfg.monitor.log).parent / "labels"


def with_labels(cfg: LoopConfig, rows: Any) -> Any:
    """``rows`` that have a label, with the label as column ``validate.target``."""
    import pandas as pd

    key, target = id_column(cfg), cfg.validate.target
    folder = labels_folder(cfg)
    files = sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_"))) \
        if folder.exists() else []
    if rows.empty or not files:
        return rows.iloc[0:0].assign(**{target: pd.Series(dtype="float64")})
    labels = pd.concat([pd.read_parquet(p, columns=[key, "label"]) for p in files])
    labels = labels.drop_duplicates(key, keep="last").rename(columns={"label": target})
    joined = rows.drop(columns=[target], errors="ignore").merge(labels, on=key, how="inner")
    return joined


def features(frame: Any, target: str) -> Any:
    """The model's input columns and the target (log metadata and predictions left out)."""
    drop = [c for c in frame.columns if c in META or str(c).startswith("prediction")]
    out = frame.drop(columns=drop)
    if target in out.columns and out[target].dtype.kind == "f" and \
            (out[target].dropna() % 1 == 0).all():
        out[target] = out[target].astype("int64")
    return out.reset_index(drop=True)
