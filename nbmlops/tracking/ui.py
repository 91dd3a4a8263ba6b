"""Start the MLflow UI for the configured store (``%mlops ui`` / ``nbmlops ui``).

The UI ends with its owner: it runs under :mod:`nbmlops.tracking.ui_guard`,
which stops the server's whole process group when the kernel (or the
``nbmlops ui`` process) exits, is killed, or stops it.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import TrackingError
from nbmlops.mlflow_gateway import is_remote, reachable
from nbmlops.tracking.context import process_start_ticks

_RUNNING: dict[str, UiServer] = {}
_AT_EXIT: list[bool] = []


@dataclass
class UiServer:
    """A running MLflow UI."""

    url: str
    pid: int | None = None
    log: str | None = None
    proc: Any = None

    def stop(self) -> None:
        """Stop the UI this process started (its guard ends the server's whole group)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        _RUNNING.pop(self.url, None)

    def _repr_html_(self) -> str:
        return f'MLflow UI: <a href="{self.url}" target="_blank">{self.url}</a>'

    def __str__(self) -> str:
        return f"MLflow UI: {self.url}"


def stop_all() -> None:
    """Stop every UI started by this process (registered with :mod:`atexit`)."""
    for server in list(_RUNNING.values()):
        server.stop()


def _stop_at_exit() -> None:
    if not _AT_EXIT:
        atexit.register(stop_all)
        _AT_EXIT.append(True)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_ui(config: NbmlopsConfig | None = None, port: int | None = None,
             wait: float = 90.0) -> UiServer:
    """Start ``mlflow ui`` for ``config.tracking_uri`` on a free localhost port.

    For an ``http(s)://`` tracking server the server *is* the UI: nothing is
    started. A UI started earlier in this process for the same store is reused.

    Parameters
    ----------
    config
        Resolved configuration.
    port
        Port to use (default: a free one).
    wait
        Seconds to wait for the UI to answer (0: do not wait).

    Returns
    -------
    UiServer
        Its URL (and process id when started here).
    """
    config = config or load_config()
    uri = config.tracking_uri
    if is_remote(uri):
        return UiServer(url=uri.rstrip("/"))
    for server in list(_RUNNING.values()):
        if server.proc is not None and server.proc.poll() is None and server.log == uri:
            return server
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log_dir = config.path(".nbmlops")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_dir, "ui.log")
    me = os.getpid()
    guard = [sys.executable, "-m", "nbmlops.tracking.ui_guard", str(me),
             process_start_ticks(me), "--"]
    cmd = [*guard, sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
           "--default-artifact-root", Path(config.artifact_root).resolve().as_uri(),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=config.project_root)
    server = UiServer(url=url, pid=proc.pid, log=uri, proc=proc)
    _RUNNING[url] = server
    _stop_at_exit()
    deadline = time.monotonic() + wait
    while wait and time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-800:]
            raise TrackingError(f"mlflow ui exited with code {proc.returncode}: {tail}",
                                path=str(log_path))
        if reachable(url, timeout=1):
            break
        time.sleep(0.5)
    return server
