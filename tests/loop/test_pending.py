"""A candidate waiting for its sign-off: the next run starts no new iteration (no duplicate)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.loop import _world as w

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_pending_approval_blocks_a_new_iteration_until_decided(dvc_project: Path) -> None:
    import nbmlops.loop as loop
    from nbmlops.config import load_config
    from nbmlops.loop import approvals

    w.champion(dvc_project)
    _second_version()
    (dvc_project / "logs" / "predictions").mkdir(parents=True)
    approvals.request(load_config(), approvals.Approval(
        model="fraud", version="2", alias="champion", requested_at="2026-01-08T00:00:00+00:00",
        trained_on="fraud-train@1", iteration="it1"))

    held = loop.run_once()
    assert held.outcome == "pending-approval" and held.exit_code == 0, held.table()
    assert held.steps == [] and held.candidate == "2" and held.iteration == "it1"
    assert "fraud v2 still waits for a sign-off" in held.message
    assert not (dvc_project / ".nbmlops" / "loop" / "fraud.json").exists()  # nothing started
    out = subprocess.run([sys.executable, "-m", "nbmlops", "loop", "--once"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0 and "fraud v2 still waits" in out.stdout, out.stdout + out.stderr
    assert [a.version for a in loop.pending_approvals("fraud")] == ["2"]  # not asked twice

    loop.reject("fraud", "2", approver="risk-lead", reason="trained on a stale window")
    after = loop.run_once()  # decided: the loop runs again (here: no traffic yet)
    assert after.outcome == "waiting" and "no traffic" in after.message, after.table()


def _second_version() -> None:
    import nbmlops
    from nbmlops.registry import register

    train = w.rows(500, 2)
    ns = {"train": train, "make_model": w.make_model}
    run = nbmlops.capture_run("model = make_model().fit(train.drop(columns=['is_fraud']), "
                              "train['is_fraud'])", ns, name="candidate", autolog=False)
    assert register("fraud", run, model=ns["model"]).version == "2"
