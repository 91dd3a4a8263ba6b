"""DVC's own commands agree with what a snapshot writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import nbmlops
from tests.conftest import git
from tests.versioning.conftest import dvc


def test_dvc_status_checkout_push_pull(dvc_project, tmp_path, frame):
    v1 = nbmlops.snapshot(frame, "train", message="first")
    v2 = nbmlops.snapshot(frame.assign(x=frame.x * 2), "train", message="doubled", push=True)
    assert (v1.version, v2.version, v2.pushed) == (1, 2, True)
    snap = dvc_project / "data" / "snapshots"
    dvcfile = (snap / "train.parquet.dvc").read_text()
    assert f"md5: {v2.md5}" in dvcfile and f"size: {v2.size}" in dvcfile
    assert "Data and pipelines are up to date" in dvc(dvc_project, "status").stdout
    assert "Cache and remote 'local' are in sync" in dvc(dvc_project, "status", "-c").stdout
    # git ignores the data file the way `dvc add` makes it
    assert "train.parquet\n" not in git(dvc_project, "status", "--porcelain", "-uall")
    # DVC restores a deleted workspace file from the cache we filled
    (snap / "train.parquet").unlink()
    dvc(dvc_project, "checkout")
    assert_frame_equal(pd.read_parquet(snap / "train.parquet"), frame.assign(x=frame.x * 2))
    # dvc pull brings it back from the remote after the cache is gone
    shutil.rmtree(dvc_project / ".dvc" / "cache")
    (snap / "train.parquet").unlink()
    dvc(dvc_project, "pull")
    assert "Data and pipelines are up to date" in dvc(dvc_project, "status").stdout
    # pushing v2 pushed every version of the name (each is pinned for DVC): v1 comes back too
    assert_frame_equal(nbmlops.load("train@1"), frame)
    assert_frame_equal(nbmlops.load("train@2"), frame.assign(x=frame.x * 2))


def test_load_pulls_from_remote_when_cache_lacks_it(dvc_project, frame):
    nbmlops.snapshot(frame, "train", push=True)
    nbmlops.snapshot(frame.iloc[:2], "train", push=True)
    shutil.rmtree(dvc_project / ".dvc" / "cache")
    assert_frame_equal(nbmlops.load("train", version=1), frame)


def test_commit_tags_and_dvc_api_open_reads_it(dvc_project, frame):
    import dvc.api

    v1 = nbmlops.snapshot(frame, "train", message="first cut", commit=True)
    nbmlops.snapshot(frame.iloc[:3], "train", commit=True)
    assert v1.tag == "snapshot/train/v1"
    assert git(dvc_project, "tag").split() == ["snapshot/train/v1", "snapshot/train/v2"]
    assert "snapshot train@1: first cut" in git(dvc_project, "log", "--format=%s")
    assert git(dvc_project, "status", "--porcelain") == ""
    with dvc.api.open("data/snapshots/train.parquet", repo=str(dvc_project),
                      rev="snapshot/train/v1", mode="rb") as f:
        assert_frame_equal(pd.read_parquet(f), frame)
    committed = git(dvc_project, "show", "snapshot/train/v1:data/snapshots/train.snapshots.json")
    assert '"tag": "snapshot/train/v1"' in committed
    # --commit on unchanged, untagged data commits and tags that version
    nbmlops.snapshot(frame, "train")  # v3, no commit
    again = nbmlops.snapshot(frame.copy(), "train", commit=True)
    assert (again.version, again.unchanged, again.tag) == (3, True, "snapshot/train/v3")
    assert "snapshot/train/v3" in git(dvc_project, "tag").split()
    assert git(dvc_project, "status", "--porcelain") == ""


def test_no_git_initialises_dvc_no_scm_once(project, frame, capsys):
    nbmlops.snapshot(frame, "a")
    nbmlops.snapshot(frame.iloc[:1], "a")
    err = capsys.readouterr().err
    assert err.count("initialised DVC without git (--no-scm)") == 1
    assert "no_scm = True" in (project / ".dvc" / "config").read_text()
    assert "Data and pipelines are up to date" in dvc(project, "status").stdout
    assert not (project / "data" / "snapshots" / ".gitignore").exists()
    with pytest.raises(nbmlops.NbmlopsError, match="needs a git repository"):
        nbmlops.snapshot(frame.iloc[:2], "a", commit=True)


def test_git_without_dvc_is_initialised(git_project, frame, capsys):
    nbmlops.snapshot(frame, "a")
    assert "initialised DVC in the git repository" in capsys.readouterr().err
    assert (git_project / ".dvc" / "config").exists()
    assert "Data and pipelines are up to date" in dvc(git_project, "status").stdout


def test_push_without_remote_is_a_clear_error(git_project, frame):
    with pytest.raises(nbmlops.NbmlopsError, match="dvc remote add"):
        nbmlops.snapshot(frame, "a", push=True)
    assert nbmlops.snapshots("a").versions[0].version == 1  # the version itself stands


def test_dvc_add_of_same_bytes_agrees(dvc_project, frame):
    """`dvc add` of a copy of our file computes the md5 we recorded."""
    v = nbmlops.snapshot(frame, "train")
    copy = dvc_project / "copy.parquet"
    shutil.copy(dvc_project / v.path, copy)
    dvc(dvc_project, "add", "copy.parquet")
    assert f"md5: {v.md5}" in (dvc_project / "copy.parquet.dvc").read_text()
    subprocess.run(["git", "status"], cwd=dvc_project, check=True, capture_output=True)


def test_workspace_links_follow_cache_type(dvc_project, frame):
    """Unset cache.type: the read-only cache inode is shared; a configured type is obeyed."""
    from nbmlops.versioning.dvcfiles import cache_path, open_repo

    v = nbmlops.snapshot(frame, "linked")
    workspace = dvc_project / v.path
    repo = open_repo(dvc_project)
    try:
        cached = cache_path(repo, v.md5)
    finally:
        repo.close()
    assert workspace.stat().st_ino == Path(cached).stat().st_ino
    dvc(dvc_project, "config", "cache.type", "copy")
    w = nbmlops.snapshot(frame.iloc[:2], "copied")
    assert (dvc_project / w.path).stat().st_nlink == 1
    assert "Data and pipelines are up to date" in dvc(dvc_project, "status").stdout
