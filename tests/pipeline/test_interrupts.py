"""SIGTERM on ``nbmlops run``, Ctrl-C on ``nbmlops sweep --jobs 2`` (issue 11): real processes.

Each test starts the real CLI, waits until its kernels run a long cell,
sends the signal, and checks the exit code, that the kernels are gone and
that no MLflow run is left RUNNING (batch, sweep and cell runs end KILLED).
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
from nbmlops.mlflow_gateway import client_for

from .conftest import write_notebook

pytestmark = pytest.mark.slow

NBMLOPS = [sys.executable, "-m", "nbmlops"]
#: the kernel writes its pid to started-<i> and then waits (long enough never to end itself)
SLEEP = ('import os, pathlib, time\n'
         'pathlib.Path(f"started-{i}").write_text(str(os.getpid()))\n'
         'time.sleep(300)')


def _wait_for(paths: list[Path], proc: subprocess.Popen[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.is_file() and p.read_text() for p in paths):
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}): {proc.communicate()}")
        assert time.monotonic() < deadline, f"never started: {paths}"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] \
        if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def _wait_gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid)


def _runs() -> list[Any]:
    config = load_config()
    client = client_for(config.tracking_uri)
    exp = client.get_experiment_by_name(config.experiment)
    return list(client.search_runs([exp.experiment_id])) if exp else []


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*NBMLOPS, *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_sigterm_on_run_stops_the_kernel_and_marks_runs_killed(project: Path) -> None:
    write_notebook(project / "slow.ipynb", "i = 0", "%load_ext nbmlops",
                   "%%mlops run\n" + SLEEP)
    proc = _start(["run", "slow.ipynb"], project)
    started = project / "started-0"
    _wait_for([started], proc)
    kernel = int(started.read_text())
    time.sleep(1)  # the cell run exists once the cell body runs
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 143, (out, err)
    assert "marked KILLED" in err and "Traceback" not in err, err
    assert _wait_gone(kernel), "the kernel outlived its run"
    runs = _runs()
    batch = [r for r in runs if r.data.tags.get("nbmlops.kind") == "pipeline"]
    assert len(batch) == 1 and batch[0].info.status == "KILLED"
    # the batch run names its owner (host, pid, start time) for the reaper
    assert batch[0].data.tags["nbmlops.kernel.pid"] == str(proc.pid)
    assert batch[0].data.tags["nbmlops.kernel.started"]
    cells = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == batch[0].info.run_id]
    assert cells and all(r.info.status == "KILLED" for r in cells), \
        [(r.info.run_name, r.info.status) for r in cells]
    assert not [r for r in runs if r.info.status == "RUNNING"]


def _sweep_nb(project: Path, ignore_sigint: bool = False) -> None:
    cell = ("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + SLEEP
            if ignore_sigint else SLEEP)
    write_notebook(project / "grid.ipynb", "i = 0", cell)


def test_ctrl_c_on_sweep_stops_launching_and_marks_every_open_run_killed(project: Path) -> None:
    _sweep_nb(project)
    proc = _start(["sweep", "grid.ipynb", "--grid", "i=0,1,2,3", "--jobs", "2",
                   "--no-progress"], project)
    first = [project / "started-0", project / "started-1"]
    _wait_for(first, proc)
    kernels = [int(p.read_text()) for p in first]
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    elapsed = time.monotonic() - t0
    print(f"sweep exited {proc.returncode} {elapsed:.1f} s after Ctrl-C")
    assert proc.returncode == 130, (out, err)
    assert all(_wait_gone(k) for k in kernels), "a kernel outlived the sweep"
    # nothing new was launched
    assert not (project / "started-2").exists() and not (project / "started-3").exists()
    runs = _runs()
    sweep = [r for r in runs if r.data.tags.get("nbmlops.kind") == "sweep"]
    assert len(sweep) == 1 and sweep[0].info.status == "KILLED"
    assert sweep[0].data.tags["nbmlops.kernel.pid"] == str(proc.pid)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == sweep[0].info.run_id]
    assert len(children) == 2 and all(r.info.status == "KILLED" for r in children)
    assert not [r for r in runs if r.info.status == "RUNNING"]


def test_second_ctrl_c_exits_at_once(project: Path) -> None:
    _sweep_nb(project, ignore_sigint=True)  # the first Ctrl-C cannot stop these cells
    proc = _start(["sweep", "grid.ipynb", "--grid", "i=0,1", "--jobs", "2",
                   "--no-progress"], project)
    first = [project / "started-0", project / "started-1"]
    _wait_for(first, proc)
    kernels = [int(p.read_text()) for p in first]
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert all(_wait_gone(k) for k in kernels), "a kernel outlived the sweep"


def test_batch_run_of_a_sigkilled_runner_is_reaped(project: Path) -> None:
    """SIGKILL cannot be handled: the owner identity tags let the reaper end the run."""
    from nbmlops.tracking.reaper import reap_dead_runs

    write_notebook(project / "slow.ipynb", "i = 0", SLEEP)
    proc = _start(["run", "slow.ipynb"], project)
    started = project / "started-0"
    try:
        _wait_for([started], proc)
        # the run is created by a helper process while the kernel boots: wait for it
        deadline = time.monotonic() + 240
        while not (batch := [r for r in _runs()
                             if r.data.tags.get("nbmlops.kind") == "pipeline"]):
            assert time.monotonic() < deadline, "the batch run was never created"
            time.sleep(0.5)
        proc.kill()
        proc.communicate(timeout=60)
        assert len(batch) == 1 and batch[0].info.status == "RUNNING"
        assert batch[0].info.run_id in reap_dead_runs(load_config())
        assert _runs()[0].info.status == "KILLED"
    finally:  # the orphaned kernel (its runner could not stop it)
        if started.is_file() and started.read_text():
            os.kill(int(started.read_text()), signal.SIGKILL)
