"""Alerts: one JSON POST per drift state change to a real receiver on 127.0.0.1, retries, audit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbmlops.drift import fit_reference
from nbmlops.drift.alerts import Alerter, parse_sink
from nbmlops.exceptions import DriftError
from nbmlops.gates import AuditLog, verify_audit
from tests.conftest import free_port
from tests.drift.conftest import make_frame


class Receiver:
    """A real HTTP server on 127.0.0.1 recording JSON bodies; the first ``fail`` answers are 503."""

    def __init__(self, fail: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(503)
                else:
                    outer.bodies.append(json.loads(data))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Any:
    r = Receiver()
    yield r
    r.close()


def _day(seed: int, day: str, shift: float) -> pd.DataFrame:
    return make_frame(1440, seed=seed, shift=shift, start=day)


def test_one_post_per_state_change_with_retries_and_audit(tmp_path: Path) -> None:
    rec = Receiver(fail=2)  # the first two attempts answer 503: retried
    try:
        profile = fit_reference(make_frame(6000, seed=1), time_column="ts")
        audit = tmp_path / "audit.jsonl"
        alerter = Alerter([f"webhook:{rec.url}"], audit_log=audit, link="https://ci/report.html")
        shifts = [0, 0, 1.0, 1.0, 1.0, 0, 0]  # ok ok drift drift drift ok ok
        for i, shift in enumerate(shifts):
            day = _day(10 + i, f"2026-03-0{i + 1}", shift)
            alerter.notify(profile.compare(day, time_column="ts", window="1D"))
    finally:
        rec.close()
    assert [b["event"] for b in rec.bodies] == ["drift", "recovered"]
    first = rec.bodies[0]
    assert first["previous"] == "ok" and first["state"] == "drift"
    assert first["report"] == "https://ci/report.html" and "amount" in first["drifted"]
    records = AuditLog(audit).records()
    assert len(records) == len(shifts)  # every evaluation, negative ones too
    assert [r["alerts"]["state"] for r in records] == ["ok", "ok", "drift", "drift", "drift",
                                                       "ok", "ok"]
    assert verify_audit(audit).ok


def test_unreachable_receiver_is_retried_and_recorded(tmp_path: Path) -> None:
    from nbmlops.drift.alerts import Webhook

    hook = Webhook(f"http://127.0.0.1:{free_port()}/x", retries=2, backoff=0.01, timeout=2)
    result = hook.send({"event": "drift"})
    assert result["status"] is None and result["attempts"] == 3 and result["error"]


def test_bad_sink_is_one_clear_error() -> None:
    with pytest.raises(DriftError, match="webhook:http"):
        parse_sink("slack:#general")


@pytest.mark.slow
def test_cli_gate_posts_once_per_state_change(project: Path, receiver: Receiver) -> None:
    ref = project / "ref.parquet"
    make_frame(6000, seed=1).to_parquet(ref)
    outcomes = []
    for i, shift in enumerate([0, 1.0, 1.0, 0]):
        cur = project / f"cur{i}.parquet"
        _day(20 + i, "2026-03-01", shift).to_parquet(cur)
        proc = subprocess.run([sys.executable, "-m", "nbmlops", "drift", str(ref), str(cur),
                               "--exclude", "ts", "--alert", f"webhook:{receiver.url}",
                               "-o", str(project / "r.md")],
                              capture_output=True, text=True, timeout=300, cwd=project)
        outcomes.append(proc.returncode)
    assert outcomes == [0, 1, 1, 0], outcomes
    assert [b["event"] for b in receiver.bodies] == ["drift", "recovered"]
    assert receiver.bodies[0]["report"].endswith("r.md")
    log = AuditLog(project / ".nbmlops" / "drift_audit.jsonl").records()
    assert len(log) == 4 and [len(r["alerts"]["posts"]) for r in log] == [0, 1, 0, 1]


def test_monitor_posts_on_change_and_audits_every_poll(tmp_path: Path, receiver: Receiver
                                                       ) -> None:
    from nbmlops.drift.monitor import DriftMonitor

    profile = fit_reference(make_frame(6000, seed=1), time_column="ts")
    log = tmp_path / "live.csv"
    _day(30, "2026-03-01", 0).to_csv(log, index=False)
    monitor = DriftMonitor(profile, log, 1, on_report=lambda r: None, window="1D")
    monitor.alerter = Alerter([f"webhook:{receiver.url}"], audit_log=tmp_path / "a.jsonl")
    monitor.read_existing()
    assert monitor.alerter.notify(monitor.report())["state"] == "ok"
    _day(31, "2026-03-02", 1.0).to_csv(log, mode="a", header=False, index=False)
    monitor.poll_once()
    assert [b["event"] for b in receiver.bodies] == ["drift"]
    assert len(AuditLog(tmp_path / "a.jsonl").records()) == 2
