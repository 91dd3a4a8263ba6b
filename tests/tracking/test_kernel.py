"""A real kernel: SIGKILLed mid-cell, its run is marked KILLED when a new kernel loads us.

Also checks, in that real kernel, that a failing ``%%mlops run`` cell shows its
error once and reports the cell as failed (what papermill/nbclient rely on).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_client import KernelManager

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def _reply(kc: Any, msg_id: str, timeout: float = 120) -> dict:
    """The shell reply to request ``msg_id`` (replies to other requests are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def _execute(kc: Any, code: str, timeout: float = 120) -> tuple[dict, list[dict]]:
    """Run ``code``; its reply and its iopub messages, both matched by message id."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        outputs.append(msg)
    return _reply(kc, msg_id, timeout)["content"], outputs


def _status(db: Path, name: str) -> str | None:
    if not db.exists():
        return None
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT status FROM runs WHERE name = ?", (name,)).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()
    return row[0] if row else None


def _wait_running(kc: Any, db: Path, name: str, msg_id: str, timeout: float = 120) -> None:
    """Wait until run ``name`` is RUNNING; fail with the kernel's error if the cell failed."""
    deadline = time.monotonic() + timeout
    while _status(db, name) != "RUNNING":
        assert time.monotonic() < deadline, f"run {name!r} never started"
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except Exception:  # queue.Empty: nothing new from the kernel
            continue
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))


def _kernel(cwd: Path) -> tuple[KernelManager, Any]:
    km = KernelManager(kernel_name="python3")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    km.start_kernel(cwd=str(cwd), env={**os.environ, "PYTHONPATH": path})  # this checkout
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def test_sigkilled_kernel_run_is_marked_killed_by_next_kernel(project):
    db = project / "mlflow.db"
    km, kc = _kernel(project)
    try:
        reply, outputs = _execute(kc, "%load_ext nbmlops")
        assert reply["status"] == "ok"
        reply, outputs = _execute(kc, "%%mlops run --name boom\nx = 1\n1 / 0")
        assert reply["status"] == "error" and reply["ename"] == "ZeroDivisionError"
        errors = [m for m in outputs if m["msg_type"] == "error"]
        assert len(errors) == 1  # shown once
        assert _status(db, "boom") == "FAILED"
        # Ctrl-C (a real SIGINT to the kernel) mid-cell: KILLED, kernel still usable
        msg_id = kc.execute("%%mlops run --name interrupted\nimport time\ntime.sleep(120)")
        _wait_running(kc, db, "interrupted", msg_id)
        km.interrupt_kernel()
        reply = _reply(kc, msg_id, timeout=60)
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert _status(db, "interrupted") == "KILLED"
        doomed = kc.execute("%%mlops run --name doomed\nimport time\nC = 1\ntime.sleep(600)")
        _wait_running(kc, db, "doomed", doomed)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        km.provisioner.process.wait()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert _status(db, "doomed") == "RUNNING"  # nothing could end it

    km, kc = _kernel(project)
    try:
        reply, _ = _execute(kc, "%load_ext nbmlops\n"
                                "from nbmlops.tracking import reaper\nkilled = reaper.wait(60)")
        assert reply["status"] == "ok"
        reply, outputs = _execute(kc, "print(len(killed))")
        assert any(m["msg_type"] == "stream" and m["content"]["text"].strip() == "1"
                   for m in outputs)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert _status(db, "doomed") == "KILLED"
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    run = client.search_runs([client.get_experiment_by_name(project.name).experiment_id],
                             filter_string="attributes.run_name = 'doomed'")[0]
    assert "died while this run was RUNNING" in run.data.tags["nbmlops.killed_note"]
    assert run.data.tags["mlflow.note.content"].startswith("**Marked KILLED")
