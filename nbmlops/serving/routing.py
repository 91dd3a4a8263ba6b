"""Which model scores a request: the alias's version, a canary share, a shadow.

A :class:`Routing` is immutable: following an alias builds a new one (and a
new MLflow scoring app around it) and swaps it in, so a request that started
on the old version finishes on it. :func:`check_frame` turns a parsed request
into the DataFrame the signature describes, or raises
:class:`~nbmlops.mlflow_gateway.scoring.BadRequestError` naming the column.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any

from nbmlops.mlflow_gateway import scoring
from nbmlops.mlflow_gateway.scoring import BadRequestError, Column, ModelVersion

_NUMERIC = {"double": "float64", "float": "float64", "long": "int64", "integer": "int64"}


@dataclass(frozen=True)
class Slot:
    """A loaded model version and the alias it was served under."""

    ref: ModelVersion
    model: Any
    columns: list[Column] | None


@dataclass(frozen=True)
class Routing:
    """The models serving now: primary, optional canary (share, sticky key), optional shadow."""

    primary: Slot
    canary: Slot | None = None
    share: float = 0.0
    key: str | None = None
    shadow: Slot | None = None

    def versions(self) -> dict[str, str]:
        """Role -> version of each slot in use."""
        out = {"primary": self.primary.ref.version}
        if self.canary is not None:
            out["canary"] = self.canary.ref.version
        if self.shadow is not None:
            out["shadow"] = self.shadow.ref.version
        return out


def check_frame(data: Any, columns: list[Column] | None) -> Any:
    """The request as a DataFrame with the signature's columns and dtypes.

    Raises
    ------
    BadRequestError
        Missing, unknown or wrongly typed column (named in the message).
    """
    import pandas as pd

    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    if columns is None:
        return frame
    want = [c.name for c in columns]
    required = {c.name for c in columns if c.required}
    missing = [c for c in want if c not in frame.columns and c in required]
    if missing:
        raise BadRequestError(f"missing column {missing[0]!r} (the model expects "
                         f"{', '.join(want)})", column=missing[0])
    extra = [str(c) for c in frame.columns if c not in want]
    if extra:
        raise BadRequestError(f"unknown column {extra[0]!r} (the model expects "
                         f"{', '.join(want)})", column=extra[0])
    out = {}
    for col in columns:
        if col.name in frame.columns:
            out[col.name] = _cast(frame[col.name], col)
    return pd.DataFrame(out, index=range(len(frame)))


def _cast(series: Any, col: Column) -> Any:
    import pandas as pd
    from pandas.api import types as ptypes

    if col.kind in _NUMERIC:
        if ptypes.is_bool_dtype(series) or not (
                ptypes.is_numeric_dtype(series) or series.map(_is_number).all()):
            bad = next((v for v in series if not _is_number(v)), series.iloc[0])
            raise BadRequestError(f"column {col.name!r} expects {col.kind} numbers, got {bad!r}",
                             column=col.name)
        values = pd.to_numeric(series)
        if _NUMERIC[col.kind] == "int64" and values.isna().any():
            raise BadRequestError(f"column {col.name!r} expects {col.kind}, got a missing value",
                             column=col.name)
        return values.astype(_NUMERIC[col.kind])
    if col.kind == "string":
        if not series.map(lambda v: isinstance(v, str) or v is None).all():
            bad = next(v for v in series if not (isinstance(v, str) or v is None))
            raise BadRequestError(f"column {col.name!r} expects strings, got {bad!r}",
                             column=col.name)
        return series.astype(object)
    if col.kind == "boolean" and not ptypes.is_bool_dtype(series):
        raise BadRequestError(f"column {col.name!r} expects booleans", column=col.name)
    return series


def _is_number(v: Any) -> bool:
    import numbers

    return v is None or (isinstance(v, numbers.Number) and not isinstance(v, bool))


def canary_mask(frame: Any, routing: Routing) -> Any:
    """Boolean per row: True where the canary scores it (sticky by the key column's hash)."""
    import numpy as np

    n = len(frame)
    if routing.canary is None or routing.share <= 0:
        return np.zeros(n, dtype=bool)
    if routing.key is None or routing.key not in frame.columns:
        return np.full(n, random.random() < routing.share)
    return np.array([_bucket(v) < routing.share for v in frame[routing.key]], dtype=bool)


def _bucket(value: Any) -> float:
    """A stable number in [0, 1) for a key value (the same key always lands the same way)."""
    digest = hashlib.sha256(str(value).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_predict(frame: Any, routing: Routing, params: Any) -> tuple[Any, list[str] | None]:
    """Predictions in row order, and the serving version per row when a canary took part."""
    import pandas as pd

    mask = canary_mask(frame, routing)
    if not mask.any():
        return scoring.predict(routing.primary.model, frame, params), None
    assert routing.canary is not None
    if mask.all():
        preds = scoring.predict(routing.canary.model, frame, params)
        return preds, [routing.canary.ref.version] * len(frame)
    parts = []
    for slot, rows in ((routing.primary, ~mask), (routing.canary, mask)):
        sub = frame[rows]
        pred = scoring.predict(slot.model, sub.reset_index(drop=True), params)
        parts.append(pd.DataFrame(pred) if not isinstance(pred, pd.DataFrame) else pred)
        parts[-1].index = sub.index
    merged = pd.concat(parts).sort_index()
    versions = [routing.canary.ref.version if m else routing.primary.ref.version for m in mask]
    out = merged.iloc[:, 0].to_numpy() if merged.shape[1] == 1 else merged
    return out, versions
