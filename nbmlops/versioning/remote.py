"""Push snapshot versions to a DVC remote and fetch them back.

Uses DVC's own data cloud (``repo.cloud``): the same transfer code as
``dvc push`` / ``dvc pull``, but for one object by md5, so any version in
the catalog can be pushed or fetched, not only the one the ``.dvc`` file
names. After a push, ``repo.status(cloud=True)`` (``dvc status -c``) must
report the ``.dvc`` file in sync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nbmlops.exceptions import SnapshotError
from nbmlops.versioning.dvcfiles import in_cache, no_analytics


def _hash_info(md5: str) -> Any:
    from dvc_data.hashfile.hash_info import HashInfo

    return HashInfo("md5", md5)


def _remote_error(exc: Exception, remote: str | None) -> SnapshotError:
    which = f"remote {remote!r}" if remote else "the default DVC remote"
    return SnapshotError(
        f"Cannot reach {which}: {exc}. Configure one with "
        "'dvc remote add -d NAME URL' or set MLOps.dvc_remote.",
        remote=remote,
    )


def push(repo: Any, md5: str, dvcfile: Path | None, remote: str | None = None) -> None:
    """Push object ``md5`` and check ``dvc status -c`` for ``dvcfile``.

    Raises
    ------
    SnapshotError
        No remote configured, the transfer failed, or the remote still
        misses the data afterwards.
    """
    from dvc.exceptions import DvcException

    with no_analytics():
        try:
            result = repo.cloud.push({_hash_info(md5)}, remote=remote)
        except DvcException as exc:
            raise _remote_error(exc, remote) from None
        if result.failed:
            raise SnapshotError(f"dvc push of {md5} to {remote or 'default remote'} failed.",
                                md5=md5)
        if dvcfile is not None:
            status = repo.status(targets=[str(dvcfile)], cloud=True, remote=remote)
            if status:
                raise SnapshotError(
                    f"After pushing, 'dvc status -c' still reports {status} for {dvcfile}.",
                    path=str(dvcfile),
                )


def push_many(repo: Any, md5s: list[str], remote: str | None = None) -> None:
    """Push several objects at once (``nbmlops snapshot push``).

    Raises
    ------
    SnapshotError
        No remote configured, or some transfer failed.
    """
    from dvc.exceptions import DvcException

    if not md5s:
        return
    with no_analytics():
        try:
            result = repo.cloud.push({_hash_info(m) for m in md5s}, remote=remote)
        except DvcException as exc:
            raise _remote_error(exc, remote) from None
    if result.failed:
        raise SnapshotError(f"dvc push failed for {len(result.failed)} of {len(md5s)} "
                            f"snapshot objects to {remote or 'the default remote'}.")


def fetch(repo: Any, md5: str, remote: str | None = None) -> bool:
    """Bring object ``md5`` into the local cache from the remote (like ``dvc pull``).

    Returns
    -------
    bool
        ``True`` when the object is in the cache afterwards.
    """
    from dvc.exceptions import DvcException

    if in_cache(repo, md5):
        return True
    with no_analytics():
        try:
            repo.cloud.pull({_hash_info(md5)}, remote=remote)
        except DvcException:
            return False
    return in_cache(repo, md5)
