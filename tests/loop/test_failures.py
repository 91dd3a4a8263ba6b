"""Failure stops early and says so; bad input writes nothing; no labels -> the iteration waits."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.conftest import free_port
from tests.loop import _world as w

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _fitted() -> Any:
    train = w.rows(3000, 1)
    return w.make_model().fit(train.drop(columns=["is_fraud"]), train["is_fraud"])


def _ramped(project: Path, labels: bool = True) -> None:
    w.champion(project)
    log = project / "logs" / "predictions"
    w.traffic(log, _fitted(), 0, 24 * 15, ramp_from=24 * 8, labels=labels)


def _audit(project: Path) -> list[dict[str, Any]]:
    path = project / ".nbmlops" / "loop_audit.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


class _Hook(BaseHTTPRequestHandler):
    got: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        _Hook.got.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_failing_notebook_stops_keeps_the_alias_alerts_and_exits_1(dvc_project: Path) -> None:
    import nbmlops.loop as loop
    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import registry as gw

    _ramped(dvc_project)
    port = free_port()
    server = HTTPServer(("127.0.0.1", port), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    text = (dvc_project / "mlops.yaml").read_text().replace("params: {C: 1.0}",
                                                            "params: {C: 1.0, fail: true}")
    (dvc_project / "mlops.yaml").write_text(text + f"alert: webhook:http://127.0.0.1:{port}/\n")
    try:
        result = loop.run_once(now=w.at_hour(24 * 15))
    finally:
        server.shutdown()
    assert result.outcome == "failed" and result.exit_code == 1, result.table()
    assert [s.status for s in result.steps] == ["done", "done", "failed"]
    assert "training data rejected" in result.message
    cl = gw.client(load_config().tracking_uri)
    assert gw.by_alias(cl, "fraud", "champion").version == "1"
    assert [v.version for v in gw.versions(cl, "fraud")] == ["1"]  # nothing registered
    assert _Hook.got and _Hook.got[-1]["event"] == "loop-failed"
    assert "training data rejected" in _Hook.got[-1]["reason"]
    ends = [r for r in _audit(dvc_project) if r.get("step") == "iteration"]
    assert ends[-1]["outcome"] == "failed" and "training data rejected" in ends[-1]["detail"]


def test_no_labels_yet_waits_and_writes_no_snapshot(dvc_project: Path) -> None:
    import nbmlops
    import nbmlops.loop as loop

    _ramped(dvc_project, labels=False)
    result = loop.run_once(now=w.at_hour(24 * 15))
    assert result.outcome == "waiting" and result.exit_code == 2, result.table()
    assert "no labels yet" in result.message
    assert [s.name for s in nbmlops.snapshots()] == ["train"]  # no fraud-train snapshot


def test_reject_keeps_the_alias_and_is_audited(dvc_project: Path) -> None:
    import nbmlops.loop as loop
    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import registry as gw

    _ramped(dvc_project)
    result = loop.run_once(now=w.at_hour(24 * 15))
    assert result.outcome == "pending-approval", result.table()
    with pytest.raises(loop.LoopError, match="reason"):
        loop.reject("fraud", result.candidate, approver="risk-lead", reason="")
    loop.reject("fraud", result.candidate, approver="risk-lead", reason="holdout too short")
    cl = gw.client(load_config().tracking_uri)
    assert gw.by_alias(cl, "fraud", "champion").version == "1"
    assert loop.pending_approvals() == []
    assert "holdout too short" in gw.version(cl, "fraud", result.candidate).tags[
        "nbmlops.loop.rejected"]
    last = _audit(dvc_project)[-1]
    assert last["outcome"] == "failed" and last["reason"] == "holdout too short"
    with pytest.raises(loop.LoopError, match="no pending approval"):
        loop.approve("fraud", result.candidate, approver="risk-lead")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbmlops", *args], capture_output=True,
                          text=True, timeout=600, check=False)


def test_bad_input_is_one_error_exit_2_and_nothing_written(dvc_project: Path) -> None:
    w.champion(dvc_project)
    (dvc_project / "logs" / "predictions").mkdir(parents=True)
    nb = json.loads((dvc_project / "notebooks" / "train.ipynb").read_text())
    nb["cells"][1]["metadata"]["tags"] = []
    (dvc_project / "notebooks" / "nb_untagged.ipynb").write_text(json.dumps(nb))
    yaml = (dvc_project / "mlops.yaml").read_text()
    cases = {
        "no parameters cell declaring 'data'": yaml.replace("notebooks/train.ipynb",
                                                            "notebooks/nb_untagged.ipynb"),
        "fraud@prod does not exist": yaml.replace("alias: champion", "alias: prod"),
        "unknown key(s) in 'train': epochs": yaml.replace("params: {C: 1.0}", "epochs: 3"),
    }
    for message, text in cases.items():
        (dvc_project / "bad.yaml").write_text(text)
        out = _cli("loop", "--once", "--config", "bad.yaml")
        assert out.returncode == 2, out.stderr
        assert message in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert not (dvc_project / ".nbmlops" / "loop").exists()
    assert not (dvc_project / ".nbmlops" / "loop_audit.jsonl").exists()
    # no traffic yet: the iteration waits and closes; the next run looks at a new window
    import nbmlops.loop as loop

    first = loop.run_once()
    assert first.outcome == "waiting" and "no traffic" in first.message, first.table()
    again = loop.run_once()
    assert again.outcome == "waiting" and again.iteration != first.iteration
    waited = loop.watch(every="1s", iterations=2)
    assert [r.outcome for r in waited] == ["waiting", "waiting"]
