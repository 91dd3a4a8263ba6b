"""Compare current data with a reference profile: reduce to summaries, then judge.

One path for every input: an :class:`Accumulator` turns pandas batches into
per-window, per-column summaries; pandas frames are fed in slices, files are
streamed in record batches, Spark partitions are summarised by Spark
(:mod:`nbmlops.drift.spark`) and merged here. The statistics are then
computed from the merged summaries (:mod:`nbmlops.drift.evaluate`).
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import numpy as np

from nbmlops.drift import kinds, windows
from nbmlops.drift.config import DriftConfig
from nbmlops.drift.summaries import (
    categorical_summary,
    merge,
    numeric_summary,
    to_jsonable,
)
from nbmlops.exceptions import DriftError

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
            self._check_columns(df)
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

    def _check_columns(self, df: Any) -> None:
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
        if perf and "spec" in perf and tgt in df.columns and pred in df.columns:
            from nbmlops.drift.performance import merge_perf, perf_summary

            win["perf"] = merge_perf(win["perf"], perf_summary(df[tgt], df[pred], perf["spec"]))

    def merge_state(self, other: dict[int, dict[str, Any]], rows: int,
                    errors: dict[str, str]) -> None:
        """Merge summaries computed elsewhere (Spark partitions)."""
        from nbmlops.drift.performance import merge_perf

        self.rows += rows
        for k, v in errors.items():
            self.errors.setdefault(k, v)
        for wid, w in other.items():
            mine = self.wins.setdefault(wid, {"n_rows": 0, "columns": {}, "perf": None})
            mine["n_rows"] += w["n_rows"]
            for name, s in w["columns"].items():
                mine["columns"][name] = merge(mine["columns"].get(name), s)
            mine["perf"] = merge_perf(mine["perf"], w.get("perf"))

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
                         "columns": cols, "perf": w["perf"]})
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


def compare(
    profile: Any,
    current: Any,
    *,
    time_column: str | None = None,
    window: Any = None,
    config: DriftConfig | dict[str, Any] | str | os.PathLike[str] | None = None,
    labels: Any = None,
    id_column: str | None = None,
    importances: dict[str, float] | None = None,
    batch_size: int = 262_144,
    progress: bool | None = None,
    digest: bool = False,
) -> Any:
    """Compare current data with a fitted reference profile.

    Parameters
    ----------
    profile
        A :class:`~nbmlops.drift.profile.ReferenceProfile` (or a path to its JSON).
    current
        pandas DataFrame, Parquet/CSV/JSONL file/folder/glob (streamed in
        batches), snapshot name, or PySpark DataFrame.
    time_column, window
        Per-window results: ``window`` is a fixed frequency (``"1h"``, ``"1D"``,
        ``"7D"``) on ``time_column``, or a row count.
    config
        :class:`DriftConfig`, its dict form or a YAML path (default rules otherwise).
    labels, id_column
        Labels arriving later: a DataFrame with ``id_column`` and the target,
        joined to ``current`` (pandas input) before performance is computed.
    importances
        ``{feature: importance}`` for ranking by drift × importance.
    batch_size
        Rows per batch when streaming files or slicing a frame.
    progress
        tqdm progress bar (default: on for files, off for in-memory frames).
    digest
        Record a full-content hash of an in-memory ``current`` frame in ``sources``.

    Returns
    -------
    DriftReport
    """
    from nbmlops.drift import sources as src
    from nbmlops.drift.evaluate import evaluate_state
    from nbmlops.drift.profile import ReferenceProfile, load_profile
    from nbmlops.drift.report import _as_config

    if not isinstance(profile, ReferenceProfile):
        profile = load_profile(profile)
    cfg = _as_config(config) if config is not None else DriftConfig()
    if time_column is None and isinstance(window, str) and not window.isdigit():
        time_column = profile.options.get("time_column")
    acc = Accumulator(profile, time_column, window)
    if src.is_spark(current):
        from nbmlops.drift.spark import summarise_spark

        summarise_spark(acc, current)
        sources = {"kind": "spark"}
    elif src.is_frame(current):
        if labels is not None:
            current = _join_labels(current, labels, id_column, profile.target)
        _feed_frame(acc, current, batch_size, bool(progress))
        from nbmlops.hashing import frame_digest

        sources = {"kind": "dataframe", "rows": len(current),
                   "digest": frame_digest(current) if digest else None}
    elif isinstance(current, str) and src.is_snapshot_name(current):
        df = src.load_snapshot(current)
        _feed_frame(acc, df, batch_size, bool(progress))
        sources = {"kind": "snapshot", "name": current, "rows": len(df)}
    elif isinstance(current, str | os.PathLike | list | tuple):
        _feed_files(acc, current, batch_size, progress is not False)
        sources = {"kind": "files", "path": str(current), "digest": src.files_digest(current)}
    else:
        raise DriftError(f"Cannot compare a {type(current).__name__}: pass a pandas DataFrame, "
                         "files, a snapshot name or a Spark DataFrame.", parameter="current")
    if acc.rows == 0:
        raise DriftError("The current data has no rows.", parameter="current")
    sources = {"current": sources, "reference": profile.source,
               "compared": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    state = acc.state(sources)
    if importances:
        state["importances"] = dict(importances)
    return evaluate_state(state, cfg)


def _feed_frame(acc: Accumulator, df: Any, batch_size: int, progress: bool) -> None:
    if len(df) == 0:
        acc.add(df)
        return
    bar = _bar(len(df), progress)
    for start in range(0, len(df), batch_size):
        part = df.iloc[start:start + batch_size]
        acc.add(part)
        if bar is not None:
            bar.update(len(part))
    if bar is not None:
        bar.close()


def _feed_files(acc: Accumulator, spec: Any, batch_size: int, progress: bool) -> None:
    from nbmlops.drift import sources as src

    names = [*acc.profile.columns, *([acc.time_column] if acc.time_column else [])]
    bar = _bar(src.count_rows(spec), progress)
    for batch in src.iter_batches(spec, columns=names, batch_size=batch_size):
        acc.add(batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()


def _bar(total: int | None, on: bool) -> Any:
    if not on:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="drift", leave=False)


def _join_labels(current: Any, labels: Any, id_column: str | None, target: str | None) -> Any:
    if id_column is None or target is None:
        raise DriftError("labels= needs id_column= and a profile fitted with target=.",
                         parameter="labels")
    for frame, what in ((current, "current data"), (labels, "labels")):
        if id_column not in frame.columns:
            raise DriftError(f"id column {id_column!r} is not in the {what}.", column=id_column)
    if target not in labels.columns:
        raise DriftError(f"target column {target!r} is not in the labels.", column=target)
    lab = labels[[id_column, target]].drop_duplicates(id_column, keep="last")
    base = current.drop(columns=[target]) if target in current.columns else current
    return base.merge(lab, on=id_column, how="left")
