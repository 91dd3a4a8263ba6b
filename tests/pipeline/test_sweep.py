"""Sweeps in real parallel kernels: child runs, failures isolated, best run, exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

from nbmlops.config import load_config
from nbmlops.pipeline.sweep import combinations, parse_grid

from .conftest import write_notebook


def test_grid_parsing_and_combinations() -> None:
    grid = parse_grid(["C=0.1, 1,10", "layers=[1, 2]", "name=a"])
    assert grid == {"C": ["0.1", "1", "10"], "layers": ["[1, 2]"], "name": ["a"]}
    combos = combinations({"a": [1, 2], "b": ["x", "y"]}, [{"s": 0}, {"s": 1}])
    assert len(combos) == 8 and combos[0] == {"s": 0, "a": 1, "b": "x"}
    assert combinations(None, [{"s": 0}]) == [{"s": 0}]


@pytest.mark.slow
def test_sweep_parallel_with_one_failure(project: Path) -> None:
    write_notebook(
        project / "nb.ipynb",
        'a: int = 1\nmetrics_path = "out/metrics.json"  # metrics: score',
        "import json, os, pathlib\nif a == 3:\n    raise RuntimeError('a=3 is broken')",
        "pathlib.Path(metrics_path).write_text(json.dumps({'score': -(a - 2) ** 2, "
        "'pid': os.getpid()}))",
    )
    (project / "extra.yaml").write_text("a: 5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "nbmlops", "sweep", "nb.ipynb", "--grid", "a=1,2,3",
         "--params-files", "extra.yaml", "--params-files", "extra.yaml", "--jobs", "2",
         "--metric", "score", "--out-dir", "sweep"],
        cwd=project, capture_output=True, text=True, timeout=300, check=False)
    # combinations: 2 param files x 3 grid values; a=3 fails twice
    assert proc.returncode == 1, proc.stderr
    assert "2 of 6 combinations failed" in proc.stderr
    assert "sweep nb: 100%" in proc.stderr  # tqdm progress bar
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["#", "status", "a", "score", "pid", "run"]
    best = [line for line in lines if line.startswith("*")]
    assert len(best) == 1 and best[0].split()[1:4] == ["1", "ok", "2"]
    assert "best score=0" in proc.stdout and "RuntimeError: a=3 is broken" in proc.stdout

    # each combination wrote its own files, in its own kernel
    metrics = [json.loads((project / "sweep" / f"{i:03d}" / "metrics.json").read_text())
               for i in (0, 1, 3, 4)]
    assert [m["score"] for m in metrics] == [-1, 0, -1, 0]
    assert len({m["pid"] for m in metrics}) == 4
    assert (project / "sweep" / "002" / "nb.ipynb").is_file()  # failed one kept too

    client = mlflow.MlflowClient(load_config().tracking_uri)
    exp = client.get_experiment_by_name(project.name).experiment_id
    parents = client.search_runs([exp], "tags.`nbmlops.kind` = 'sweep'")
    assert len(parents) == 1 and parents[0].info.status == "FAILED"
    parent = parents[0]
    children = client.search_runs([exp], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(c.info.status for c in children) == ["FAILED"] * 2 + ["FINISHED"] * 4
    assert sorted(c.data.params["a"] for c in children) == ["1", "1", "2", "2", "3", "3"]
    best_id = parent.data.tags["nbmlops.sweep.best_run_id"]
    assert client.get_run(best_id).data.metrics["score"] == 0
    assert parent.data.metrics["best_score"] == 0
