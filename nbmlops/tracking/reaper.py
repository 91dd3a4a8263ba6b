"""Mark runs of dead kernels KILLED (run when the extension loads).

A kernel killed by SIGKILL or the OOM killer cannot end its run, so MLflow
shows it RUNNING forever. Every nbmlops run -- ``%%mlops run`` cells and the
parent runs of ``nbmlops run`` / ``sweep`` -- is tagged with its owner's
identity (:func:`~nbmlops.tracking.context.owner_tags`: host, machine id,
boot id, pid and process start time); when ``%load_ext nbmlops`` runs (or
:func:`reap_dead_runs` is called), runs still RUNNING whose owner on this
machine is gone are marked KILLED with a note. A pid reused by another process
does not keep a run alive (its start time differs), a hostname change does not
hide this machine's runs (the machine id matches), and what the cell knew at
its start (``nbmlops.start_params``) becomes the run's params.

To keep ``%load_ext`` fast the reaper runs in a background thread. For the
embedded SQLite store it first reads the candidates with :mod:`sqlite3`
(milliseconds, no MLflow import); MLflow is imported only when there is a
run to mark. The first ``%%mlops run`` waits for it to finish.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.tracking.context import is_local, owner_alive, process_start_ticks

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
    runs = client.search_runs(
        exps, filter_string="attributes.status = 'RUNNING' and tags.`nbmlops.kernel.pid` != ''",
        max_results=1000,
    )
    return {
        r.info.run_id: {k.rsplit(".", 1)[-1]: v for k, v in r.data.tags.items()
                        if k.startswith("nbmlops.kernel.")}
        for r in runs
    }


def _is_dead(kernel: dict[str, str]) -> bool:
    if not is_local(kernel) or not kernel.get("pid", "").isdigit():
        return False  # another machine's process: cannot tell
    me = {"pid": str(os.getpid()), "started": process_start_ticks(os.getpid())}
    if kernel["pid"] == me["pid"] and kernel.get("started", "") in ("", me["started"]):
        return False  # this very process
    return not owner_alive(kernel)


def reap_dead_runs(config: NbmlopsConfig) -> list[str]:
    """Mark RUNNING runs whose owner process is gone as KILLED; return their ids."""
    dead = [(rid, kernel) for rid, kernel in candidates(config).items() if _is_dead(kernel)]
    if not dead:
        return []
    from nbmlops.mlflow_gateway import client_for, few_retries

    client = client_for(config.tracking_uri)
    done = []
    with few_retries():
        for run_id, kernel in dead:
            with contextlib.suppress(Exception):  # one broken run must not stop the others
                _mark_killed(client, run_id, kernel)
                done.append(run_id)
    return done


def _mark_killed(client: Any, run_id: str, kernel: dict[str, str]) -> None:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    what = {"batch": "nbmlops run process", "sweep": "nbmlops sweep process"}.get(
        kernel.get("kind", ""), "kernel")
    note = (f"Marked KILLED by nbmlops at {stamp}: {what} pid {kernel['pid']} "
            f"(session {kernel.get('session', '?')}) on {kernel.get('host', '?')} died while "
            "this run was RUNNING (killed, out of memory or crashed).")
    run = client.get_run(run_id)
    old = run.data.tags.get("mlflow.note.content", "")
    _promote_start_params(client, run)
    client.set_tag(run_id, "nbmlops.killed_note", note)
    client.set_tag(run_id, "mlflow.note.content", f"**{note}**\n\n{old}".strip())
    client.set_terminated(run_id, "KILLED")


def _promote_start_params(client: Any, run: Any) -> None:
    """The cell's params known at its start (kept in a tag while autolog ran) become params."""
    import json

    try:
        start = json.loads(run.data.tags.get("nbmlops.start_params") or "{}")
    except ValueError:
        return
    logged = run.data.params
    missing = {(f"cell.{k}" if k in logged and logged[k] != v else k): str(v)
               for k, v in start.items() if logged.get(k) != v}
    missing = {k: v for k, v in missing.items() if k not in logged}
    if missing:
        from nbmlops.mlflow_gateway import log_params

        log_params(client, run.info.run_id, missing)
