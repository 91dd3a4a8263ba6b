"""Keep a child server tied to its owner (``python -m nbmlops.tracking.ui_guard``).

Usage: ``python -m nbmlops.tracking.ui_guard PID STARTED -- CMD...``.

``%mlops ui`` and ``nbmlops ui`` start ``mlflow ui`` through this guard. The
guard runs ``CMD`` in a process group of its own and ends that whole group
(``mlflow ui`` starts its own uvicorn/gunicorn workers) when

- the owner process ``PID`` (started at ``STARTED`` clock ticks) is gone:
  the kernel exited, was SIGKILLed or OOM-killed, or ``nbmlops ui`` died;
- the guard itself gets SIGTERM, SIGINT or SIGHUP (``UiServer.stop``);
- the server exits on its own (the guard exits with its code).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from nbmlops.tracking.context import is_alive

_stop: list[int] = []


def _on_signal(signum: int, frame: Any) -> None:
    _stop.append(signum)


def end_group(pgid: int, grace: float = 5.0) -> None:
    """SIGTERM the process group ``pgid``, SIGKILL what is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def guard(owner: int, started: str, cmd: list[str], poll: float = 0.5) -> int:
    """Run ``cmd`` until it exits, the owner dies or the guard is signalled; its exit code."""
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    proc = subprocess.Popen(cmd, start_new_session=True)
    try:
        while True:
            code = proc.poll()
            if code is not None:
                return int(code)
            if _stop or not is_alive(owner, started):
                return 0
            time.sleep(poll)
    finally:
        end_group(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


def main(argv: list[str]) -> int:
    """``PID STARTED -- CMD...``."""
    if len(argv) < 4 or argv[2] != "--":
        print("usage: python -m nbmlops.tracking.ui_guard PID STARTED -- CMD...", file=sys.stderr)
        return 2
    return guard(int(argv[0]), argv[1], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
