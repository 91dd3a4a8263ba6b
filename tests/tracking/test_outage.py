"""A hung or absent tracking server: bounded cells, capped MLflow calls, one upload per run.

Real ``mlflow server`` processes, frozen with SIGSTOP; real concurrent
``nbmlops sync`` processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MlflowServer, free_port
from tests.tracking._helpers import all_runs

pytestmark = [pytest.mark.slow, pytest.mark.server]


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _signal_tree(pid: int, signum: int) -> None:
    for p in _tree(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signum)


@pytest.fixture
def server(tmp_path: Path) -> Any:
    srv = MlflowServer(tmp_path)  # our own: freezing it must not hang the session's server
    yield srv  # started by the test (a start takes a minute on a loaded machine)
    if srv.proc is not None:
        _signal_tree(srv.proc.pid, signal.SIGCONT)
    srv.stop()


def test_frozen_server_during_final_write_spools_within_the_bound(ip: Any, server: Any,
                                                                 project: Path,
                                                                 capsys: Any) -> None:
    server.start(timeout=300)
    ip.run_line_magic("config", "MLOps.final_write_timeout = '3'")
    ip.run_line_magic("config", "MLOps.http_timeout = '2'")
    ip.run_line_magic("mlops", f"init --experiment frozen --tracking-uri {server.url}")
    ip.user_ns["freeze"] = lambda: _signal_tree(server.proc.pid, signal.SIGSTOP)
    # freeze the server the moment the final write starts (from a thread of the cell)
    cell = ("%%mlops run --name frozen\nimport threading, time\nC = 1\nacc = C * 0.75\n"
            "def watch():\n"
            "    while not any(t.name == 'nbmlops-final-write' for t in threading.enumerate()):\n"
            "        time.sleep(0.001)\n"
            "    freeze()\n"
            "threading.Thread(target=watch, daemon=True).start()")
    started = time.monotonic()
    ip.run_cell(cell)
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"cell blocked {elapsed:.0f} s on a frozen server"  # was 363 s
    result = ip.magics_manager.registry["MLOps"].state["tracking"]["last"]
    assert result.spooled
    spool = project / ".nbmlops" / "spool"
    assert len(list(spool.iterdir())) >= 1
    _signal_tree(server.proc.pid, signal.SIGCONT)
    from nbmlops.tracking.spool import sync

    out = sync()
    assert out.waiting == [], out
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=server.url)
    (run,) = [r for r in all_runs(client) if r.info.run_name == "frozen"]
    assert run.info.status == "FINISHED" and run.data.metrics["acc"] == 0.75
    assert len(client.get_metric_history(run.info.run_id, "acc")) == 1


def test_users_own_mlflow_calls_are_capped_offline(ip: Any, project: Path,
                                                   capsys: Any) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    ip.run_line_magic("config", "MLOps.http_timeout = '2'")
    ip.run_line_magic("mlops", f"init --experiment offline --tracking-uri {dead}")
    started = time.monotonic()
    ip.run_cell("%%mlops run --name own\nimport mlflow\nC = 2\n"
                "mlflow.log_metric('own_metric', 0.5)\nmlflow.log_param('own_param', 'x')\n"
                "acc = 0.25")
    elapsed = time.monotonic() - started
    assert elapsed < 90, f"the user's MLflow call hung {elapsed:.0f} s"  # was ~4 min
    result = ip.magics_manager.registry["MLOps"].state["tracking"]["last"]
    assert result.spooled and result.error is None, result.error
    import json

    (folder,) = list((project / ".nbmlops" / "spool").iterdir())
    record = json.loads((folder / "run.json").read_text())["record"]
    assert record["params"]["own_param"] == "x" and record["params"]["C"] == "2"
    assert any(m[0] == "own_metric" and m[1] == 0.5 for m in record["metrics"])


def test_two_concurrent_syncs_upload_each_spooled_run_once(ip: Any, server: Any,
                                                          project: Path) -> None:
    from mlflow import MlflowClient

    url = server.url  # not started yet: the runs are spooled
    ip.run_line_magic("mlops", f"init --experiment twosync --tracking-uri {url}")
    for i in range(6):
        ip.run_cell(f"%%mlops run --name r{i}\nC = {i}\nacc = {i} / 10")
    assert len(list((project / ".nbmlops" / "spool").iterdir())) == 6
    server.start(timeout=300)
    env = {**os.environ, "MLFLOW_TRACKING_URI": url}
    procs = [subprocess.Popen([sys.executable, "-m", "nbmlops", "sync"], cwd=project, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    client = MlflowClient(tracking_uri=url)
    names = sorted(r.info.run_name for r in all_runs(client))
    assert names == [f"r{i}" for i in range(6)], (names, outs)
    assert list((project / ".nbmlops" / "spool").iterdir()) == []
