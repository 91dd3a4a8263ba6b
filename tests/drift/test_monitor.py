"""Live drift without a widget: LogTail reads only new rows, DriftMonitor reports by callback."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbmlops.drift.config import DriftConfig
from nbmlops.drift.monitor import DriftMonitor
from nbmlops.drift.report import DriftReport
from nbmlops.drift.tail import LogTail, parse_interval
from nbmlops.exceptions import DriftError, UsageArgumentError

DAY = 1440  # rows per day in cur_df (one a minute)


def csv(df: pd.DataFrame, header: bool) -> str:
    return df.to_csv(index=False, header=header)


def wait_for(predicate: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_log_tail_reads_only_new_rows(tmp_path: Path, cur_df: pd.DataFrame) -> None:
    log = tmp_path / "log.csv"
    log.write_text(csv(cur_df.iloc[:100], True))
    tail = LogTail(log)
    assert sum(map(len, tail.read_new())) == 100
    assert tail.read_new() == []  # nothing new
    text = csv(cur_df.iloc[100:150], False)
    with log.open("a") as fh:
        fh.write(text + text.splitlines()[0][:10])  # 50 rows and half a line
    new = tail.read_new()
    assert sum(map(len, new)) == 50
    assert new[0]["amount"].tolist() == pytest.approx(cur_df["amount"].iloc[100:150].tolist())
    with log.open("a") as fh:
        fh.write(text.splitlines()[0][10:] + "\n")  # the line completes
    assert sum(map(len, tail.read_new())) == 1
    # a folder: new Parquet files are read once each
    folder = tmp_path / "logs"
    folder.mkdir()
    cur_df.iloc[:30].to_parquet(folder / "a.parquet")
    tail = LogTail(folder)
    assert sum(map(len, tail.read_new())) == 30
    cur_df.iloc[30:50].to_parquet(folder / "b.parquet")
    assert sum(map(len, tail.read_new())) == 20 and tail.rows_read == 50


def test_parse_interval() -> None:
    assert [parse_interval(x) for x in ("30s", "2min", "500ms", "5", 1.5)] == \
        [30.0, 120.0, 0.5, 5.0, 1.5]
    with pytest.raises(UsageArgumentError, match="positive"):
        parse_interval("-3s")


def test_monitor_reports_a_growing_folder_headless(tmp_path: Path, profile: Any,
                                                   cur_df: pd.DataFrame) -> None:
    """A service's view: a folder of daily Parquet files grows, the callback gets each report."""
    logs = tmp_path / "predictions"
    logs.mkdir()
    cur_df.iloc[:DAY].to_parquet(logs / "day-1.parquet")
    reports: list[DriftReport] = []
    statuses: list[int] = []
    got = threading.Event()

    def on_report(report: DriftReport) -> None:
        reports.append(report)
        got.set()

    monitor = DriftMonitor(profile, logs, 0.05, on_report, window="1D",
                           on_status=lambda m: statuses.append(m.polls))
    first = monitor.read_existing()
    assert first.n_cur == DAY and first.verdict == "ok" and first.time_column == "ts"
    assert reports == []  # reading what is there does not report
    monitor.start()
    try:
        for day in range(2, 6):
            got.clear()
            cur_df.iloc[(day - 1) * DAY:day * DAY].to_parquet(logs / f"day-{day}.parquet")
            assert got.wait(60), f"no report after day {day}"
        wait_for(lambda: reports[-1].n_cur == len(cur_df))
    finally:
        monitor.stop()
    assert not monitor.running and monitor.error is None
    last = reports[-1]
    assert last.n_cur == len(cur_df) and monitor.tail.rows_read == len(cur_df)
    assert [w.verdict for w in last.windows][:3] == ["ok", "ok", "ok"]
    assert last.verdict == "drift" and last.drifted[0] == "amount"  # the shift of days 4-5
    assert all(r.sources["current"]["kind"] == "live" for r in reports)
    assert statuses and statuses[-1] == monitor.polls  # told after every poll and on stop
    direct = profile.compare(cur_df, window="1D")
    assert [w.verdict for w in last.windows] == [w.verdict for w in direct.windows]


def test_monitor_rules_can_change_and_errors_keep_it_polling(tmp_path: Path, profile: Any,
                                                             cur_df: pd.DataFrame) -> None:
    log = tmp_path / "live.csv"
    log.write_text(csv(cur_df.iloc[:DAY], True))
    reports: list[DriftReport] = []
    monitor = DriftMonitor(profile, log, 0.05, reports.append, time_column="ts")
    monitor.read_existing()
    monitor.config = DriftConfig(alpha=0.05)
    with log.open("a") as fh:
        fh.write(csv(cur_df.iloc[DAY:2 * DAY], False))
    assert monitor.poll_once() == DAY
    assert reports[-1].config.alpha == 0.05 and reports[-1].n_cur == 2 * DAY
    assert monitor.poll_once() == 0 and len(reports) == 1  # nothing new: no report
    with log.open("a") as fh:
        fh.write('"unterminated,1,2\n')
    monitor.start()
    try:
        wait_for(lambda: monitor.error is not None)
        assert "Cannot read new rows of" in str(monitor.error) and monitor.running
    finally:
        monitor.stop()


def test_an_empty_log_is_one_clear_error(tmp_path: Path, profile: Any) -> None:
    monitor = DriftMonitor(profile, tmp_path / "none-yet.csv", 1.0, print)
    with pytest.raises(DriftError, match="no rows yet"):
        monitor.read_existing()
