"""Column kinds and value conversion (pandas Series -> numpy arrays / category keys).

Kinds, decided once on the reference:

- ``numeric``: floats, integers with more than :data:`LOW_CARDINALITY` distinct values;
- ``datetime``: datetimes (tz-aware ones in UTC), compared as float seconds;
- ``categorical``: strings/objects with at most :data:`MAX_CATEGORIES` distinct values,
  pandas categoricals, integers with few distinct values;
- ``boolean``: booleans (compared as categories ``"True"``/``"False"``);
- ``text``: strings with more distinct values than that (free text, ids) — skipped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

LOW_CARDINALITY = 20
MAX_CATEGORIES = 100
#: finite values beyond this magnitude overflow float64 sums of squares (1.3e154 squared)
MAX_ABS = 1e150


class KindMismatchError(Exception):
    """Current values cannot be read as the reference column's kind."""


def detect_kind(s: Any) -> tuple[str, str]:
    """Return ``(kind, reason)`` for a reference Series (reason only for ``text``)."""
    import pandas as pd
    from pandas.api import types as t

    dtype = s.dtype
    if t.is_bool_dtype(dtype):
        return "boolean", ""
    if t.is_datetime64_any_dtype(dtype):
        return "datetime", ""
    if t.is_integer_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        nun = s.nunique(dropna=True)
        return ("categorical" if nun <= LOW_CARDINALITY else "numeric"), ""
    if t.is_float_dtype(dtype):
        return "numeric", ""
    if t.is_timedelta64_dtype(dtype):
        return "numeric", ""
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "numeric", ""
    if inferred == "boolean":
        return "boolean", ""
    if inferred in ("datetime64", "datetime"):
        return "datetime", ""
    nun = _nunique_str(s)
    if nun > MAX_CATEGORIES:
        return "text", f"free text or identifier ({nun} distinct values > {MAX_CATEGORIES})"
    return "categorical", ""


def _nunique_str(s: Any) -> int:
    try:
        return int(s.nunique(dropna=True))
    except TypeError:  # unhashable objects: lists, dicts
        raise_unhashable(s)
        raise


def numeric_values(s: Any, kind: str, name: str) -> tuple[np.ndarray, int]:
    """Float64 values of ``s`` (NaN for missing) and the count of missing.

    Raises
    ------
    KindMismatchError
        When the current dtype cannot be compared with a ``kind`` reference.
    """
    import pandas as pd
    from pandas.api import types as t

    dtype = s.dtype
    if kind == "datetime":
        if not t.is_datetime64_any_dtype(dtype):
            if dtype == np.dtype(object) or t.is_string_dtype(dtype):
                try:
                    s = pd.to_datetime(s, utc=True, format="ISO8601")
                except (ValueError, TypeError):
                    msg = f"reference is datetime, current dtype is {dtype}"
                    raise KindMismatchError(msg) from None
            else:
                raise KindMismatchError(f"reference is datetime, current dtype is {dtype}")
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        arr = s.to_numpy(dtype="datetime64[ns]")
        mask = np.isnat(arr)
        out = arr.astype("int64").astype("float64") / 1e9
        out[mask] = np.nan
        return out, int(mask.sum())
    if t.is_bool_dtype(dtype) or not (t.is_numeric_dtype(dtype) or t.is_timedelta64_dtype(dtype)):
        if dtype == np.dtype(object):
            inferred = pd.api.types.infer_dtype(s, skipna=True)
            if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "empty"):
                s = pd.to_numeric(s, errors="coerce")
            else:
                raise KindMismatchError(f"reference is numeric, current values are {inferred}")
        else:
            raise KindMismatchError(f"reference is numeric, current dtype is {dtype}")
    if t.is_timedelta64_dtype(s.dtype):
        s = s.dt.total_seconds()
    arr = s.to_numpy(dtype="float64", na_value=np.nan)
    miss = int(np.isnan(arr).sum())
    check_magnitude(arr, name)
    return arr, miss


def check_magnitude(arr: np.ndarray, name: str) -> None:
    """Refuse finite values so large that float64 sums overflow (one clear error, exit 2)."""
    from nbmlops.exceptions import DriftError

    if len(arr) == 0:
        return
    # two allocation-free passes (fmax/fmin skip NaN); the exact check only when they exceed
    if not (np.fmax.reduce(arr) > MAX_ABS or np.fmin.reduce(arr) < -MAX_ABS):
        return
    big = float(np.max(np.abs(arr), initial=0.0, where=np.isfinite(arr)))
    if big > MAX_ABS:
        raise DriftError(f"column {name!r} holds values as large as {big:.3g}: beyond "
                         f"{MAX_ABS:g} float64 sums overflow; rescale it or leave it out "
                         "(--exclude).", column=name)


def category_counts(s: Any, kind: str, value_type: str) -> tuple[dict[str, int], int]:
    """``({category key: count}, missing count)`` of ``s``.

    Values are counted in their own dtype and only the distinct values are
    turned into string keys; ``value_type`` is the reference's (``int``,
    ``bool`` or ``str``) so that ``1``, ``1.0`` and ``"1"`` compare equal for
    low-cardinality integers.
    """
    import pandas as pd
    from pandas.api import types as t

    n = len(s)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    dtype = s.dtype
    if value_type == "int" and (t.is_string_dtype(dtype) and dtype != np.dtype(object)):
        raise KindMismatchError(f"reference is integer-coded categories, current dtype is {dtype}")
    if value_type == "bool" and not t.is_bool_dtype(dtype) and dtype != np.dtype(object):
        raise KindMismatchError(f"reference is boolean, current dtype is {dtype}")
    raw = _value_counts(s)
    miss = n - sum(raw.values())
    out: dict[str, int] = {}
    for k, c in raw.items():
        key = _key(k, value_type)
        out[key] = out.get(key, 0) + c
    return out, miss


def _key(v: Any, value_type: str) -> str:
    if value_type == "int" and isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    if isinstance(v, np.generic):
        v = v.item()
    return str(v)


def _value_counts(s: Any) -> dict[Any, int]:
    """Counts of non-missing values (pyarrow for strings, pandas otherwise)."""
    from pandas.api import types as t

    if t.is_string_dtype(s.dtype) and s.dtype != np.dtype(object):
        try:
            import pyarrow as pa
            import pyarrow.compute as pc

            arr = pa.array(s.array) if not hasattr(s.array, "_pa_array") else s.array._pa_array
            vc = pc.value_counts(arr)
            vals, cnts = vc.field(0).to_pylist(), vc.field(1).to_pylist()
            return {v: c for v, c in zip(vals, cnts, strict=True) if v is not None}
        except Exception:  # pragma: no cover - fall back to pandas
            pass
    try:
        vc = s.value_counts(dropna=True)
        return {k: int(c) for k, c in vc.items()}
    except TypeError:  # unhashable objects (lists, dicts)
        raise_unhashable(s)
        raise


def raise_unhashable(s: Any) -> None:
    """One clear error for a column holding lists, dicts or sets (not comparable values)."""
    from nbmlops.exceptions import DriftError

    bad = next((v for v in s if isinstance(v, list | dict | set | np.ndarray)), None)
    what = type(bad).__name__ if bad is not None else "unhashable values"
    raise DriftError(f"column {s.name!r} holds {what}s (e.g. {str(bad)[:40]}); drift compares "
                     "scalar values: flatten it or leave it out (--exclude).", column=s.name)


def value_type(s: Any, kind: str) -> str:
    """``int``, ``bool`` or ``str``: how category keys are formed."""
    from pandas.api import types as t

    if kind == "boolean":
        return "bool"
    if t.is_integer_dtype(s.dtype):
        return "int"
    return "str"
