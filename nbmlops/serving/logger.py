"""The prediction log and the labels log: what ``nbmlops serve`` writes, usable on its own.

One prediction log row = the model's input columns, its prediction column(s)
(``prediction`` for one output, ``prediction_<name>`` for several; a shadow
model's as ``shadow_prediction…``), then ``timestamp`` (UTC), ``request_id``,
``row`` (position in the request), ``prediction_id`` (``request_id/row``, the
key labels join on), ``model_name``, ``model_version``, ``model_alias`` and
``latency_ms``. The labels log (``request_id``, ``row``, ``prediction_id``,
``label``, ``timestamp``) lives in a sibling folder (``logs/predictions`` →
``logs/labels``). Both are hour-partitioned Parquet (:mod:`nbmlops.serving.writer`).

>>> logger = PredictionLogger("logs/predictions")                      # doctest: +SKIP
>>> logger.log(features_df, predictions, model="fraud", version=7)     # doctest: +SKIP
>>> logger.close()                                                     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.serving.writer import LogWriter, WriterOptions, hour_dir

#: columns nbmlops adds after the input and prediction columns
META_COLUMNS = ("timestamp", "request_id", "row", "prediction_id", "model_name", "model_version",
                "model_alias", "latency_ms")


def labels_dir(log_dir: str | os.PathLike[str]) -> Path:
    """The labels folder beside a prediction log: ``logs/predictions`` -> ``logs/labels``."""
    path = Path(log_dir).absolute()
    return path.parent / "labels"


@dataclass
class RowMeta:
    """Who served a batch of rows, and when (one request)."""

    request_id: str
    model_name: str = ""
    model_version: str = ""
    model_alias: str = ""
    latency_ms: float | None = None
    timestamp: _dt.datetime | None = None


def prediction_columns(predictions: Any, prefix: str = "prediction") -> dict[str, Any]:
    """Named 1-D columns of a model output (array, list, Series, DataFrame or dict)."""
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        if predictions.shape[1] == 1:
            return {prefix: predictions.iloc[:, 0].to_numpy()}
        return {f"{prefix}_{c}": predictions[c].to_numpy() for c in predictions.columns}
    if isinstance(predictions, pd.Series):
        return {prefix: predictions.to_numpy()}
    if isinstance(predictions, dict):
        return {f"{prefix}_{k}": np.asarray(v) for k, v in predictions.items()}
    arr = np.asarray(predictions)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 2:
        return {f"{prefix}_{i}": arr[:, i] for i in range(arr.shape[1])}
    return {prefix: arr}


def rows_table(features: Any, predictions: dict[str, Any], meta: RowMeta,
               versions: list[str] | None = None) -> Any:
    """One request's log rows as an Arrow table (``versions``: the serving version per row)."""
    import numpy as np
    import pyarrow as pa

    table = pa.Table.from_pandas(features, preserve_index=False)
    n = table.num_rows
    for name, values in predictions.items():
        arr = np.asarray(values)
        table = table.append_column(name, pa.array(arr if arr.dtype != object else list(arr)))
    ts = meta.timestamp or _dt.datetime.now(_dt.timezone.utc)
    rows = np.arange(n, dtype="int64")
    extra = {
        "timestamp": pa.array([ts] * n, pa.timestamp("us", tz="UTC")),
        "request_id": pa.array([meta.request_id] * n, pa.string()),
        "row": pa.array(rows),
        "prediction_id": pa.array([f"{meta.request_id}/{i}" for i in range(n)], pa.string()),
        "model_name": pa.array([meta.model_name] * n, pa.string()),
        "model_version": pa.array(versions or [meta.model_version] * n, pa.string()),
        "model_alias": pa.array([meta.model_alias] * n, pa.string()),
        "latency_ms": pa.array([meta.latency_ms] * n, pa.float64()),
    }
    for name, col in extra.items():
        if name in table.column_names:  # an input column of the same name keeps its place
            name = f"_{name}"
        table = table.append_column(name, col)
    return table


class PredictionLogger:
    """Log features and predictions to an hour-partitioned Parquet folder (for any server).

    Parameters
    ----------
    log_dir
        The prediction log folder (created; must be writable).
    options
        Batching and back-pressure (:class:`~nbmlops.serving.writer.WriterOptions`).
    model, version, alias
        Defaults for :meth:`log`.

    Examples
    --------
    >>> with PredictionLogger("logs/predictions", model="fraud", version=7) as logger:
    ...     rid = logger.log(features_df, model.predict(features_df))  # doctest: +SKIP
    """

    def __init__(self, log_dir: str | os.PathLike[str], options: WriterOptions | None = None,
                 *, model: str = "", version: str | int = "", alias: str = "") -> None:
        self.writer = LogWriter(log_dir, options, meta={"model_name": model})
        self.defaults = RowMeta("", str(model), str(version), str(alias))

    def log(self, features: Any, predictions: Any, **meta: Any) -> str:
        """Queue one batch of rows; return its request id.

        Parameters
        ----------
        features
            The model input (pandas DataFrame, or anything ``pandas.DataFrame()`` takes).
        predictions
            The model output for those rows.
        **meta
            ``model``, ``version``, ``alias``, ``request_id``, ``latency_ms``,
            ``timestamp`` (a UTC datetime) of these rows.
        """
        import pandas as pd

        frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
        m = RowMeta(str(meta.get("request_id") or uuid.uuid4().hex),
                    str(meta.get("model", self.defaults.model_name)),
                    str(meta.get("version", self.defaults.model_version)),
                    str(meta.get("alias", self.defaults.model_alias)),
                    meta.get("latency_ms"), meta.get("timestamp"))
        table = rows_table(frame, prediction_columns(predictions), m)
        self.writer.put(table, hour_dir(m.timestamp) if m.timestamp else None)
        return m.request_id

    def flush(self, timeout: float = 30.0) -> bool:
        """Write every queued row now; True when all were written."""
        return self.writer.flush(timeout)

    def close(self) -> bool:
        """Flush and stop the background writer."""
        return self.writer.close()

    def __enter__(self) -> PredictionLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class LabelLog:
    """Late labels keyed by request id, in the labels folder beside the prediction log."""

    def __init__(self, folder: str | os.PathLike[str], max_age: float = 1.0) -> None:
        self.writer = LogWriter(folder, WriterOptions(batch_rows=1000, max_age=max_age))
        self.label_type: str | None = None

    def add(self, items: list[dict[str, Any]]) -> int:
        """Queue labels ``{"request_id", "label", "row"?}``; return how many.

        Raises
        ------
        ValueError
            Naming the field that is missing or of the wrong type.
        """
        import pyarrow as pa

        ids, rows, labels = [], [], []
        for i, item in enumerate(items):
            if not isinstance(item, dict) or "request_id" not in item or "label" not in item:
                raise ValueError(f"item {i}: needs 'request_id' and 'label'")
            row = item.get("row", 0)
            if not isinstance(row, int) or isinstance(row, bool) or row < 0:
                raise ValueError(f"item {i}: 'row' must be a non-negative integer")
            ids.append(str(item["request_id"]))
            rows.append(row)
            labels.append(item["label"])
        label_arr = self._labels(labels)
        now = _dt.datetime.now(_dt.timezone.utc)
        table = pa.table({
            "request_id": pa.array(ids, pa.string()), "row": pa.array(rows, pa.int64()),
            "prediction_id": pa.array([f"{r}/{w}" for r, w in zip(ids, rows, strict=True)]),
            "label": label_arr,
            "timestamp": pa.array([now] * len(ids), pa.timestamp("us", tz="UTC"))})
        self.writer.put(table)
        return len(ids)

    def _labels(self, labels: list[Any]) -> Any:
        """Numbers as float64, text as string; one type per log (checked)."""
        import pyarrow as pa

        kinds = {"string" if isinstance(x, str) else "number" if isinstance(x, int | float)
                 else "bad" for x in labels if x is not None}
        if "bad" in kinds or len(kinds) > 1 or (self.label_type and kinds - {self.label_type}):
            want = self.label_type or "all numbers or all strings"
            raise ValueError(f"'label' values must be {want}")
        if kinds:
            self.label_type = kinds.pop()
        typ = pa.string() if self.label_type == "string" else pa.float64()
        return pa.array([None if x is None else (x if typ == pa.string() else float(x))
                         for x in labels], typ)
