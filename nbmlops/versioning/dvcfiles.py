"""Real DVC artifacts for a snapshot: cache object, workspace file, ``.dvc`` file.

``dvc add`` would read the file again to md5 it and then copy it into the
cache. The snapshot already knows the md5 (hashed as it was written), so here the
freshly written file is *renamed* into DVC's cache (``files/md5/xx/...``, the
layout of DVC 3), protected read-only the way DVC protects it, linked back to
the workspace with DVC's link code (:func:`link_types`: the repository's
``cache.type`` when set, else a hardlink where possible),
recorded in DVC's state database (so ``dvc status`` does not re-hash it) and
described by a ``<name>.parquet.dvc`` file in DVC's format. DVC's own
commands (``status``, ``checkout``, ``push``, ``pull``, ``dvc.api.open``)
verify all of it in the tests.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nbmlops._git import ensure_gitignore
from nbmlops.exceptions import SnapshotError
from nbmlops.fileio import atomic_write

_told_init: set[str] = set()


@contextlib.contextmanager
def no_analytics() -> Iterator[None]:
    """DVC analytics off for the calls made inside (``DVC_NO_ANALYTICS=1``)."""
    old = os.environ.get("DVC_NO_ANALYTICS")
    os.environ["DVC_NO_ANALYTICS"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("DVC_NO_ANALYTICS", None)
        else:
            os.environ["DVC_NO_ANALYTICS"] = old


def open_repo(root: Path, init: bool = True) -> Any:
    """The DVC repository at ``root``; initialise it when missing (says so once).

    Without a git repository DVC is initialised with ``--no-scm``.
    """
    from dvc.repo import Repo

    root = Path(root)
    if not (root / ".dvc").is_dir():
        if not init:
            raise SnapshotError(f"{root} is not a DVC repository (no .dvc folder).", path=str(root))
        with _initialising(root):
            if not (root / ".dvc").is_dir():  # else another process initialised it meanwhile
                _init(root)
    with no_analytics(), _opening(root):
        return Repo(str(root))


def _init(root: Path) -> None:
    """``dvc init`` at ``root`` (``--no-scm`` without git), said once; then the .gitignore."""
    from dvc.repo import Repo

    no_scm = not (root / ".git").exists()
    dvc_log = logging.getLogger("dvc")
    level = dvc_log.level
    dvc_log.setLevel(logging.WARNING)  # DVC's own "Initialized..." banner: we say it below
    try:
        with no_analytics(), contextlib.redirect_stdout(io.StringIO()):
            Repo.init(str(root), no_scm=no_scm)
    except Exception:
        if not (root / ".dvc").is_dir():  # else another process initialised it just now
            raise
    finally:
        dvc_log.setLevel(level)
    if str(root) not in _told_init:
        _told_init.add(str(root))
        how = "without git (--no-scm)" if no_scm else "in the git repository"
        print(f"nbmlops: initialised DVC {how} at {root}", file=sys.stderr)
    ensure_gitignore(root)  # the first snapshot keeps the stores and outputs out of git


@contextlib.contextmanager
def _initialising(root: Path) -> Iterator[None]:
    """Initialise one repository at a time across processes.

    ``Repo.init`` opens the new repository (and its state database) too: two
    first snapshots racing in a project without DVC failed there ("unable to
    open database file"). The lock lives in the system's temp folder (the
    project has no ``.dvc/tmp`` yet), named after the project's path.
    """
    import hashlib
    import tempfile

    from filelock import FileLock

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    with FileLock(str(Path(tempfile.gettempdir()) / f"nbmlops-dvc-init-{key}.lock")):
        yield


@contextlib.contextmanager
def _opening(root: Path) -> Iterator[None]:
    """Open one repository at a time across processes.

    DVC's first open of a repository creates its state database in the site
    cache; two processes doing that at once fail ("unable to open database
    file"), e.g. two snapshots racing in a project DVC was just initialised in.
    The lock file lives in ``.dvc/tmp``, which DVC keeps out of git.
    """
    from filelock import FileLock

    folder = root / ".dvc" / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / "nbmlops-open.lock")):
        yield


def uses_git(repo: Any) -> bool:
    """Whether the DVC repository has git (not ``--no-scm``)."""
    return type(repo.scm).__name__ != "NoSCM"


def cache_path(repo: Any, md5: str) -> str:
    """Path of the object ``md5`` in the local DVC cache."""
    return repo.cache.local.oid_to_path(md5)


def in_cache(repo: Any, md5: str) -> bool:
    """Whether the local DVC cache holds ``md5``."""
    return os.path.exists(cache_path(repo, md5))


def add_to_cache(repo: Any, written: str, md5: str) -> str:
    """Move the file ``written`` (md5 known) into the cache; return the object path."""
    odb = repo.cache.local
    target = odb.oid_to_path(md5)
    if os.path.exists(target):
        os.unlink(written)  # content-addressed: same md5, same bytes
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        os.replace(written, target)
    except OSError:  # another filesystem (cache.dir elsewhere): let DVC copy it
        from dvc_objects.fs.local import LocalFileSystem

        odb.add(written, LocalFileSystem(), md5)
        os.unlink(written)
    odb.protect(target)
    return target


def checkout_file(repo: Any, md5: str, workspace: Path) -> None:
    """Place cache object ``md5`` at ``workspace`` with DVC's link types (atomic)."""
    from dvc_objects.fs import generic
    from dvc_objects.fs.local import LocalFileSystem

    odb = repo.cache.local
    fs = LocalFileSystem()
    fd, tmp = tempfile.mkstemp(prefix=f".{workspace.name}.", suffix=".tmp", dir=workspace.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        generic.transfer(odb.fs, odb.oid_to_path(md5), fs, tmp, links=link_types(repo))
        os.replace(tmp, workspace)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    from dvc_data.hashfile.hash_info import HashInfo

    with contextlib.suppress(Exception):  # the state DB is only a speed-up for dvc status
        repo.state.save(str(workspace), fs, HashInfo("md5", md5))


def link_types(repo: Any) -> list[str]:
    """How workspace files link to the cache: the repository's ``cache.type`` if set.

    Unset, snapshots use ``reflink, hardlink, copy`` rather than DVC's
    ``reflink, copy``: a snapshot file is never rewritten in place (a new
    version is a new file renamed over it), so sharing the read-only cache
    inode is safe and saves writing every version twice. Like DVC's own
    hardlink mode, the workspace file is then read-only.
    """
    configured = repo.config.get("cache", {}).get("type")
    if configured:
        return list(repo.cache.local.cache_types)
    return ["reflink", "hardlink", "copy"]


def write_dvcfile(workspace: Path, md5: str, size: int) -> Path:
    """Write ``<workspace>.dvc`` the way ``dvc add`` writes it (atomic)."""
    dvcfile = workspace.with_name(workspace.name + ".dvc")
    text = f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {workspace.name}\n"
    atomic_write(dvcfile, text)
    return dvcfile


def read_dvcfile(dvcfile: Path) -> dict[str, Any] | None:
    """The first out of a ``.dvc`` file, or ``None`` if absent/unreadable."""
    import yaml

    try:
        data = yaml.safe_load(dvcfile.read_text(encoding="utf-8"))
        return dict(data["outs"][0])
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return None


def ignore_in_git(repo: Any, workspace: Path) -> Path | None:
    """Add the data file to ``.gitignore`` as ``dvc add`` does; return that file."""
    if not uses_git(repo):
        return None
    gitignore = workspace.parent / ".gitignore"
    entry = f"/{workspace.name}"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    if entry not in lines:
        extra = ["/.*.lock", "/.*.tmp"] if "/.*.lock" not in lines else []
        atomic_write(gitignore, "\n".join([*lines, entry, *extra]) + "\n")
    return gitignore
