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
    except TypeError:  # unhashable objects
        return int(s.dropna().astype(str).nunique())


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
    return arr, miss


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
    except TypeError:  # unhashable objects (lists, dicts)
        vc = s.dropna().astype(str).value_counts()
    return {k: int(c) for k, c in vc.items()}


def value_type(s: Any, kind: str) -> str:
    """``int``, ``bool`` or ``str``: how category keys are formed."""
    from pandas.api import types as t

    if kind == "boolean":
        return "bool"
    if t.is_integer_dtype(s.dtype):
        return "int"
    return "str"
