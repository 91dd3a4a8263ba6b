"""The catalog of snapshot versions: ``name@version`` → md5, hash, rows, schema...

One JSON file per snapshot name, ``<snapshot_dir>/<name>.snapshots.json``,
next to ``<name>.parquet.dvc`` (both belong in git). Every version stays in
the DVC cache (content-addressed), so a new version needs no git commit; the
catalog is what remembers them.

Writers hold a per-name file lock (``.<name>.lock``) from reading the
catalog to replacing it, and replace it atomically (temp file +
``os.replace``), so two processes snapshotting the same name get distinct
versions and a killed process leaves the previous catalog intact.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.exceptions import SnapshotError, UsageArgumentError
from nbmlops.fileio import atomic_write
from nbmlops.versioning.results import SnapshotVersion

FORMAT = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
LOCK_TIMEOUT = 300.0


#: longest snapshot name: its longest file, ``.<name>.parquet.<32 hex>.tmp``, must fit in
#: the 255 bytes most file systems allow for one file name
MAX_NAME_LENGTH = 200


def check_snapshot_name(name: str) -> str:
    """Validate a snapshot name (letters, digits, ``_ . -``; no ``@`` or ``/``; ≤ 200 chars)."""
    if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
        raise UsageArgumentError(
            f"Snapshot name {name[:20]}... is {len(name)} characters long; use at most "
            f"{MAX_NAME_LENGTH} (its files' names must fit the file system's limit).",
            parameter="name")
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith((".dvc", ".json")):
        raise UsageArgumentError(
            f"Snapshot name {name!r} is not usable: use letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (e.g. 'train').",
            parameter="name",
        )
    return name


def parse_ref(ref: str, version: int | str | None = None) -> tuple[str, int | None]:
    """Split ``"train@2"`` into ``("train", 2)``; ``"train"`` gives ``("train", version)``."""
    name, sep, ver = str(ref).partition("@")
    if sep:
        version = ver
    if version in (None, "", "latest"):
        return check_snapshot_name(name), None
    text = str(version).lstrip("v")
    if not text.isdigit() or int(text) < 1:
        raise UsageArgumentError(
            f"Version {version!r} of {name!r} is not a positive number (write {name}@2).",
            parameter="version",
        )
    return check_snapshot_name(name), int(text)


@dataclass
class Catalog:
    """The versions of one snapshot name."""

    folder: Path
    name: str
    versions: list[SnapshotVersion] = field(default_factory=list)

    @property
    def path(self) -> Path:
        """The catalog file."""
        return catalog_path(self.folder, self.name)

    @classmethod
    def read(cls, folder: Path, name: str) -> Catalog:
        """Read the catalog of ``name`` (empty when there is none yet)."""
        path = catalog_path(folder, name)
        if not path.exists():
            return cls(folder, name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            versions = [SnapshotVersion.from_dict(v) for v in data["versions"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SnapshotError(f"Snapshot catalog {path} is unreadable: {exc}",
                                path=str(path)) from None
        return cls(folder, name, versions)

    def write(self) -> None:
        """Replace the catalog file atomically."""
        data = {"format": FORMAT, "name": self.name,
                "versions": [v.to_dict(stored=True) for v in self.versions]}
        atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    @property
    def latest(self) -> SnapshotVersion | None:
        """The newest version, if any."""
        return self.versions[-1] if self.versions else None

    def next_version(self) -> int:
        """The number the next version gets."""
        return (self.versions[-1].version + 1) if self.versions else 1

    def get(self, version: int | None) -> SnapshotVersion:
        """Version ``version`` (``None``: latest); the error lists what exists."""
        if not self.versions:
            raise missing_name(self.folder, self.name)
        if version is None:
            return self.versions[-1]
        for v in self.versions:
            if v.version == version:
                return v
        have = ", ".join(f"{self.name}@{v.version}" for v in self.versions)
        raise SnapshotError(f"Snapshot {self.name}@{version} does not exist. Versions: {have}.",
                            name=self.name, version=version)


def catalog_path(folder: Path, name: str) -> Path:
    """``<folder>/<name>.snapshots.json``."""
    return Path(folder) / f"{name}.snapshots.json"


def names(folder: Path) -> list[str]:
    """Names that have a catalog in ``folder``, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name[: -len(".snapshots.json")] for p in folder.glob("*.snapshots.json"))


def missing_name(folder: Path, name: str) -> SnapshotError:
    """The error for an unknown snapshot name, listing the known ones."""
    have = names(folder)
    listing = ", ".join(have) if have else "none yet (make one with %mlops snapshot df --name N)"
    return SnapshotError(f"No snapshot named {name!r} in {folder}. Snapshots: {listing}.",
                         name=name)


@contextlib.contextmanager
def locked(folder: Path, name: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the per-name lock (a real OS file lock; released if the process dies)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(Path(folder) / f".{name}.lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise SnapshotError(f"Snapshot {name!r} is locked by another process for over "
                            f"{timeout:.0f}s ({lock.lock_file}).", name=name) from None
    try:
        yield
    finally:
        lock.release()


def to_json(value: Any) -> Any:
    """JSON-able form of catalog values (numpy scalars → Python)."""
    return value.item() if hasattr(value, "item") else value
