"""Slices of a holdout: a column's values, a binned numeric column, a boolean expression.

Spec strings:

- ``merchant`` — one slice per value (numeric columns with more than 20
  values are cut into 4 quantile bins);
- ``amount:4`` — 4 quantile bins; ``amount:0,100,1000`` — these bin edges;
- anything else is a boolean ``DataFrame.eval`` expression, e.g.
  ``amount > 1000 and country == 'FR'`` (one slice: the rows where it is true).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nbmlops.exceptions import UsageArgumentError


@dataclass
class Slicing:
    """One spec: slice ids per row (``-1``: in no slice) and a label per slice."""

    spec: str
    labels: list[str]
    ids: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        """Rows per slice."""
        return np.bincount(self.ids[self.ids >= 0], minlength=len(self.labels))


def overall(n: int) -> Slicing:
    """The whole holdout as one slice."""
    return Slicing("overall", ["overall"], np.zeros(n, dtype=np.int64))


def _values(frame: Any, col: str) -> Slicing:
    codes, uniques = _factorize(frame[col])
    return Slicing(col, [f"{col}={u}" for u in uniques], codes)


def _factorize(series: Any) -> tuple[np.ndarray, list[Any]]:
    import pandas as pd

    codes, uniques = pd.factorize(series, sort=True)
    return np.asarray(codes, dtype=np.int64), list(uniques)


def _bins(frame: Any, col: str, how: str) -> Slicing:
    import pandas as pd

    series = frame[col]
    if not pd.api.types.is_numeric_dtype(series):
        raise UsageArgumentError(f"slice {col}:{how}: column {col!r} is not numeric "
                                 f"({series.dtype}).", column=col)
    try:
        if "," in how:
            cut = pd.cut(series, [float(e) for e in how.split(",")], include_lowest=True)
        else:
            cut = pd.qcut(series, int(how), duplicates="drop")
    except ValueError as exc:
        raise UsageArgumentError(f"slice {col}:{how}: bad bins ({exc}).", column=col) from None
    codes = np.asarray(cut.cat.codes, dtype=np.int64)
    return Slicing(f"{col}:{how}", [f"{col} in {c}" for c in cut.cat.categories], codes)


def _expression(frame: Any, spec: str) -> Slicing:
    try:
        mask = frame.eval(spec)
    except Exception as exc:
        raise UsageArgumentError(f"slice expression {spec!r} cannot be evaluated on the "
                                 f"holdout: {type(exc).__name__}: {exc}", parameter="slices") \
            from None
    import pandas as pd

    if not pd.api.types.is_bool_dtype(getattr(mask, "dtype", None)) or len(mask) != len(frame):
        raise UsageArgumentError(f"slice expression {spec!r} is not a boolean condition on rows.",
                                 parameter="slices")
    return Slicing(spec, [spec], np.where(np.asarray(mask), 0, -1).astype(np.int64))


def parse_slices(frame: Any, specs: list[str] | str | None, target: str) -> list[Slicing]:
    """Slicings of ``frame`` for ``specs``; one clear error naming a bad spec or column."""
    if specs is None:
        return []
    if isinstance(specs, str):
        specs = [s for s in specs.split(",")] if specs.strip() else [""]
    out = []
    for raw in specs:
        spec = str(raw).strip()
        if not spec:
            raise UsageArgumentError("empty slice expression: give a column, column:bins or a "
                                     "condition such as 'amount > 100'.", parameter="slices")
        col, sep, how = spec.partition(":")
        if sep and col.strip().isidentifier():
            _need(frame, col.strip(), spec, target)
            out.append(_bins(frame, col.strip(), how.strip()))
        elif spec.isidentifier():
            _need(frame, spec, spec, target)
            out.append(_auto(frame, spec))
        else:
            out.append(_expression(frame, spec))
    return out


def _auto(frame: Any, col: str) -> Slicing:
    import pandas as pd

    series = frame[col]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
            and series.nunique() > 20:
        return _bins(frame, col, "4")
    return _values(frame, col)


def _need(frame: Any, col: str, spec: str, target: str) -> None:
    if col not in frame.columns:
        cols = ", ".join(str(c) for c in frame.columns if c != target)
        raise UsageArgumentError(f"slice column {col!r} is not in the holdout (columns: {cols}).",
                                 column=col)
