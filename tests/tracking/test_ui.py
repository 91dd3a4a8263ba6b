"""``%mlops ui`` starts a real ``mlflow ui`` on a free localhost port; cards then link to it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow


def test_ui_starts_links_and_reuses(ip, capsys):
    from nbmlops.tracking import ui

    ip.run_cell("%%mlops run --name first\nv = 1")
    ip.run_line_magic("mlops", "ui")
    magics = ip.magics_manager.registry["MLOps"]
    url = magics.ui_url
    try:
        assert url.startswith("http://127.0.0.1:")
        assert url in capsys.readouterr().out
        with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
            assert resp.status == 200
        ip.run_cell("%%mlops run --name second\nv = 2")
        result = magics.state["tracking"]["last"]
        html = result._repr_mimebundle_()["text/html"]
        assert f'href="{url}/#/experiments/{result.experiment_id}/runs/{result.run_id}"' in html
        assert ui.start_ui(magics.resolved_config()).url == url  # reused, not a second UI
    finally:
        ui._RUNNING[url].stop()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_ui_ends_when_its_kernel_is_sigkilled(project):
    from tests.tracking.test_kernel import _execute, _kernel

    port = free_port()
    km, kc = _kernel(project)
    try:
        reply, _ = _execute(kc, f"%load_ext nbmlops\n%mlops ui --port {port}")
        assert reply["status"] == "ok"
        assert _answers(f"http://127.0.0.1:{port}")
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
        km.provisioner.process.wait()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert _until(lambda: not _listening(port)), "mlflow ui outlived its kernel"


def test_nbmlops_ui_sigterm_stops_the_server(project):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nbmlops", "ui", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _until(lambda: _answers(f"http://127.0.0.1:{port}"), 120), "ui never answered"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert _until(lambda: not _listening(port)), "mlflow ui outlived nbmlops ui"
    finally:
        if proc.poll() is None:
            proc.kill()
