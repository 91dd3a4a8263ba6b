"""Kills in the middle of a snapshot and two real processes at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import nbmlops
from nbmlops.versioning.api import KILL_ENV
from tests.versioning.conftest import dvc

ROOT = Path(__file__).resolve().parents[2]

#: a child process: build frame ``seed``, wait for the go file, snapshot it as "train"
CHILD = textwrap.dedent("""
    import sys, time, pathlib
    import numpy as np, pandas as pd
    import nbmlops
    seed, go = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    df = pd.DataFrame({"k": np.arange(2000) + seed, "v": np.random.default_rng(seed).random(2000)})
    import nbmlops.versioning.api  # all imports done before the start signal
    pathlib.Path(f"ready-{seed}").touch()
    while not go.exists():
        time.sleep(0.01)
    v = nbmlops.snapshot(df, "train", message=f"seed {seed}")
    print(v.version, v.unchanged, v.md5)
""")


def child_frame(seed: int) -> pd.DataFrame:
    return pd.DataFrame({"k": np.arange(2000) + seed,
                         "v": np.random.default_rng(seed).random(2000)})


def start(project: Path, seed: int, go: Path, **env: str) -> subprocess.Popen[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "DVC_NO_ANALYTICS": "1", **env}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(seed), str(go)], cwd=project,
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_ready(project: Path, seeds: list[int], procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 120
    while not all((project / f"ready-{s}").exists() for s in seeds):
        for p in procs:
            if p.poll() is not None and p.returncode != 0:
                raise AssertionError(p.stderr.read() if p.stderr else "child failed")
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.05)


def catalog(project: Path) -> dict:
    return json.loads((project / "data/snapshots/train.snapshots.json").read_text())


@pytest.mark.slow
def test_kill_mid_snapshot_keeps_previous_version_and_catalog(git_project):
    first = child_frame(0)
    v1 = nbmlops.snapshot(first, "train", message="v1")
    steps = ["written", "cached", "cataloged"]
    go = git_project / "go"
    procs = {}
    for i, step in enumerate(steps, start=1):  # one child per step, each killed there
        procs[step] = start(git_project, i, go, **{KILL_ENV: step})
    wait_ready(git_project, list(range(1, len(steps) + 1)), list(procs.values()))
    go.touch()
    for step, p in procs.items():
        p.wait(timeout=120)
        assert p.returncode == -9, (step, p.stderr.read())
    data = catalog(git_project)  # valid JSON, v1 untouched
    assert data["versions"][0]["md5"] == v1.md5
    assert_frame_equal(nbmlops.load("train@1"), first)
    # only the child killed after the catalog write left a (complete, loadable) version
    later = data["versions"][1:]
    assert [v["message"] for v in later] == ["seed 3"]
    assert_frame_equal(nbmlops.load("train@2"), child_frame(3))
    # the .dvc file still names v1 and DVC agrees with the workspace
    assert f"md5: {v1.md5}" in (git_project / "data/snapshots/train.parquet.dvc").read_text()
    assert "Data and pipelines are up to date" in dvc(git_project, "status").stdout
    # snapshotting v2's data again repairs the lagging .dvc file without a new version
    again = nbmlops.snapshot(child_frame(3), "train")
    assert (again.version, again.unchanged) == (2, True)
    assert f"md5: {again.md5}" in (git_project / "data/snapshots/train.parquet.dvc").read_text()
    assert "Data and pipelines are up to date" in dvc(git_project, "status").stdout
    # and the next snapshot carries on, sweeping temp files the kills left (once stale)
    leftovers = sorted((git_project / "data/snapshots").glob(".train.parquet.*.tmp"))
    assert len(leftovers) == 1  # from the child killed right after writing
    os.utime(leftovers[0], (0, 0))
    assert nbmlops.snapshot(child_frame(9), "train").version == 3
    assert not leftovers[0].exists()


@pytest.mark.slow
def test_two_processes_snapshot_the_same_name_at_once(git_project):
    nbmlops.snapshot(child_frame(0), "train")
    go = git_project / "go"
    procs = [start(git_project, s, go) for s in (1, 2, 3)]  # three different frames
    wait_ready(git_project, [1, 2, 3], procs)
    go.touch()
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        outs.append(out.split())
    versions = sorted(int(o[0]) for o in outs)
    assert versions == [2, 3, 4]  # distinct versions, none lost
    data = catalog(git_project)
    assert [v["version"] for v in data["versions"]] == [1, 2, 3, 4]
    for v in data["versions"][1:]:
        seed = int(v["message"].split()[1])
        assert_frame_equal(nbmlops.load(f"train@{v['version']}"), child_frame(seed))
    dvcfile = (git_project / "data/snapshots/train.parquet.dvc").read_text()
    assert any(f"md5: {v['md5']}" in dvcfile for v in data["versions"][1:])
    assert "Data and pipelines are up to date" in dvc(git_project, "status").stdout


@pytest.mark.slow
def test_racing_twins_get_one_version(git_project):
    go = git_project / "go"
    procs = [start(git_project, 5, go), start(git_project, 5, go)]
    wait_ready(git_project, [5], procs)
    go.touch()
    done = [p.communicate(timeout=180) for p in procs]
    outs = [out.split() for out, _ in done]
    assert sorted(o[:2] for o in outs) == [["1", "False"], ["1", "True"]], [e for _, e in done]
    assert len(catalog(git_project)["versions"]) == 1
