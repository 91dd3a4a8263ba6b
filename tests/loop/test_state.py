"""The per-model state file: atomic, resumable, a finished iteration is no longer open."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

from nbmlops.loop import state as st


def test_state_round_trip_and_finish(project: Path) -> None:
    assert st.load_state(project, "fraud") is None
    now = _dt.datetime(2026, 1, 2, tzinfo=_dt.timezone.utc)
    s = st.IterationState(model="fraud", now=now.isoformat(), parent_run_id="p1")
    st.mark(project, s, "check", "done", triggered=True, detail="drift")
    st.mark(project, s, "snapshot", "started")
    again = st.load_state(project, "fraud")
    assert again is not None and again.iteration == s.iteration and again.when == now
    assert again.done("check") and not again.done("snapshot")
    assert again.value("check", "triggered") is True
    s.outcome = "no-trigger"
    st.save_state(project, s)
    assert st.load_state(project, "fraud") is None  # finished: the next run starts anew
    kept = json.loads(st.state_path(project, "fraud").read_text())
    assert kept["last"]["outcome"] == "no-trigger"
    assert not list(st.state_path(project, "fraud").parent.glob(".*"))  # no temp files left
