"""Signals under load: SIGTERM loses nothing a client saw answered; SIGKILL leaves only
readable Parquet files (temp files are hidden from every reader).
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
import urllib.error
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tests.serving.conftest import RECORD, Server, invoke, log_rows, start, wait_rows

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


class Load:
    """``threads`` clients posting one-row requests in a loop; counts the 200s."""

    def __init__(self, server: Server, threads: int = 4) -> None:
        self.server = server
        self.ok = 0
        self.other = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status, _, _ = invoke(self.server, [RECORD])
            except (OSError, urllib.error.URLError):
                status = 0  # refused / reset while stopping: the client saw no 200
            with self._lock:
                if status == 200:
                    self.ok += 1
                else:
                    self.other += 1
            if status == 0:
                time.sleep(0.05)

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def wait_ok(self, n: int, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while self.ok < n and time.monotonic() < deadline:
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(120)


def test_sigterm_under_load_every_answered_request_is_in_the_log(
        registry: Path, tmp_path: Path) -> None:
    # a long flush age: the rows must come from the shutdown flush, not from a timer
    server = start(registry, tmp_path, "--poll", "0", "--flush-every", "60s")
    with Load(server) as load:
        load.wait_ok(150)
        code = server.stop(signal.SIGTERM)
        time.sleep(0.5)  # clients notice the closed port
    assert code in (0, -signal.SIGTERM), server.output()
    assert load.ok >= 150
    assert len(log_rows(server.log_dir)) == load.ok, server.output()
    assert "rows written" in server.output()


def test_sigkill_under_load_leaves_only_readable_parquet(registry: Path, tmp_path: Path) -> None:
    server = start(registry, tmp_path, "--poll", "0", "--flush-every", "0.2s",
                   "--batch-rows", "20")
    with Load(server) as load:
        load.wait_ok(200)
        server.stop(signal.SIGKILL)
    files = sorted(server.log_dir.rglob("*.parquet"))
    assert files
    rows = sum(pq.read_table(f).num_rows for f in files)  # every file opens
    assert 0 < rows <= load.ok
    # readers skip any temp file a kill left behind
    assert ds.dataset(server.log_dir, partitioning="hive").count_rows() == rows
    assert len(log_rows(server.log_dir)) == rows


@pytest.mark.parametrize("policy", ["block", "drop"])
def test_log_folder_lost_mid_run_503s_or_counted_drops_then_recovers(
        registry: Path, tmp_path: Path, policy: str) -> None:
    server = start(registry, tmp_path, "--poll", "0", "--flush-every", "0.1s", "--batch-rows",
                   "1", "--queue-rows", "3", "--log-policy", policy)
    try:
        assert invoke(server, [RECORD])[0] == 200
        assert len(wait_rows(server.log_dir, 1)) == 1
        shutil.rmtree(server.log_dir)
        server.log_dir.write_text("the disk is gone")  # every write now fails
        answers = [invoke(server, [RECORD]) for _ in range(6)]
        statuses = [a[0] for a in answers]
        metrics = server.get("/metrics")[2]
        assert "nbmlops_log_write_errors_total" in metrics
        if policy == "block":
            assert statuses[:3] == [200] * 3 and set(statuses[3:]) == {503}, statuses
            assert "queue is full" in answers[-1][2]["message"]
            assert ('nbmlops_request_errors_total{kind="unavailable",model="fraud",version="1"} '
                    '3.0') in metrics
        else:
            assert statuses == [200] * 6
            assert 'nbmlops_log_rows_dropped_total{log="predictions"} 3.0' in metrics
        server.log_dir.unlink()  # the disk is back: the queued rows are written
        assert len(wait_rows(server.log_dir, 3)) == 3
        assert server.proc.poll() is None  # never a crash
    finally:
        server.stop()
    if policy == "drop":
        side = json.loads((server.log_dir / "_nbmlops_log.json").read_text())
        assert side["rows_dropped"] == 3
