"""Mark runs of dead kernels KILLED (run when the extension loads).

A kernel killed by SIGKILL or the OOM killer cannot end its run, so MLflow
shows it RUNNING forever. Every nbmlops run is tagged with its kernel's host,
pid and process start time; when ``%load_ext nbmlops`` runs, runs still
RUNNING whose kernel (on this host) is gone are marked KILLED with a note.

To keep ``%load_ext`` fast the reaper runs in a background thread. For the
embedded SQLite store it first reads the candidates with :mod:`sqlite3`
(milliseconds, no MLflow import); MLflow is imported only when there is a
run to mark. The first ``%%mlops run`` waits for it to finish.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import socket
import sqlite3
import threading
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.tracking.context import is_alive

_thread: threading.Thread | None = None
_last: list[str] = []


def start_background(resolve: Any) -> threading.Thread:
    """Reap in a daemon thread; ``resolve()`` returns the :class:`NbmlopsConfig`."""
    global _thread

    def work() -> None:
        with contextlib.suppress(Exception):  # a broken store must not break %load_ext
            _last[:] = reap_dead_runs(resolve())

    _thread = threading.Thread(target=work, name="nbmlops-reaper", daemon=True)
    _thread.start()
    return _thread


def wait(timeout: float | None = None) -> list[str]:
    """Wait for the background reaper; return the run ids it marked KILLED."""
    if _thread is not None and _thread is not threading.current_thread():
        _thread.join(timeout)
    return list(_last)


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):])


def candidates(config: NbmlopsConfig) -> dict[str, dict[str, str]]:
    """RUNNING runs with nbmlops kernel tags: run id -> {pid, started, host, session}."""
    path = _sqlite_path(config.tracking_uri)
    if path is not None:
        if not path.is_file():
            return {}
        return _from_sqlite(path)
    return _from_mlflow(config)


def _from_sqlite(path: Path) -> dict[str, dict[str, str]]:
    query = (
        "SELECT r.run_uuid, t.key, t.value FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
        "WHERE r.status = 'RUNNING' AND r.lifecycle_stage = 'active' "
        "AND t.key LIKE 'nbmlops.kernel.%'"
    )
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = con.execute(query).fetchall()
        finally:
            con.close()
    except sqlite3.Error:  # not an MLflow store (yet)
        return {}
    out: dict[str, dict[str, str]] = {}
    for run_id, key, value in rows:
        out.setdefault(run_id, {})[key.rsplit(".", 1)[-1]] = value
    return out


def _from_mlflow(config: NbmlopsConfig) -> dict[str, dict[str, str]]:
    from nbmlops.mlflow_gateway import client_for, reachable

    if not reachable(config.tracking_uri):
        return {}
    client = client_for(config.tracking_uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    host = socket.gethostname()
    runs = client.search_runs(
        exps,
        filter_string=f"attributes.status = 'RUNNING' and tags.`nbmlops.kernel.host` = '{host}'",
        max_results=1000,
    )
    return {
        r.info.run_id: {k.rsplit(".", 1)[-1]: v for k, v in r.data.tags.items()
                        if k.startswith("nbmlops.kernel.")}
        for r in runs
    }


def reap_dead_runs(config: NbmlopsConfig) -> list[str]:
    """Mark RUNNING runs of kernels that are gone as KILLED; return their ids."""
    host = socket.gethostname()
    dead = []
    for run_id, kernel in candidates(config).items():
        if kernel.get("host") != host or not kernel.get("pid", "").isdigit():
            continue  # another machine's kernel: cannot tell
        if int(kernel["pid"]) == os.getpid():
            continue
        if not is_alive(int(kernel["pid"]), kernel.get("started", "")):
            dead.append((run_id, kernel))
    if not dead:
        return []
    from nbmlops.mlflow_gateway import client_for

    client = client_for(config.tracking_uri)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    done = []
    for run_id, kernel in dead:
        note = (f"Marked KILLED by nbmlops at {stamp}: kernel pid {kernel['pid']} "
                f"(session {kernel.get('session', '?')}) on {host} died while this run was "
                f"RUNNING (killed, out of memory or crashed).")
        run = client.get_run(run_id)
        old = run.data.tags.get("mlflow.note.content", "")
        client.set_tag(run_id, "nbmlops.killed_note", note)
        client.set_tag(run_id, "mlflow.note.content", f"**{note}**\n\n{old}".strip())
        client.set_terminated(run_id, "KILLED")
        done.append(run_id)
    return done
