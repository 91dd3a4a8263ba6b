"""The README's main job: ``nbmlops demo`` executes the quickstart in a real kernel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_are_committed_without_outputs() -> None:
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} cell {i} has outputs"
                assert cell.execution_count is None, f"{path.name} cell {i} has a count"


@pytest.mark.slow
def test_demo_runs_quickstart_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    out = subprocess.run(
        [sys.executable, "-m", "nbmlops", "demo", "--dir", str(folder), "--json"],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "without encryption" not in out.stderr  # the kernel talks over IPC sockets
    result = json.loads(out.stdout[out.stdout.index("{"):])
    assert Path(result["executed_notebook"]).is_file()
    assert result["tracking_uri"] == f"sqlite:///{folder.resolve() / 'mlflow.db'}"
    runs = {r["name"]: r for r in result["runs"]}
    assert {"baseline", "stronger-regularisation"} <= set(runs)
    for run in runs.values():
        assert run["status"] == "FINISHED"
        assert "auc" in run["metrics"]
        assert run["params"]["C"] in {"0.5", "0.05"}
    assert (folder / "drift.html").is_file()
    import mlflow

    run = mlflow.MlflowClient(result["tracking_uri"]).get_run(runs["baseline"]["run_id"])
    assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
    assert run.data.tags["mlflow.source.name"].endswith("quickstart.ipynb")
    # what the user sees: no MLflow store-creation logs or autolog warnings in cells
    nb = nbformat.read(result["executed_notebook"], as_version=4)
    streams = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream")
    assert "Creating initial MLflow database tables" not in streams
    assert "FutureWarning" not in streams
    assert list((folder / "data" / "snapshots").glob("train.parquet.dvc"))


def test_demo_human_output_says_how_to_open_the_ui(tmp_path: Path) -> None:
    from nbmlops.demo import DemoResult

    text = str(DemoResult(folder=tmp_path, executed_notebook=tmp_path / "x.ipynb",
                          tracking_uri="sqlite:///db", experiment="demo"))
    assert "nbmlops ui" in text and "mlflow ui --backend-store-uri sqlite:///db" in text
