"""Two loop iterations on a tiny fraud world: no trigger, then a ramp through to sign-off.

Real parts: MLflow (SQLite store), DVC snapshots, the training notebook in a
real kernel through ``run_notebook``, the registry's validation gate and
promotion, the serving ``PredictionLogger``/``LabelLog`` writing the logs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.loop import _world as w

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _audit(project: Path) -> list[dict]:
    lines = (project / ".nbmlops" / "loop_audit.jsonl").read_text().splitlines()
    return [json.loads(x) for x in lines]


def test_no_trigger_then_ramp_to_pending_approval_then_approved(dvc_project: Path) -> None:
    import nbmlops.loop as loop
    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import client_for
    from nbmlops.mlflow_gateway import registry as gw

    project = dvc_project
    champ = w.champion(project)
    cl = gw.client(load_config().tracking_uri)
    from tests.loop._world import make_model, rows

    fitted = make_model().fit(rows(3000, 1).drop(columns=["is_fraud"]), rows(3000, 1)["is_fraud"])
    log = project / "logs" / "predictions"
    w.traffic(log, fitted, 0, 24 * 8)

    first = loop.run_once(now=w.at_hour(24 * 8))
    assert first.outcome == "no-trigger", first.table()
    assert first.exit_code == 0 and [s.name for s in first.steps] == ["check"]

    w.traffic(log, fitted, 24 * 8, 24 * 7, ramp_from=24 * 8)
    t0 = time.monotonic()
    second = loop.run_once(now=w.at_hour(24 * 15))
    took = time.monotonic() - t0
    state = (project / ".nbmlops" / "loop" / "fraud.json").read_text()
    assert second.outcome == "pending-approval", second.table() + state
    secs = {k: v.get("seconds") for k, v in json.loads(state)["last"]["steps"].items()}
    print(f"\ntriggered iteration: {took:.1f}s, per step {secs}\n{second.table()}")
    assert [s.name for s in second.steps] == ["check", "snapshot", "train", "register",
                                              "validate", "approve"]
    cand = second.candidate
    assert cand and cand != champ
    info = gw.version(cl, "fraud", cand)
    assert info is not None and "challenger" in info.aliases
    assert info.tags["nbmlops.loop.data"] == "fraud-train@1"
    assert gw.by_alias(cl, "fraud", "champion").version == champ  # not moved yet

    # one parent run, every step a child of it
    runs = client_for(load_config().tracking_uri)
    children = [runs.get_run(s.run_id) for s in second.steps]
    assert {c.data.tags.get("mlflow.parentRunId") for c in children} == {second.parent_run_id}

    pending = loop.pending_approvals("fraud")
    assert [(a.version, a.trained_on) for a in pending] == [(cand, "fraud-train@1")]
    assert pending[0].validation["verdict"] == "pass"
    # a second run_once starts a new iteration: no duplicate approval
    from click.testing import CliRunner

    from nbmlops.cli import main

    listed = CliRunner().invoke(main, ["approvals", "--json"])
    assert listed.exit_code == 0 and json.loads(listed.output)[0]["version"] == cand
    assert f"fraud v{cand} -> @champion" in CliRunner().invoke(main, ["approvals"]).output
    done = CliRunner().invoke(main, ["approvals", "approve", "fraud", cand, "--approver",
                                     "risk-lead", "--reason", "FPR back under target"])
    assert done.exit_code == 0, done.output
    assert gw.by_alias(cl, "fraud", "champion").version == cand
    assert loop.pending_approvals("fraud") == []

    steps = [(r.get("step"), r.get("status") or r.get("outcome")) for r in _audit(project)]
    assert ("iteration", "no-trigger") in steps and ("iteration", "pending-approval") in steps
    assert ("approve", "done") in steps
