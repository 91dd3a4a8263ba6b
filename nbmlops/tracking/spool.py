"""Runs kept on disk while the tracking server is unreachable, and their upload.

A spooled run is a folder ``<spool_dir>/<local_id>/`` holding ``run.json``
(params, metrics, tags, text artifacts, dataset inputs, status, times) written
atomically. :func:`sync` uploads every spooled run whose store answers and
removes it only once MLflow has all of it. ``%%mlops run`` calls it on the next
successful contact; ``%mlops sync`` and ``nbmlops sync`` call it on demand.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.mlflow_gateway import client_for, few_retries, log_tree, reachable, write
from nbmlops.run_record import RunRecord
from nbmlops.tracking.collect import rename_clashes


def spool(record: RunRecord, spool_dir: Path, artifact_root: str | None = None,
          files: Path | None = None) -> Path:
    """Write ``record`` (and the artifact folder ``files``) to ``spool_dir`` atomically."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    final = spool_dir / record.local_id
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=spool_dir))
    if files is not None and files.is_dir():  # what the user's own mlflow calls logged
        shutil.copytree(files, tmp / "files")
    data = {"record": record.to_dict(), "artifact_root": artifact_root}
    (tmp / "run.json").write_text(json.dumps(data, default=str), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def pending(spool_dir: Path) -> list[Path]:
    """Spooled run folders, oldest first."""
    if not spool_dir.is_dir():
        return []
    runs = [p for p in spool_dir.iterdir() if (p / "run.json").is_file()]
    return sorted(runs, key=lambda p: p.stat().st_mtime)


@dataclass
class SyncResult:
    """What :func:`sync` uploaded and what is still waiting."""

    uploaded: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"uploaded": self.uploaded, "waiting": self.waiting, "errors": self.errors}

    def __str__(self) -> str:
        text = f"nbmlops sync: {len(self.uploaded)} run(s) uploaded, {len(self.waiting)} waiting"
        for rid in self.uploaded:
            text += f"\n  uploaded {rid}"
        for lid, err in self.errors.items():
            text += f"\n  still spooled {lid}: {err}"
        return text

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))


@contextlib.contextmanager
def _locked(spool_dir: Path, wait: float) -> Iterator[bool]:
    """Hold ``<spool_dir>.lock`` (an OS file lock); yields whether it was acquired.

    Two syncs at once (two kernels, a kernel and ``nbmlops sync``) take turns,
    so each spooled run is uploaded exactly once. The OS releases the lock
    when its holder dies.
    """
    spool_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(spool_dir.with_name(spool_dir.name + ".lock"), "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock (documented)
            yield True
            return
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.1)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync(config: NbmlopsConfig | None = None, wait: float = 300.0) -> SyncResult:
    """Upload every run spooled under ``config.spool_dir`` whose store answers.

    Parameters
    ----------
    config
        Resolved configuration (default: :func:`~nbmlops.config.load_config`).
    wait
        Seconds to wait for another sync of the same spool to finish (0: do
        not wait; its runs are reported waiting).

    Returns
    -------
    SyncResult
        Run ids uploaded, local ids still waiting (store unreachable or error).
    """
    config = config or load_config()
    spool_dir = config.path(config.spool_dir)
    if not pending(spool_dir):
        return SyncResult()
    with _locked(spool_dir, wait) as acquired:
        if not acquired:
            result = SyncResult(waiting=[p.name for p in pending(spool_dir)])
            for name in result.waiting:
                result.errors[name] = "another sync is uploading the spool"
            return result
        return _sync(config, spool_dir)


def _sync(config: NbmlopsConfig, spool_dir: Path) -> SyncResult:
    result = SyncResult()
    alive: dict[str, bool] = {}
    for folder in pending(spool_dir):
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        record = RunRecord.from_dict(data["record"])
        uri = record.tracking_uri
        if uri not in alive:
            alive[uri] = reachable(uri)
        if not alive[uri]:
            result.waiting.append(record.local_id)
            continue
        try:
            run_id = upload(record, data.get("artifact_root"))
            if (folder / "files").is_dir():
                log_tree(client_for(record.tracking_uri), run_id, folder / "files")
        except Exception as exc:  # keep it spooled; say why
            result.waiting.append(record.local_id)
            result.errors[record.local_id] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            continue
        shutil.rmtree(folder, ignore_errors=True)
        result.uploaded.append(run_id)
    return result


def upload(record: RunRecord, artifact_root: str | None = None) -> str:
    """Write one spooled record to its store (the run is created when it never was)."""
    with few_retries():
        return _upload(record, artifact_root)


def _upload(record: RunRecord, artifact_root: str | None) -> str:
    client = client_for(record.tracking_uri)
    if record.run_id is not None:
        try:
            logged = client.get_run(record.run_id).data.params
        except Exception:  # the run never reached this store: create it
            record.run_id = None
        else:  # autolog's params are there already: the cell's differing ones as cell.<name>
            rename_clashes(record, logged)
    record.tags.setdefault("nbmlops.spooled", "true")
    return write(client, record, artifact_root)
