"""Every catalogued version survives DVC's own commands (issue 11): push, pull, gc -w, clone.

Versions live without a git commit each; they are pinned
(``<name>.versions/v<k>.parquet.dvc``) so that plain ``dvc push`` pushes them
all, ``dvc gc -w`` keeps them all and ``dvc pull`` in a fresh clone brings
them all back; ``nbmlops snapshot push|pull`` do it from the catalogs.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import nbmlops
from nbmlops.config import load_config
from tests.conftest import git
from tests.versioning.conftest import dvc

pytestmark = pytest.mark.slow


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbmlops", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, check=False)


def _three(frame: pd.DataFrame) -> list[pd.DataFrame]:
    frames = [frame, frame.assign(x=frame.x * 2), frame.iloc[:3]]
    for f in frames:
        nbmlops.snapshot(f, "train")
    return frames


def test_dvc_gc_w_keeps_every_version(dvc_project: Path, frame: pd.DataFrame) -> None:
    frames = _three(frame)
    dvc(dvc_project, "gc", "-w", "-f")
    for k, f in enumerate(frames, 1):
        assert_frame_equal(nbmlops.load(f"train@{k}"), f)
    assert "Data and pipelines are up to date" in dvc(dvc_project, "status").stdout


def test_plain_dvc_push_then_fresh_clone_dvc_pull_loads_every_version(
        dvc_project: Path, tmp_path: Path, frame: pd.DataFrame,
        monkeypatch: pytest.MonkeyPatch) -> None:
    frames = _three(frame)
    dvc(dvc_project, "push")
    assert "in sync" in dvc(dvc_project, "status", "-c").stdout
    git(dvc_project, "add", ".")
    git(dvc_project, "commit", "-q", "-m", "three versions, no commit each")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(dvc_project), str(clone))
    dvc(clone, "pull")
    monkeypatch.chdir(clone)
    cfg = load_config()
    assert cfg.project_root == clone.resolve()
    for k, f in enumerate(frames, 1):
        assert_frame_equal(nbmlops.load(f"train@{k}", config=cfg), f)


def test_snapshot_push_pull_every_version_and_restore_after_gc(
        dvc_project: Path, tmp_path: Path, frame: pd.DataFrame,
        monkeypatch: pytest.MonkeyPatch) -> None:
    frames = _three(frame)
    nbmlops.snapshot(frame.iloc[:1], "test")
    # a project from before pins: the version pins are gone
    snap = dvc_project / "data" / "snapshots"
    shutil.rmtree(snap / "train.versions")
    shutil.rmtree(snap / "test.versions")
    pushed = _cli(dvc_project, "snapshot", "push")
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.startswith("4 snapshot versions pushed to the default DVC remote")
    assert (snap / "train.versions" / "v1.parquet.dvc").is_file()  # pinned again
    assert "in sync" in dvc(dvc_project, "status", "-c").stdout
    git(dvc_project, "add", ".")
    git(dvc_project, "commit", "-q", "-m", "snapshots")
    # a fresh clone pulls every version with nbmlops alone (no dvc pull)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(dvc_project), str(clone))
    shutil.rmtree(clone / "data" / "snapshots" / "train.versions")  # even without pins
    pulled = _cli(clone, "snapshot", "pull", "train")
    assert pulled.returncode == 0 and pulled.stdout.startswith("3 snapshot versions pulled")
    monkeypatch.chdir(clone)
    for k, f in enumerate(frames, 1):
        assert_frame_equal(nbmlops.load(f"train@{k}", config=load_config()), f)
    # gc of everything local, then pull restores every version
    monkeypatch.chdir(dvc_project)
    shutil.rmtree(dvc_project / ".dvc" / "cache")
    assert _cli(dvc_project, "snapshot", "pull").returncode == 0
    for k, f in enumerate(frames, 1):
        assert_frame_equal(nbmlops.load(f"train@{k}"), f)


def test_push_reports_a_version_that_is_nowhere(dvc_project: Path,
                                                frame: pd.DataFrame) -> None:
    _three(frame)
    shutil.rmtree(dvc_project / ".dvc" / "cache")  # never pushed, cache lost
    proc = _cli(dvc_project, "snapshot", "push", "--json")
    assert proc.returncode == 1
    assert '"missing": [\n  "train@1",\n  "train@2",\n  "train@3"\n ]' in proc.stdout
    with pytest.raises(nbmlops.NbmlopsError, match="nbmlops snapshot pull"):
        nbmlops.load("train@1")
