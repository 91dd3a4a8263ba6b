"""SIGKILL ``nbmlops loop --once`` while each step runs; the re-runs finish the iteration.

No duplicate snapshot version, model version or approval request results.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.loop import _world as w

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

STEPS = ("check", "snapshot", "train", "register", "validate", "approve")


def _step_status(state: Path, step: str) -> str | None:
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return None
    return ((data.get("current") or {}).get("steps") or {}).get(step, {}).get("status")


def _kill_during(step: str, state: Path, now: str) -> str:
    """Start ``loop --once``; SIGKILL its process group once ``step`` has started."""
    proc = subprocess.Popen([sys.executable, "-m", "nbmlops", "loop", "--once", "--now", now],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        if _step_status(state, step) is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(60)
            return f"killed in {step} ({_step_status(state, step)})"
        time.sleep(0.01)
    err = proc.stderr.read().decode() if proc.stderr else ""
    return f"finished before {step} was seen: rc={proc.returncode} {err[-300:]}"


def test_kill_at_each_step_then_resume(dvc_project: Path) -> None:
    import nbmlops
    import nbmlops.loop as loop
    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import registry as gw

    w.champion(dvc_project)
    train = w.rows(3000, 1)
    fitted = w.make_model().fit(train.drop(columns=["is_fraud"]), train["is_fraud"])
    w.traffic(dvc_project / "logs" / "predictions", fitted, 0, 24 * 15, ramp_from=24 * 8)
    state = dvc_project / ".nbmlops" / "loop" / "fraud.json"
    now = w.at_hour(24 * 15).isoformat()
    kills: list[Any] = [_kill_during(step, state, now) for step in STEPS]
    print("\n" + "\n".join(kills))
    assert sum(k.startswith("killed") for k in kills) >= 4, kills
    out = subprocess.run([sys.executable, "-m", "nbmlops", "loop", "--once", "--now", now,
                          "--json"], capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout)
    assert result["outcome"] == "pending-approval", result
    cl = gw.client(load_config().tracking_uri)
    assert sorted(v.version for v in gw.versions(cl, "fraud")) == ["1", "2"]
    assert [s.version for s in nbmlops.snapshots("fraud-train")] == [1]
    assert [(a.model, a.version) for a in loop.pending_approvals()] == [("fraud", "2")]
    # one iteration, one parent run: every step's child hangs under it
    assert len({s["run_id"] for s in result["steps"]}) == len(STEPS)
