"""Shadow, sticky canary, alias polling and the in-process drift monitor, on one real process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbmlops.serving.routing import _bucket
from tests.serving._model import frame
from tests.serving.conftest import RECORD, Server, invoke, start, uri_of, wait_request

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def routed(registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start(registry, tmp_path_factory.mktemp("routed"), "--shadow", "challenger",
                "--canary", "challenger=0.5", "--canary-key", "merchant", "--poll", "1s",
                "--flush-every", "0.2s", "--monitor", str(registry / "train.parquet"),
                "--every", "1s")
    yield srv
    srv.stop()


def test_shadow_is_logged_never_returned_and_canary_is_sticky_by_key(routed: Server) -> None:
    X = frame(60, 3)
    status, headers, body = invoke(routed, X.to_dict("records"))
    assert status == 200 and list(body) == ["predictions"]
    rows = wait_request(routed.log_dir, headers["x-request-id"]).sort_values("row")
    assert len(rows) == 60
    assert list(rows.prediction) == body["predictions"]  # the answer is the served model's
    assert set(rows.shadow_version) == {"2"}
    for merchant, group in rows.groupby("merchant"):
        side = "2" if _bucket(merchant) < 0.5 else "1"
        assert set(group.model_version) == {side}, merchant
        assert set(group.model_alias) == {"challenger" if side == "2" else "champion"}
    # where v1 served, the shadow (v2, trained on the opposite rule) disagrees with it
    served_by_v1 = rows[rows.model_version == "1"]
    if len(served_by_v1):
        assert (served_by_v1.prediction != served_by_v1.shadow_prediction).all()


def test_the_monitor_exports_drift_gauges_and_audits(routed: Server) -> None:
    status, _, _ = invoke(routed, frame(200, 4, shift=30.0).to_dict("records"))
    assert status == 200
    deadline = time.monotonic() + 180
    text = ""
    while time.monotonic() < deadline:
        text = routed.get("/metrics")[2]
        if 'nbmlops_drift_status{feature="amount"} 2.0' in text:
            break
        time.sleep(0.5)
    assert 'nbmlops_drift_status{feature="amount"} 2.0' in text, text[-3000:]
    assert "nbmlops_drift_effect{" in text and "nbmlops_drift_verdict 2.0" in text
    audit = routed.cwd / ".nbmlops" / "serving_audit.jsonl"
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    drift = [e for e in events if e["event"] == "drift"]
    assert drift and "amount" in drift[-1]["drifted"]
    from nbmlops.gates import verify_audit

    assert verify_audit(audit).ok


def test_an_alias_move_is_seen_by_polling(routed: Server, registry: Path) -> None:
    from nbmlops.mlflow_gateway import scoring

    uri = uri_of(registry)
    key = next(m for m in ("fuel", "food", "travel") if _bucket(m) >= 0.5)  # primary's side
    try:
        scoring.set_alias(uri, "fraud", "champion", "2")
        deadline = time.monotonic() + 120
        version = None
        while time.monotonic() < deadline and version != "2":
            _, headers, _ = invoke(routed, [{**RECORD, "merchant": key}])
            version = wait_request(routed.log_dir, headers["x-request-id"]).model_version.iloc[0]
        assert version == "2"
        text = routed.get("/metrics")[2]
        assert 'nbmlops_alias_switches_total{alias="champion",model="fraud"} 1.0' in text
    finally:
        scoring.set_alias(uri, "fraud", "champion", "1")
