"""Shared fixtures: isolated project folders, a real IPython shell, a real
``mlflow server``, a real git + DVC repository with a local remote.

Each project folder starts with a copy of a real, already migrated MLflow
store (``mlflow.db``, made once per session by MLflow itself): copying takes
milliseconds where MLflow's ~40 schema migrations take 0.7-3 s per test.
Tests that need a project without it (MLflow creating its own store, or
"no mlflow.db was written") are marked ``@pytest.mark.fresh_store``.

Area-specific fixtures live in ``tests/<area>/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbmlops._testing import TestingShell

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; return stdout."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    out = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty ``mlflow.db`` created and migrated once per session by MLflow itself."""
    from nbmlops.mlflow_gateway import client_for

    db = tmp_path_factory.mktemp("store-template") / "mlflow.db"
    client_for(f"sqlite:///{db}").search_experiments()  # creates + migrates the schema
    return db


def copy_store(template: Path, project: Path) -> Path:
    """Copy ``template`` to ``project/mlflow.db`` as if MLflow had created it there.

    The one path MLflow writes into a new store, the ``Default`` experiment's
    artifact location (``<cwd>/mlruns/0``), is pointed at ``project``.
    """
    db = project / "mlflow.db"
    shutil.copyfile(template, db)
    with contextlib.closing(sqlite3.connect(db)) as con, con:
        con.execute("UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
                    (str(project / "mlruns" / "0"),))
    return db


@pytest.fixture(autouse=True)
def isolate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """Every test runs in its own project folder with its own MLflow store.

    The working directory is ``tmp_path/project``; tracking goes to an
    embedded SQLite store there (a copy of :func:`store_template`, unless the
    test is marked ``fresh_store``); DVC analytics are off; no active MLflow
    run leaks into the next test.
    """
    project = tmp_path / "project"
    project.mkdir()
    if request.node.get_closest_marker("fresh_store") is None:
        copy_store(request.getfixturevalue("store_template"), project)
    monkeypatch.chdir(project)
    for var in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_NAME",
                "MLFLOW_RUN_ID",
                "NBMLOPS_PARENT_RUN_ID", "NBMLOPS_INJECTED_PARAMS", "NBMLOPS_NOTEBOOK_PATH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "t")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "t")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "t@example.invalid")
    from nbmlops.config import reset_session

    reset_session()  # no nbmlops.init() settings leak from one test into the next
    yield project
    reset_session()
    if "mlflow" in sys.modules:
        import mlflow

        while mlflow.active_run() is not None:
            mlflow.end_run("KILLED")
        mlflow.set_tracking_uri(None) if hasattr(mlflow, "set_tracking_uri") else None


@pytest.fixture
def project(isolate: Path) -> Path:
    """The test's project folder (also the working directory)."""
    return isolate


@pytest.fixture
def git_project(project: Path) -> Path:
    """The project folder as a git repository with one commit."""
    git(project, "init", "-q", "-b", "main")
    # the copied store stays out of `git status`, as when no run has written one yet
    with (project / ".git" / "info" / "exclude").open("a") as fh:
        fh.write("/mlflow.db\n")
    (project / "README.md").write_text("test project\n")
    git(project, "add", "README.md")
    git(project, "commit", "-q", "-m", "init")
    return project


@pytest.fixture
def dvc_project(git_project: Path, tmp_path: Path) -> Path:
    """A git + DVC repository with a local default remote at ``tmp_path/remote``."""
    dvc = [sys.executable, "-m", "dvc"]
    subprocess.run([*dvc, "init", "-q"], cwd=git_project, check=True)
    remote = tmp_path / "remote"
    remote.mkdir()
    subprocess.run([*dvc, "remote", "add", "-d", "local", str(remote)], cwd=git_project, check=True)
    git(git_project, "add", ".dvc")
    git(git_project, "commit", "-q", "-m", "dvc init")
    return git_project


@pytest.fixture(scope="session")
def _shell() -> TestingShell:
    return TestingShell.preconfigured()


@pytest.fixture
def ip(_shell: TestingShell, project: Path) -> Iterator[TestingShell]:
    """A real IPython shell with ``%load_ext nbmlops`` done, in the project folder."""
    # (re)load: each test gets fresh magics state and default config traits
    _shell.run_line_magic("reload_ext", "nbmlops")
    yield _shell
    _shell.config.pop("MLOps", None)  # %config MLOps.x set in one test must not leak
    _shell.user_ns.clear()
    _shell.init_user_ns()


class MlflowServer:
    """A real ``mlflow server`` on 127.0.0.1 that tests may stop and restart."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> None:
        """Start the server and wait until ``/health`` answers."""
        cmd = [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{self.root / 's.db'}",
            "--artifacts-destination", str(self.root / "art"),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 (kept open for the child)
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.root / "server.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("mlflow server did not start in time")

    def stop(self) -> None:
        """Terminate the server (and wait for it)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` for the whole session (``server.url``)."""
    server = MlflowServer(tmp_path_factory.mktemp("mlflow-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's chromium; skips when it is not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    return path
