"""A real registered model and real ``nbmlops serve`` processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port

#: startup budget of a serve process on a loaded machine (MLflow + sklearn imports, model load)
STARTUP = 180.0
RECORD = {"amount": 12.5, "count": 2, "merchant": "fuel"}


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``mlflow.db`` holding ``fraud`` v1 (@champion) and v2 (@challenger)."""
    folder = tmp_path_factory.mktemp("serving-registry")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MLFLOW_TRACKING_URI", None)
    subprocess.run([sys.executable, "-m", "tests.serving._model", str(folder)], cwd=folder,
                   env=env, check=True, capture_output=True, timeout=600)
    return folder


def uri_of(registry: Path) -> str:
    return f"sqlite:///{registry / 'mlflow.db'}"


@dataclass
class Server:
    """A running ``nbmlops serve`` process."""

    proc: subprocess.Popen[str]
    port: int
    log_dir: Path
    cwd: Path
    stderr: Path
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else json.dumps(body).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        req = urllib.request.Request(self.url + path, data=data, headers=hdrs, method="POST")
        return _open(req)

    def get(self, path: str) -> tuple[int, dict[str, str], Any]:
        return _open(urllib.request.Request(self.url + path))

    def admin(self, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        auth = {"authorization": f"Bearer {self.token}"} if self.token else {}
        return self.post(path, body, auth)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 120) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.stderr.read_text(errors="replace")


def _open(req: urllib.request.Request) -> tuple[int, dict[str, str], Any]:
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            status, headers = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as exc:
        raw, status, headers = exc.read(), exc.code, dict(exc.headers)
    try:
        return status, {k.lower(): v for k, v in headers.items()}, json.loads(raw)
    except ValueError:
        return status, {k.lower(): v for k, v in headers.items()}, raw.decode(errors="replace")


def serve_cmd(model: str, port: int, log_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "nbmlops", "serve", model, "--port", str(port),
            "--log-dir", str(log_dir), *args]


def start(registry: Path, cwd: Path, *args: str, model: str = "fraud@champion",
          token: str | None = None) -> Server:
    """Start ``nbmlops serve`` in ``cwd`` (its own log folder) and wait for /ping."""
    return launch(model, cwd, uri_of(registry), *args, token=token)


def launch(model: str, cwd: Path, uri: str, *args: str, token: str | None = None) -> Server:
    """Start ``nbmlops serve model`` against the store ``uri`` in ``cwd`` and wait for /ping.

    Its log folder is ``cwd/logs/predictions``; a ``MLFLOW_REGISTRY_URI`` left in this
    process's environment by an earlier in-process test is not passed on.
    """
    port = free_port()
    log_dir = cwd / "logs" / "predictions"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": uri}
    env.pop("MLFLOW_REGISTRY_URI", None)
    if token:
        env["NBMLOPS_SERVE_TOKEN"] = token
    cwd.mkdir(parents=True, exist_ok=True)
    stderr = cwd / "serve.stderr"
    with stderr.open("w") as err:
        proc = subprocess.Popen(serve_cmd(model, port, log_dir, *args), cwd=cwd, env=env,
                                stdout=err, stderr=err, text=True)
    server = Server(proc, port, log_dir, cwd, stderr, token)
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited {proc.returncode}:\n{server.output()}")
        try:
            if server.get("/ping")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"serve did not answer /ping:\n{server.output()}")


@pytest.fixture(scope="module")
def server(registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One serve process for the request/feedback/metrics tests (token ``s3cret``)."""
    srv = start(registry, tmp_path_factory.mktemp("serve"), "--poll", "0", "--flush-every",
                "0.2s", token="s3cret")
    yield srv
    srv.stop()


def invoke(server: Server, records: list[dict[str, Any]], **headers: str
           ) -> tuple[int, dict[str, str], Any]:
    return server.post("/invocations", {"dataframe_records": records}, headers)


def log_rows(log_dir: Path) -> Any:
    """The prediction log as a pandas DataFrame (empty when no file yet)."""
    import pandas as pd

    files = sorted(log_dir.rglob("*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def wait_rows(log_dir: Path, n: int, timeout: float = 60) -> Any:
    """The log once it holds at least ``n`` rows."""
    deadline = time.monotonic() + timeout
    while True:
        df = log_rows(log_dir)
        if len(df) >= n or time.monotonic() > deadline:
            return df
        time.sleep(0.2)


def wait_request(log_dir: Path, rid: str, timeout: float = 60) -> Any:
    """The log rows of request ``rid`` once they are written."""
    deadline = time.monotonic() + timeout
    while True:
        df = log_rows(log_dir)
        rows = df[df.request_id == rid] if len(df) else df
        if len(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)
