"""Every catalogued version where DVC's own commands see it: pinned, pushed, pulled.

A new version needs no git commit, so ``<name>.parquet.dvc`` names only the
latest: plain ``dvc push`` would push only that one, and ``dvc gc -w`` would
delete the older versions from the cache. Each version is therefore *pinned*:
``<snapshot_dir>/<name>.versions/v<k>.parquet`` (linked from the cache, like
any DVC output; git-ignored) with its own ``v<k>.parquet.dvc`` file (commit
it with the catalog). DVC then treats every version as workspace data:

- ``dvc push`` pushes every version, ``dvc pull`` in a fresh clone brings
  every version back, ``dvc gc -w`` keeps them all;
- :func:`push_all` / :func:`pull_all` (``nbmlops snapshot push|pull``) do
  the same from the catalogs, and also pin versions made before pins existed
  (or whose pins were deleted), so nothing depends on the ``.dvc`` files
  being complete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import SnapshotError
from nbmlops.versioning import catalog, dvcfiles, remote
from nbmlops.versioning.results import SnapshotVersion


def version_file(folder: Path, entry: SnapshotVersion) -> Path:
    """``<folder>/<name>.versions/v<k>.parquet``: where version ``k`` is pinned."""
    return Path(folder) / f"{entry.name}.versions" / f"v{entry.version}.parquet"


def pin(repo: Any, folder: Path, entry: SnapshotVersion) -> list[Path]:
    """Pin ``entry`` (its object must be in the cache); the files to commit with it."""
    target = version_file(folder, entry)
    current = dvcfiles.read_dvcfile(Path(f"{target}.dvc"))
    if current is None or current.get("md5") != entry.md5 or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        dvcfiles.checkout_file(repo, entry.md5, target)
        dvcfiles.write_dvcfile(target, entry.md5, entry.size)
    gitignore = dvcfiles.ignore_in_git(repo, target)
    return [Path(f"{target}.dvc"), *([gitignore] if gitignore else [])]


@dataclass
class SyncResult:
    """What :func:`push_all` or :func:`pull_all` did, version by version."""

    action: str
    done: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    remote: str | None = None

    @property
    def ok(self) -> bool:
        """True when every catalogued version was handled."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"action": self.action, "done": self.done, "missing": self.missing,
                "remote": self.remote, "ok": self.ok}

    def __str__(self) -> str:
        where = f"remote {self.remote!r}" if self.remote else "the default DVC remote"
        verb = "pushed to" if self.action == "push" else "pulled from"
        lines = [f"{len(self.done)} snapshot versions {verb} {where}"
                 + (f": {', '.join(self.done)}" if self.done else "")]
        if self.missing:
            lines.append(f"missing (neither in the local DVC cache nor on the remote): "
                         f"{', '.join(self.missing)}")
        return "\n".join(lines)


def _entries(folder: Path, names: list[str] | None) -> list[SnapshotVersion]:
    chosen = names or catalog.names(folder)
    out: list[SnapshotVersion] = []
    for name in chosen:
        cat = catalog.Catalog.read(folder, catalog.check_snapshot_name(name))
        if not cat.versions:
            raise catalog.missing_name(folder, name)
        out += cat.versions
    return out


def push_all(names: list[str] | None = None, *, remote_name: str | None = None,
             config: NbmlopsConfig | None = None) -> SyncResult:
    """Pin and push every catalogued version (of ``names``, default all snapshots).

    Raises
    ------
    SnapshotError
        No DVC repository, no remote, or the transfer failed.
    """
    cfg = config or load_config()
    folder = cfg.path(cfg.snapshot_dir)
    which = remote_name or cfg.dvc_remote
    result = SyncResult("push", remote=which)
    entries = _entries(folder, names)
    with _repo(cfg) as repo:
        ready = []
        for entry in entries:
            if dvcfiles.in_cache(repo, entry.md5) or remote.fetch(repo, entry.md5, which):
                pin(repo, folder, entry)
                ready.append(entry)
            else:
                result.missing.append(entry.ref)
        remote.push_many(repo, sorted({e.md5 for e in ready}), which)
        result.done = [e.ref for e in ready]
    return result


def pull_all(names: list[str] | None = None, *, remote_name: str | None = None,
             config: NbmlopsConfig | None = None) -> SyncResult:
    """Fetch every catalogued version from the remote into the cache and pin it."""
    cfg = config or load_config()
    folder = cfg.path(cfg.snapshot_dir)
    which = remote_name or cfg.dvc_remote
    result = SyncResult("pull", remote=which)
    with _repo(cfg) as repo:
        for entry in _entries(folder, names):
            if remote.fetch(repo, entry.md5, which):
                pin(repo, folder, entry)
                result.done.append(entry.ref)
            else:
                result.missing.append(entry.ref)
        for name in {e.name for e in _entries(folder, names)}:
            latest = catalog.Catalog.read(folder, name).latest
            if latest is not None and dvcfiles.in_cache(repo, latest.md5):
                workspace = folder / f"{name}.parquet"  # as `dvc pull` leaves it
                if not workspace.exists():
                    dvcfiles.checkout_file(repo, latest.md5, workspace)
    return result


@contextlib.contextmanager
def _repo(cfg: NbmlopsConfig) -> Iterator[Any]:
    if not (cfg.project_root / ".dvc").is_dir():
        raise SnapshotError(f"{cfg.project_root} is not a DVC repository (no .dvc folder); "
                            "run `dvc init` and add a remote first.", path=str(cfg.project_root))
    repo = dvcfiles.open_repo(cfg.project_root, init=False)
    try:
        yield repo
    finally:
        repo.close()
