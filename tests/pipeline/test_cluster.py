"""Sweeps on a real Dask cluster (``distributed.LocalCluster``, 2 worker processes).

Each combination is a task on a worker process; the MLflow records must be
those of a local sweep; a worker killed mid-combination (by its own
notebook, which SIGKILLs the kernel's parent) is retried or reported, its run
KILLED; Ctrl-C (a real SIGINT to the CLI) ends the running runs KILLED.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest

from nbmlops.config import load_config

from ..conftest import free_port
from ._cluster import local_cluster
from .conftest import write_notebook

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

#: a cell that kills the Dask worker running this notebook (the kernel's parent process)
KILL_WORKER = ("import os, signal\n"
               "os.kill(os.getppid(), signal.SIGKILL)\n"
               "os._exit(1)")


@pytest.fixture
def cluster(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A 2-process LocalCluster where nbmlops, not Dask, decides about dead workers."""
    import types

    # earlier tests' IPython shells leave a ``__main__`` without ``__spec__`` in
    # sys.modules, which multiprocessing's spawn (the nanny's worker start) cannot read
    if not hasattr(sys.modules["__main__"], "__spec__"):
        monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    lc, client = local_cluster()
    try:
        yield client
    finally:
        client.close()
        lc.close()


def _children(parent: str, sweep: bool = True) -> list[Any]:
    client = mlflow.MlflowClient(load_config().tracking_uri)
    runs = client.search_runs([client.get_run(parent).info.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent}'",
                              order_by=["attributes.start_time ASC"])
    if not sweep:
        return list(runs)
    return sorted(runs, key=lambda r: (int(r.data.tags["nbmlops.sweep.index"]),
                                       r.info.start_time))


def _view(run: Any, out_dir: str) -> dict[str, Any]:
    """What must not depend on where a child run ran (the sweep's folder aside)."""
    params = {k: v.replace(out_dir, "<out>") for k, v in run.data.params.items()}
    # the owner identity (nbmlops.kernel.*) names the process that ran it: it differs by design
    tags = {k: v for k, v in run.data.tags.items()
            if (k.startswith("nbmlops.") and not k.startswith("nbmlops.kernel."))
            or k in {"mlflow.runName", "mlflow.source.type"}}
    return {"status": run.info.status, "params": params,
            "metrics": run.data.metrics, "tags": tags}


def test_cluster_sweep_records_what_a_local_sweep_records(train_nb: Path, project: Path,
                                                          cluster: Any) -> None:
    from nbmlops.pipeline.sweep import sweep

    grid = {"C": ["0.1", "1"], "max_iter": ["100", "200"]}
    local = sweep(train_nb, grid, jobs=2, metric="accuracy", out_dir="local", progress=False)
    remote = f"file://{project / 'remote'}"
    dask = sweep(train_nb, grid, jobs=2, metric="accuracy", out_dir=remote, progress=False,
                 cluster=cluster)
    assert local.exit_code == dask.exit_code == 0, dask.table()
    assert [r.status for r in dask.runs] == [r.status for r in local.runs] == ["ok"] * 4
    assert [r.metrics for r in dask.runs] == [r.metrics for r in local.runs]
    assert dask.best is not None and local.best is not None
    assert dask.runs.index(dask.best) == local.runs.index(local.best)
    assert dask.out_dir == remote
    for i, run in enumerate(dask.runs):  # written by a worker, copied to the URL
        assert run.output_notebook == f"{remote}/{i:03d}/train.ipynb"
        assert (project / "remote" / f"{i:03d}" / "train.ipynb").is_file()
        assert (project / "remote" / f"{i:03d}" / "metrics.json").is_file()

    client = mlflow.MlflowClient(load_config().tracking_uri)
    parents = [client.get_run(r.run_id) for r in (local, dask)]  # type: ignore[arg-type]
    assert parents[0].data.params == parents[1].data.params
    assert parents[0].data.metrics == parents[1].data.metrics
    assert [p.info.status for p in parents] == ["FINISHED", "FINISHED"]
    kids = [_children(p.info.run_id) for p in parents]
    assert len(kids[0]) == len(kids[1]) == 4
    folders = [p.data.tags["nbmlops.sweep.out_dir"] for p in parents]
    assert folders[0] == str(project / "local")
    views = [[_view(r, folder) for r in runs] for runs, folder in zip(kids, folders, strict=True)]
    assert views[0] == views[1]
    assert views[1][3]["params"]["metrics_path"] == "<out>/003/metrics.json"
    # each child holds its notebook's own %%mlops run, as in a local sweep
    for run in kids[1]:
        assert len(_children(run.info.run_id, sweep=False)) == 1


def test_worker_killed_mid_combination_is_reported_and_its_run_killed(
        project: Path, cluster: Any) -> None:
    write_notebook(project / "nb.ipynb",
                   'a: int = 1\nmetrics_path = "out/metrics.json"  # metrics: score',
                   "import nbmlops  # the run exists before the first cell",
                   f"if a == 2:\n    {KILL_WORKER.replace(chr(10), chr(10) + '    ')}",
                   "import json, pathlib\n"
                   "pathlib.Path(metrics_path).write_text(json.dumps({'score': a}))")
    address = cluster.scheduler.address
    proc = subprocess.run(
        [sys.executable, "-m", "nbmlops", "sweep", "nb.ipynb", "--grid", "a=1,2,3",
         "--cluster", address, "--retries", "0", "--metric", "score", "--out-dir", "sw"],
        cwd=project, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr  # a crash, not a failing notebook
    assert "1 of 3 combinations failed" in proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[1:4]]
    assert [r[0:2] if r[0] != "*" else r[1:3] for r in rows] == [
        ["0", "ok"], ["1", "kernel_died"], ["2", "ok"]]
    assert "#1 kernel_died: The Dask worker running it died (1 attempt)" in proc.stdout

    client = mlflow.MlflowClient(load_config().tracking_uri)
    exp = client.get_experiment_by_name(project.name)
    assert exp is not None
    parent = client.search_runs([exp.experiment_id], "tags.`nbmlops.kind` = 'sweep'")[0]
    assert parent.info.status == "FAILED"
    kids = _children(parent.info.run_id)
    assert [k.info.status for k in kids] == ["FINISHED", "KILLED", "FINISHED"]
    assert kids[1].data.tags["nbmlops.status"] == "kernel_died"
    assert kids[1].data.tags["nbmlops.exit_code"] == "3"
    assert [k.data.metrics.get("score") for k in kids] == [1.0, None, 3.0]


def test_worker_killed_once_is_retried(project: Path, cluster: Any) -> None:
    from nbmlops.pipeline.sweep import sweep

    write_notebook(project / "nb.ipynb",
                   'a: int = 1\nmetrics_path = "out/metrics.json"  # metrics: score',
                   "import nbmlops, pathlib",
                   "marker = pathlib.Path('died-once')\n"
                   "if a == 2 and not marker.exists():\n    marker.write_text('x')\n    "
                   + KILL_WORKER.replace("\n", "\n    "),
                   "import json\npathlib.Path(metrics_path).write_text(json.dumps({'score': a}))")
    result = sweep(project / "nb.ipynb", {"a": [1, 2, 3]}, metric="score", out_dir="sw",
                   progress=False, cluster=cluster.scheduler.address, retries=1)
    assert result.exit_code == 0, result.table()
    assert [r.metrics["score"] for r in result.runs] == [1.0, 2.0, 3.0]
    kids = _children(result.run_id)  # type: ignore[arg-type]
    statuses = [(k.data.tags["nbmlops.sweep.index"], k.info.status) for k in kids]
    assert statuses == [("0", "FINISHED"), ("1", "KILLED"), ("1", "FINISHED"),
                        ("2", "FINISHED")]
    assert result.runs[1].run_id == kids[2].info.run_id


def test_ctrl_c_cancels_the_rest_and_kills_running_runs(project: Path, cluster: Any) -> None:
    write_notebook(project / "nb.ipynb", "a: int = 1", "import nbmlops, time",
                   "time.sleep(300)")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbmlops", "sweep", "nb.ipynb", "--grid", "a=1,2,3,4",
         "--cluster", cluster.scheduler.address, "--out-dir", "sw"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = mlflow.MlflowClient(load_config().tracking_uri)
    deadline = time.monotonic() + 300
    running: list[Any] = []
    while len(running) < 2 and time.monotonic() < deadline:  # both workers busy
        time.sleep(1)
        exp = client.get_experiment_by_name(project.name)
        running = [] if exp is None else client.search_runs(
            [exp.experiment_id], "tags.`nbmlops.kind` = 'pipeline' and "
            "attributes.status = 'RUNNING'")
    assert len(running) == 2, proc.kill() or proc.communicate()
    time.sleep(2)  # the cells are sleeping
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    assert proc.returncode == 130, out + err  # as a local sweep: 128 + SIGINT
    exp = client.get_experiment_by_name(project.name)
    assert exp is not None
    runs = client.search_runs([exp.experiment_id])
    statuses = {r.data.tags.get("nbmlops.kind"): [] for r in runs}
    for r in runs:
        statuses[r.data.tags.get("nbmlops.kind")].append(r.info.status)
    assert statuses["sweep"] == ["KILLED"], err
    assert statuses["pipeline"] == ["KILLED", "KILLED"]  # the queued two never started
    # interrupted in their worker thread, as Ctrl-C interrupts a local run: execute()
    # ended them "killed" (the fallback that ends RUNNING leftovers would say "cancelled")
    assert all(r.data.tags.get("nbmlops.status") == "killed" for r in runs
               if r.data.tags.get("nbmlops.kind") == "pipeline")
    assert not any(r.info.status == "RUNNING" for r in runs)


def test_unreachable_scheduler_is_bad_input(project: Path) -> None:
    write_notebook(project / "nb.ipynb", "a: int = 1", "print(a)")
    proc = subprocess.run(
        [sys.executable, "-m", "nbmlops", "sweep", "nb.ipynb", "--grid", "a=1,2",
         "--cluster", f"tcp://127.0.0.1:{free_port()}", "--json"],
        cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "does not answer" in proc.stderr and "Nothing was run" in proc.stderr
    assert json.loads(proc.stdout)["parameter"] == "cluster"
    assert not (project / "outputs").exists()
