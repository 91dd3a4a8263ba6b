"""Export to DVC, real ``dvc``: repro, no-op repro, ``exp run -S``, fresh clone via CI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ..conftest import git

pytestmark = pytest.mark.slow

#: the stage's ``cmd`` calls ``nbmlops`` and the CI script calls ``dvc``: scripts in this
#: interpreter's bin folder, which need not be on PATH (a virtual environment not activated);
#: what docs/pipelines.md tells users to do: put it on PATH
_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def _run(cmd: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, "PATH": _PATH, **env})
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout}\n{proc.stderr}"
    return proc


def _dvc(cwd: Path, *args: str) -> str:
    proc = _run([sys.executable, "-m", "dvc", *args], cwd)
    return proc.stdout + proc.stderr


def test_export_repro_exp_run_and_fresh_clone(dvc_project: Path, train_nb: Path,
                                              tmp_path: Path) -> None:
    nbmlops = [sys.executable, "-m", "nbmlops"]
    _run([*nbmlops, "export", "notebooks/train.ipynb"], dvc_project)
    _run([*nbmlops, "ci", "init"], dvc_project)
    (dvc_project / ".gitignore").write_text("mlflow.db\nmlartifacts/\nci-artifacts/\n")
    git(dvc_project, "add", ".")
    git(dvc_project, "commit", "-q", "-m", "train pipeline")

    _dvc(dvc_project, "repro")
    metrics_file = dvc_project / "outputs" / "train" / "metrics.json"
    first = json.loads(metrics_file.read_text())
    assert (dvc_project / "outputs" / "train" / "model.joblib").is_file()
    lock = yaml.safe_load((dvc_project / "dvc.lock").read_text())["stages"]["train"]
    assert lock["params"]["params.yaml"]["train.C"] == 1.0
    assert [d["path"] for d in lock["deps"]] == ["notebooks/train.ipynb"]

    again = _dvc(dvc_project, "repro")
    assert "didn't change, skipping" in again and "Running stage" not in again
    assert "up to date" in _dvc(dvc_project, "status")
    git(dvc_project, "add", "dvc.lock", ".gitignore")
    git(dvc_project, "commit", "-q", "-m", "lock")

    # a fresh clone reproduces the same metrics through the generated CI script
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(dvc_project), str(clone))
    assert not (clone / "outputs" / "train").exists()
    _run(["bash", "ci/nbmlops.sh"], clone, NBMLOPS_CI_SKIP_INSTALL="1")
    assert json.loads((clone / "outputs" / "train" / "metrics.json").read_text()) == first
    assert (clone / "ci-artifacts" / "outputs" / "train" / "train.ipynb").is_file()

    # dvc exp run -S sets the parameter and the notebook sees it
    out = _dvc(dvc_project, "exp", "run", "-S", "train.C=0.01")
    assert "Running stage 'train'" in out
    assert yaml.safe_load((dvc_project / "params.yaml").read_text())["train"]["C"] == 0.01
    changed = json.loads(metrics_file.read_text())
    assert changed != first
    executed = json.loads((dvc_project / "outputs" / "train" / "train.ipynb").read_text())
    assert executed["metadata"]["papermill"]["parameters"]["C"] == 0.01
