"""Per-window, per-column summaries of current data, fed batch by batch.

:class:`Accumulator` is the one reduction every input goes through: pandas
frames in slices, files in record batches, Spark partitions
(:mod:`nbmlops.drift.spark`) and a growing log (:mod:`nbmlops.drift.monitor`).
It needs only the fitted reference's column profiles; the statistics are
computed later from the merged summaries (:mod:`nbmlops.drift.evaluate`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from nbmlops.drift import kinds, multivariate, windows
from nbmlops.drift.performance import merge_perf, perf_summary
from nbmlops.drift.summaries import (
    categorical_summary,
    merge,
    numeric_summary,
    to_jsonable,
)

#: batches at least this long are summarised column-parallel on THREADS threads
PARALLEL_MIN_ROWS = 50_000
THREADS = min(4, os.cpu_count() or 1)


class Accumulator:
    """Per-window, per-column summaries of current data, fed batch by batch.

    Parameters
    ----------
    profile
        The fitted :class:`~nbmlops.drift.profile.ReferenceProfile`.
    time_column, window
        Windowing (see :mod:`nbmlops.drift.windows`); ``window=None`` gives one window.
    """

    def __init__(self, profile: Any, time_column: str | None = None, window: Any = None) -> None:
        self.profile = profile
        self.time_column = time_column
        self.spec = windows.parse_window(window)
        self.window = window
        self.rows = 0
        self.wins: dict[int, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}
        self.extra: set[str] = set()
        self.seen_columns = False

    # -- feeding ---------------------------------------------------------------
    def add(self, df: Any) -> None:
        """Summarise one pandas batch and merge it in."""
        n = len(df)
        if not self.seen_columns:
            self.check_columns(df)
        ids = windows.window_ids(df, self.spec, self.time_column, self.rows)
        self.rows += n
        if n == 0:
            return
        if ids is None or (ids[0] == ids[-1] and np.all(ids == ids[0])):
            self._add_window(0 if ids is None else int(ids[0]), df)
            return
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        cuts = np.flatnonzero(np.diff(sorted_ids)) + 1
        for chunk in np.split(order, cuts):
            self._add_window(int(ids[chunk[0]]), df.take(chunk))

    def check_columns(self, df: Any) -> None:
        """Note missing, duplicate and extra columns of the current data (once, first batch)."""
        self.seen_columns = True
        names = [str(c) for c in df.columns]
        dups = {c for c in names if names.count(c) > 1}
        for name in self.profile.columns:
            if name in dups:
                self.errors[name] = "duplicate column name in the current data"
            elif name not in names and self.profile.columns[name].get("role") != "target":
                self.errors[name] = "column missing from the current data"
        known = set(self.profile.columns) | {self.time_column}
        self.extra = {c for c in names if c not in known}

    def _add_window(self, wid: int, df: Any) -> None:
        win = self.wins.setdefault(wid, {"n_rows": 0, "columns": {}, "perf": None})
        win["n_rows"] += len(df)
        todo = [(name, col) for name, col in self.profile.columns.items()
                if name not in self.errors and not col.get("status")
                and col.get("role") != "target" and name in df.columns]
        for name, summ in _summarise_all(todo, df):
            if isinstance(summ, kinds.KindMismatchError):
                self.errors[name] = f"dtype changed: {summ}"
                win["columns"].pop(name, None)
                continue
            win["columns"][name] = merge(win["columns"].get(name), summ)
        perf = self.profile.performance
        tgt, pred = self.profile.target, self.profile.prediction
        if perf and "spec" in perf and pred in df.columns:  # no labels: scores only (CBPE)
            y = df[tgt] if tgt in df.columns else _no_labels(len(df), df.index)
            win["perf"] = merge_perf(win["perf"], perf_summary(y, df[pred], perf["spec"]))
        model = getattr(self.profile, "multivariate", None)
        if model:
            win["mv"] = multivariate.merge(win.get("mv"), multivariate.summarise(model, df))

    def merge_state(self, other: dict[int, dict[str, Any]], rows: int,
                    errors: dict[str, str]) -> None:
        """Merge summaries computed elsewhere (Spark partitions)."""
        self.rows += rows
        for k, v in errors.items():
            self.errors.setdefault(k, v)
        for wid, w in other.items():
            mine = self.wins.setdefault(wid, {"n_rows": 0, "columns": {}, "perf": None})
            mine["n_rows"] += w["n_rows"]
            for name, s in w["columns"].items():
                mine["columns"][name] = merge(mine["columns"].get(name), s)
            mine["perf"] = merge_perf(mine["perf"], w.get("perf"))
            mine["mv"] = multivariate.merge(mine.get("mv"), w.get("mv"))

    # -- result ----------------------------------------------------------------
    def state(self, sources: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON-able state a :class:`DriftReport` is derived from."""
        wins = []
        for wid in sorted(self.wins):
            w = self.wins[wid]
            key, start, end = (windows.window_label(self.spec, wid) if self.spec
                               else ("all", None, None))
            cols = {n: to_jsonable(s) for n, s in w["columns"].items() if n not in self.errors}
            wins.append({"key": key, "start": start, "end": end, "n_rows": w["n_rows"],
                         "columns": cols, "perf": w["perf"], "mv": w.get("mv")})
        return {
            "profile": self.profile,
            "windows": wins,
            "column_errors": dict(self.errors),
            "extra_columns": sorted(self.extra),
            "window_spec": None if self.window is None else str(self.window),
            "time_column": self.time_column,
            "sources": sources or {},
        }


def _summarise_all(todo: list[tuple[str, dict[str, Any]]], df: Any) -> list[tuple[str, Any]]:
    """Summaries of every column of ``df``; a dtype mismatch is returned, not raised.

    Big batches use a thread pool: sorting and value counting release the GIL.
    """
    def one(item: tuple[str, dict[str, Any]]) -> tuple[str, Any]:
        name, col = item
        try:
            return name, summarise_column(col, df[name])
        except kinds.KindMismatchError as exc:
            return name, exc

    if len(df) < PARALLEL_MIN_ROWS or len(todo) < 2 or THREADS < 2:
        return [one(item) for item in todo]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(one, todo))


def summarise_column(col: dict[str, Any], s: Any) -> dict[str, Any]:
    """Summary of one current column against its reference profile."""
    if col["kind"] in ("numeric", "datetime"):
        vals, miss = kinds.numeric_values(s, col["kind"], col["name"])
        return numeric_summary(col["grid"], vals, miss)
    counts, miss = kinds.category_counts(s, col["kind"], col.get("value_type", "str"))
    return categorical_summary(counts, miss, set(col["counts"]))


def _no_labels(n: int, index: Any) -> Any:
    """A label column of missing values (current data without its labels yet)."""
    import pandas as pd

    return pd.Series(np.full(n, np.nan), index=index, dtype="float64")
