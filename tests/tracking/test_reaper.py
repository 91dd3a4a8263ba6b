"""Reaper: owner identity is host + pid + process start time; parents reaped; start facts kept.

Real processes and signals: runs are created by real child processes that are
then SIGKILLed, and a real kernel is SIGKILLed mid-cell.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from nbmlops.config import load_config
from nbmlops.tracking import context
from nbmlops.tracking.reaper import reap_dead_runs
from tests.conftest import git
from tests.tracking._helpers import artifact_text
from tests.tracking.test_kernel import _execute, _kernel, _status, _wait_running

OWNER = """
import sys, time
from mlflow import MlflowClient
from nbmlops.tracking import owner_tags
client = MlflowClient(sys.argv[1])
exp = client.get_experiment_by_name("reap")
exp_id = exp.experiment_id if exp else client.create_experiment("reap")
run = client.create_run(exp_id, tags=owner_tags(sys.argv[2]), run_name=sys.argv[3])
print(run.info.run_id, flush=True)
time.sleep(600)
"""


def _owner(project: Path, kind: str, name: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", OWNER, f"sqlite:///{project / 'mlflow.db'}",
                             kind, name], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().strip()
    assert run_id, "the owner process did not create its run"
    return proc, run_id


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_parent_runs_reused_pids_and_hostname_changes(project: Path, client: Any) -> None:
    config = load_config()
    batch, batch_id = _owner(project, "batch", "batch-parent")
    sweep, sweep_id = _owner(project, "sweep", "sweep-parent")
    try:
        assert reap_dead_runs(config) == []  # owners alive: nothing reaped
        # a pid reused by another process: the tags' start time is not the live process's
        client.set_tag(sweep_id, "nbmlops.kernel.started", "1")
        # a hostname change: this machine's run under its old name is still ours
        client.set_tag(batch_id, "nbmlops.kernel.host", "old-hostname")
        assert reap_dead_runs(config) == [sweep_id]
        _kill(batch)
        assert reap_dead_runs(config) == [batch_id]
    finally:
        for proc in (batch, sweep):
            if proc.poll() is None:
                _kill(proc)
    for run_id, what in [(batch_id, "nbmlops run process"), (sweep_id, "nbmlops sweep process")]:
        run = client.get_run(run_id)
        assert run.info.status == "KILLED"
        assert what in run.data.tags["nbmlops.killed_note"]
    # another machine's run (other pid space and machine): never touched
    other, other_id = _owner(project, "kernel", "elsewhere")
    try:
        for key, value in [("pidspace", "x/pid:[1]"), ("machine", "other"), ("host", "other")]:
            client.set_tag(other_id, f"nbmlops.kernel.{key}", value)
        _kill(other)
        assert reap_dead_runs(config) == []
    finally:
        if other.poll() is None:
            _kill(other)


def test_owner_tags_name_this_process() -> None:
    tags = context.owner_tags("batch")
    assert tags["nbmlops.kernel.pid"] == str(os.getpid())
    assert tags["nbmlops.kernel.kind"] == "batch"
    assert context.is_local({k.rsplit(".", 1)[-1]: v for k, v in tags.items()})
    assert context.owner_alive({k.rsplit(".", 1)[-1]: v for k, v in tags.items()})
    rebooted = {k.rsplit(".", 1)[-1]: v for k, v in tags.items()}
    rebooted.update(boot="another-boot", pidspace="another-boot/pid:[1]")
    assert context.is_local(rebooted) and not context.owner_alive(rebooted)


@pytest.mark.slow
def test_sigkilled_cell_keeps_what_was_known_at_start(git_project: Path, client: Any) -> None:
    (git_project / "helper.py").write_text("x = 1\n")
    git(git_project, "add", "helper.py")
    git(git_project, "commit", "-q", "-m", "helper")
    (git_project / "helper.py").write_text("x = 2\n")  # uncommitted: a diff to keep
    db = git_project / "mlflow.db"
    km, kc = _kernel(git_project)
    try:
        reply, _ = _execute(kc, "%load_ext nbmlops\nimport sklearn")
        assert reply["status"] == "ok"
        msg_id = kc.execute("%%mlops run --name doomed --seed 7 --tags team=ml\n"
                            "C = 7\nmax_iter = 50\nimport time\ntime.sleep(600)")
        _wait_running(kc, db, "doomed", msg_id)
        time.sleep(1.0)  # the start write follows the run's creation
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        km.provisioner.process.wait()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert _status(db, "doomed") == "RUNNING"
    (run_id,) = reap_dead_runs(load_config())
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert run.data.params == {"C": "7", "max_iter": "50"}  # promoted (autolog was on)
    tags = run.data.tags
    assert tags["nbmlops.seed"] == "7" and tags["team"] == "ml"
    assert tags["mlflow.source.git.dirty"] == "true" and "mlflow.source.git.commit" in tags
    assert "nbmlops.python" in tags
    assert artifact_text(client, run_id, "code/cell.py").startswith("C = 7")
    assert "+x = 2" in artifact_text(client, run_id, "git/diff.patch")
    assert "mlflow==" in artifact_text(client, run_id, "env/requirements.txt").lower()
