"""Compare current data with a reference profile: reduce to summaries, then judge.

One path for every input: an :class:`~nbmlops.drift.accumulator.Accumulator`
turns pandas batches into per-window, per-column summaries; pandas frames are
fed in slices, files are streamed in record batches, Spark partitions are
summarised by Spark (:mod:`nbmlops.drift.spark`) and merged here. The
statistics are then computed from the merged summaries
(:meth:`~nbmlops.drift.report.DriftReport.from_state`).
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from typing import Any

from nbmlops.drift import sources as src
from nbmlops.drift.accumulator import Accumulator
from nbmlops.drift.config import DriftConfig
from nbmlops.drift.profile_data import ProfileData
from nbmlops.drift.report import DriftReport
from nbmlops.drift.windows import default_time_column
from nbmlops.exceptions import DriftError


@dataclass(frozen=True)
class _Feed:
    """How the current data is read (the options of :func:`compare` that are not rules)."""

    labels: Any = None
    id_column: str | None = None
    batch_size: int = 262_144
    progress: bool | None = None
    digest: bool = False


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
) -> DriftReport:
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
        ``"7D"``) on ``time_column`` (default: the profile's, else ``ts``,
        see :func:`~nbmlops.drift.windows.default_time_column`), or a row count.
    config
        :class:`DriftConfig`, its dict form or a YAML path (default rules otherwise).
    labels, id_column
        Labels arriving later, joined to ``current`` by ``id_column`` (default
        ``request_id``) before performance is computed: a DataFrame, a
        Parquet/CSV/JSONL file, folder or glob, or a Spark DataFrame holding the
        id and the target (or a ``label`` column); see :mod:`nbmlops.drift.labels`.
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
    if not isinstance(profile, ProfileData):
        profile = ProfileData.read(profile)
    cfg = DriftConfig.coerce(config) if config is not None else DriftConfig()
    acc = Accumulator(profile, default_time_column(profile, window, time_column), window)
    feed = _Feed(labels, id_column, batch_size, progress, digest)
    current_source = _feed(acc, current, feed)
    if acc.rows == 0:
        raise DriftError("The current data has no rows.", parameter="current")
    sources = {"current": current_source, "reference": profile.source,
               "compared": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    state = acc.state(sources)
    if importances:
        state["importances"] = dict(importances)
    return DriftReport.from_state(state, cfg)


def _feed(acc: Accumulator, current: Any, feed: _Feed) -> dict[str, Any]:
    """Feed ``current`` into ``acc``; return the description of the source."""
    lab = None
    if feed.labels is not None:
        from nbmlops.drift.labels import prepare

        lab = prepare(feed.labels, feed.id_column, acc.profile)
    out = _feed_current(acc, current, feed, lab)
    if lab is not None:
        out["labels"] = lab.describe()
    return out


def _feed_current(acc: Accumulator, current: Any, feed: _Feed, lab: Any) -> dict[str, Any]:
    if src.is_spark(current):
        from nbmlops.drift.spark import summarise_spark

        summarise_spark(acc, lab.join_spark(current) if lab is not None else current)
        return {"kind": "spark"}
    if src.is_frame(current):
        if lab is not None:
            current = lab.attach(current)
        _feed_frame(acc, current, feed.batch_size, bool(feed.progress))
        from nbmlops.hashing import frame_digest

        return {"kind": "dataframe", "rows": len(current),
                "digest": frame_digest(current) if feed.digest else None}
    if isinstance(current, str) and src.is_snapshot_name(current):
        df = src.load_snapshot(current)
        _feed_frame(acc, lab.attach(df) if lab is not None else df, feed.batch_size,
                    bool(feed.progress))
        return {"kind": "snapshot", "name": current, "rows": len(df)}
    if isinstance(current, str | os.PathLike | list | tuple):
        _feed_files(acc, current, feed.batch_size, feed.progress is not False, lab)
        return {"kind": "files", "path": str(current), "digest": src.files_digest(current)}
    raise DriftError(f"Cannot compare a {type(current).__name__}: pass a pandas DataFrame, "
                     "files, a snapshot name or a Spark DataFrame.", parameter="current")


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


def _feed_files(acc: Accumulator, spec: Any, batch_size: int, progress: bool,
                lab: Any = None) -> None:
    names = [*acc.profile.columns, *([acc.time_column] if acc.time_column else []),
             *([lab.id_column] if lab is not None else [])]
    bar = _bar(src.count_rows(spec), progress)
    for batch in src.iter_batches(spec, columns=names, batch_size=batch_size):
        acc.add(lab.attach(batch) if lab is not None else batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()


def _bar(total: int | None, on: bool) -> Any:
    if not on:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="rows", unit_scale=True, desc="drift", leave=False)
