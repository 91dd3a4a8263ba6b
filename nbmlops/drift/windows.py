"""Time and row-count windows: every row gets a window key; summaries are kept per key.

``window`` is a pandas fixed frequency (``"1h"``, ``"30min"``, ``"1D"``,
``"7D"``) applied to ``time_column`` (windows start at multiples of the
frequency since the Unix epoch, in UTC), or an integer row count (windows of
that many consecutive rows in arrival order).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nbmlops.exceptions import UsageArgumentError

NO_TIME = np.iinfo(np.int64).min


def parse_window(window: Any) -> tuple[str, int] | None:
    """``("rows", n)`` or ``("time", nanoseconds)``, or ``None`` for no windows."""
    import pandas as pd

    if window is None:
        return None
    if isinstance(window, int | np.integer) or (isinstance(window, str) and window.isdigit()):
        n = int(window)
        if n > 2**62:
            raise UsageArgumentError(f"window row count {window!r} is too large.",
                                     parameter="window")
        if n <= 0:
            raise UsageArgumentError(f"window row count must be positive, got {window!r}.",
                                     parameter="window")
        return ("rows", n)
    try:
        td = pd.Timedelta(pd.tseries.frequencies.to_offset(str(window)))
    except (OverflowError, pd.errors.OutOfBoundsTimedelta):
        raise UsageArgumentError(f"window {window!r} is too long (more than ~292 years).",
                                 parameter="window") from None
    except (ValueError, TypeError):
        raise UsageArgumentError(
            f"window {window!r} is neither a row count nor a fixed frequency like '1h', '1D', "
            "'7D'.", parameter="window") from None
    if td.value <= 0:
        raise UsageArgumentError(f"window {window!r} must be positive.", parameter="window")
    return ("time", int(td.value))


def window_ids(df: Any, spec: tuple[str, int] | None, time_column: str | None,
               row_offset: int) -> np.ndarray | None:
    """Window id (int64) per row, or ``None`` when there are no windows."""
    if spec is None:
        return None
    kind, size = spec
    if kind == "rows":
        return (row_offset + np.arange(len(df), dtype=np.int64)) // size
    ns = time_ns(df, time_column)
    ids = np.where(ns == NO_TIME, NO_TIME, np.floor_divide(ns, size))
    return ids


def time_ns(df: Any, time_column: str | None) -> np.ndarray:
    """UTC nanoseconds of ``time_column`` (``NO_TIME`` where missing)."""
    import pandas as pd
    from pandas.api import types as t

    from nbmlops.exceptions import DriftError

    if time_column is None:
        raise UsageArgumentError("A time window needs time_column=.", parameter="time_column")
    if time_column not in df.columns:
        raise DriftError(f"time column {time_column!r} is not in the current data.",
                         column=time_column)
    s = df[time_column]
    if not t.is_datetime64_any_dtype(s.dtype):
        try:
            s = pd.to_datetime(s, utc=True, format="ISO8601")
        except (ValueError, TypeError):
            raise DriftError(f"time column {time_column!r} does not hold datetimes "
                             f"(dtype {s.dtype}).", column=time_column) from None
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = s.to_numpy(dtype="datetime64[ns]")
    out = arr.astype("int64")
    out[np.isnat(arr)] = NO_TIME
    return out


def window_label(spec: tuple[str, int], wid: int) -> tuple[str, str | None, str | None]:
    """``(key, start, end)`` strings of window ``wid``."""
    import pandas as pd

    kind, size = spec
    if wid == NO_TIME:
        return ("no time", None, None)
    if kind == "rows":
        return (f"rows {wid * size}-{(wid + 1) * size - 1}", None, None)
    start = pd.Timestamp(wid * size, tz="UTC")
    end = pd.Timestamp((wid + 1) * size, tz="UTC")
    return (start.isoformat(), start.isoformat(), end.isoformat())


def is_time_window(window: Any) -> bool:
    """True when ``window`` is a frequency (``"1D"``), not a row count or None."""
    return isinstance(window, str) and not window.isdigit()


def default_time_column(profile: Any, window: Any, time_column: str | None) -> str | None:
    """The time column in force: the one rule of the API, the panel, the magic and the gate.

    Parameters
    ----------
    profile
        The reference profile (its ``options["time_column"]`` is used), or None
        when the reference is not fitted yet.
    window
        The window: only a frequency (``"1D"``) needs a time column.
    time_column
        The column given by the user; it always wins.

    Returns
    -------
    str or None
        ``time_column`` when given; for a frequency window, the profile's time
        column, else ``"ts"``; otherwise None.
    """
    if time_column is not None:
        return time_column
    if not is_time_window(window):
        return None
    options = getattr(profile, "options", None) or {}
    return options.get("time_column") or "ts"


def datetime_column(df: Any, skip: set[str]) -> str | None:
    """The first datetime column of ``df`` not in ``skip``: the time column when none is given.

    A timestamp is never judged as a feature unless asked: later data always
    has later timestamps, so it would "drift" on day one of a CI gate.
    """
    import pandas as pd
    from pandas.api import types as t

    for col in df.columns:
        s = df[col]
        if col in skip:
            continue
        if t.is_datetime64_any_dtype(s.dtype) or (
                s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "datetime"):
            return str(col)
    return None
