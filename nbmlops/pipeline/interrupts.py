"""Ctrl-C and SIGTERM during ``nbmlops run`` / ``sweep``: stop, mark KILLED, exit 130/143.

:func:`handling` installs handlers for SIGINT and SIGTERM (main thread
only). The first signal only sets a flag and starts a thread that stops
the work, so nothing runs inside the handler that could wait on a lock the
interrupted code holds:

- callbacks registered with :func:`on_interrupt` run (a sweep cancels the
  combinations not started yet: nothing new is launched);
- every kernel registered with :func:`track_kernel` is interrupted (SIGINT,
  so a ``%%mlops run`` cell ends its own run KILLED) and, if it is still
  alive after :data:`GRACE_S` seconds, killed;
- the runner sees :func:`requested` after papermill returns and raises
  :class:`Interrupted`: the batch run, its still-RUNNING cell runs and the
  sweep run are ended KILLED, and the CLI exits ``128 + signal`` (130 for
  Ctrl-C, 143 for SIGTERM).

A second signal exits at once (``os._exit``), killing the kernels first.

Every batch and sweep run also carries its owner's identity (host, pid,
process start time: :func:`nbmlops.tracking.owner_tags`), so if this process itself is
SIGKILLed, the dead-kernel reaper can still mark the run KILLED.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: seconds an interrupted kernel gets to end its cell before it is killed
GRACE_S = 3.0

_flag = threading.Event()
_signum: list[int] = []
_lock = threading.Lock()
_kernels: dict[int, int] = {}  # id(km) -> kernel pid
_callbacks: list[Callable[[], object]] = []


class Interrupted(BaseException):
    """The run was stopped by a signal (not an error of the notebook).

    A :class:`BaseException`, like :class:`KeyboardInterrupt`, so that
    ``except Exception`` around one sweep combination does not swallow it.
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        super().__init__(f"interrupted by {signal.Signals(self.signum).name}")


def requested() -> bool:
    """Whether a stop was requested."""
    return _flag.is_set()


def check() -> None:
    """Raise :class:`Interrupted` when a stop was requested."""
    if _flag.is_set():
        raise Interrupted(_signum[0] if _signum else signal.SIGINT)


def track_kernel(km: Any) -> None:
    """Remember a started kernel so a stop can interrupt it."""
    pid = _kernel_pid(km)
    if pid:
        with _lock:
            _kernels[id(km)] = pid
    if _flag.is_set():  # started while stopping: stop it too
        threading.Thread(target=_stop_kernels, args=([pid],), daemon=True).start()


def untrack_kernel(km: Any) -> None:
    """Forget a kernel that was shut down."""
    with _lock:
        _kernels.pop(id(km), None)


def on_interrupt(callback: Callable[[], object]) -> Callable[[], None]:
    """Run ``callback`` (on a helper thread) when a stop is requested; returns a remover."""
    with _lock:
        _callbacks.append(callback)

    def remove() -> None:
        with _lock, contextlib.suppress(ValueError):
            _callbacks.remove(callback)

    return remove


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Handle SIGINT/SIGTERM as described in the module docstring while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _flag.clear()
        _signum.clear()


def _handler(signum: int, frame: Any) -> None:
    if _flag.is_set():  # a second signal: leave now
        with contextlib.suppress(Exception):
            for pid in list(_kernels.values()):
                os.kill(pid, signal.SIGKILL)
        os._exit(128 + signum)
    _signum.append(signum)
    _flag.set()
    threading.Thread(target=_stop_all, name="nbmlops-interrupt", daemon=True).start()


def _stop_all() -> None:
    with _lock:
        callbacks = list(_callbacks)
        pids = list(_kernels.values())
    for callback in callbacks:
        with contextlib.suppress(Exception):
            callback()
    _stop_kernels(pids)


def _stop_kernels(pids: list[int]) -> None:
    import time

    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + GRACE_S
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        with _lock:
            live = set(_kernels.values())
        pids = [p for p in pids if p in live and _alive(p)]
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _kernel_pid(km: Any) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    pid = getattr(process, "pid", None)
    return int(pid) if pid else None


def kill_parent(recorder: Any, exc: BaseException) -> None:
    """End a sweep run (and any child still RUNNING) KILLED when ``exc`` stopped it.

    Only for :class:`Interrupted` / :class:`KeyboardInterrupt`; other errors
    are left to the caller. Recording failures are ignored: the reaper still
    finds the run by its owner identity.
    """
    if not isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return
    with contextlib.suppress(Exception):
        recorder.kill(recorder.parent_run_id(),
                      {"nbmlops.status": "killed", "nbmlops.error": f"stopped: {exc}"})
