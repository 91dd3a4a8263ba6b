"""Batch runs in real kernels: tracking, nested runs, reproducibility, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import nbformat
import pytest

from nbmlops.config import load_config
from nbmlops.exceptions import KernelDiedError
from nbmlops.pipeline.runner import run_notebook

from .conftest import write_notebook

pytestmark = pytest.mark.slow


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbmlops", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def test_train_run_is_tracked_nested_and_reproducible(train_nb: Path, project: Path) -> None:
    source_bytes = train_nb.read_bytes()
    proc = _cli("run", "notebooks/train.ipynb", "-p", "C", "0.5", "-p", "max_iter", "300",
                "--json", cwd=project)
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)
    # same inputs, same result (seeds come from the parameters)
    second = run_notebook("notebooks/train.ipynb", {"C": 0.5, "max_iter": 300})
    assert first["metrics"] == second.metrics
    assert {"accuracy", "f1"} <= set(second.metrics)
    assert 0.5 < second.metrics["accuracy"] <= 1.0
    # the source is never written; the executed notebook goes next to the outputs
    assert train_nb.read_bytes() == source_bytes
    out = project / "outputs" / "train" / "train.ipynb"
    assert first["output_notebook"] == str(out)
    assert (project / "outputs" / "train" / "model.joblib").is_file()
    executed = nbformat.read(str(out), as_version=4)
    injected = executed.cells[2]
    assert injected.metadata.tags == ["injected-parameters"]
    assert "C = 0.5\nmax_iter = 300" in injected.source
    assert executed.metadata.papermill.parameters == {"C": 0.5, "max_iter": 300}

    client = mlflow.MlflowClient(load_config().tracking_uri)
    run = client.get_run(first["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["C"] == "0.5" and run.data.params["max_iter"] == "300"
    assert run.data.params["seed"] == "0"  # defaults are recorded too
    assert run.data.metrics["accuracy"] == first["metrics"]["accuracy"]
    assert run.data.tags["mlflow.source.name"] == str(train_nb)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"train.ipynb", "metrics.json"} <= artifacts
    # the notebook's own %%mlops run cell is a nested child run
    assert len(first["child_run_ids"]) == 1
    child = client.get_run(first["child_run_ids"][0])
    assert child.data.tags["mlflow.parentRunId"] == run.info.run_id
    assert child.data.params["C"] == "0.5"
    assert child.data.metrics["accuracy"] == first["metrics"]["accuracy"]
    assert second.run_id != first["run_id"]


HOSTILE = 'q"uote \\ back\nslash """ \u2028 " + str(globals().__setitem__("pwned", 1)) + "'


def test_summary_lists_the_cells_own_metrics_before_autologged_ones(project: Path) -> None:
    """Without a ``metrics:`` file the metrics come from the cell runs, in ``nbmlops runs``'
    order: ``val_auc`` first, not after sklearn autolog's ``training_*`` (nor cut from the
    sweep table, which shows four metrics)."""
    write_notebook(
        project / "auc.ipynb", "C: float = 1.0",
        "%load_ext nbmlops",
        "from sklearn.datasets import make_classification\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.metrics import roc_auc_score\n"
        "X, y = make_classification(n_samples=200, random_state=0)",
        "%%mlops run --name fit\n"
        "model = LogisticRegression(C=C).fit(X, y)\n"
        "val_auc = float(roc_auc_score(y, model.predict_proba(X)[:, 1]))",
    )
    proc = _cli("run", "auc.ipynb", "--no-progress", cwd=project)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("  metrics: "))
    names = [item.split("=")[0] for item in line.removeprefix("  metrics: ").split(", ")]
    assert names[0] == "val_auc" and any(n.startswith("training_") for n in names), line
    proc = _cli("sweep", "auc.ipynb", "--grid", "C=0.1,1", "--no-progress", cwd=project)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].split()[3] == "val_auc", proc.stdout


def test_failures_exit_codes_and_records(project: Path) -> None:
    write_notebook(
        project / "fail.ipynb", "x = 1\ntext = ''",
        "import json\n"
        "json.dump({'text': text, 'pwned': 'pwned' in globals()}, open('echo.json', 'w'))",
        "y = x + 1",
        "raise ValueError(f'bad x={x}')",
        "never = True",
    )
    proc = _cli("run", "fail.ipynb", "-p", "x", "2", "-p", "text", HOSTILE, cwd=project)
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "Cell 4 (`raise ValueError(f'bad x={x}')`) raised ValueError: bad x=2" in errors[0]
    # hostile string arrived as data, nothing ran
    assert json.loads((project / "echo.json").read_text()) == {"text": HOSTILE, "pwned": False}
    executed = nbformat.read(str(project / "outputs" / "fail" / "fail.ipynb"), as_version=4)
    assert "papermill-error-cell-tag" in executed.cells[0].metadata.get("tags", [])
    assert executed.metadata.papermill.exception is True
    client = mlflow.MlflowClient(load_config().tracking_uri)
    failed = client.search_runs([client.get_experiment_by_name(project.name).experiment_id])
    assert [r.info.status for r in failed] == ["FAILED"]
    assert "ValueError: bad x=2" in failed[0].data.tags["nbmlops.error"]
    assert "fail.ipynb" in {a.path for a in client.list_artifacts(failed[0].info.run_id)}

    write_notebook(project / "dies.ipynb", "a = 1",
                   "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(KernelDiedError) as err:
        run_notebook("dies.ipynb", {"a": 2})
    assert err.value.exit_code == 3 and "kernel died" in str(err.value)
    assert client.get_run(err.value.result.run_id).info.status == "FAILED"

    write_notebook(project / "slow.ipynb", "a = 1", "import time\ntime.sleep(120)")
    result = run_notebook("slow.ipynb", timeout=2, raise_on_error=False)
    assert (result.status, result.exit_code) == ("kernel_died", 3)
    assert "timed out after 2" in (result.error or "")


def test_an_unreachable_tracking_server_fails_before_anything_runs(project: Path) -> None:
    import os
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_notebook(project / "plain.ipynb", "a = 1", "open('ran.txt', 'w').write('ran')")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}
    for args in (["run", "plain.ipynb"], ["sweep", "plain.ipynb", "--grid", "a=1,2"]):
        proc = subprocess.run([sys.executable, "-m", "nbmlops", *args], cwd=project, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 2, proc.stderr
        assert f"http://127.0.0.1:{port} does not answer" in proc.stderr
        assert "Nothing was run" in proc.stderr
    assert not (project / "ran.txt").exists()
    assert not (project / "outputs").exists()
