"""The little git a snapshot needs: HEAD, and a commit + tag for ``--commit``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nbmlops.exceptions import SnapshotError


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                          check=check, timeout=60)


def is_repo(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree."""
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree", check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def head_commit(root: Path) -> str | None:
    """The commit HEAD points at, or ``None`` (no git, no commits yet)."""
    try:
        out = _git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def commit_and_tag(root: Path, paths: list[Path], message: str, tag: str) -> str:
    """Commit exactly ``paths`` (nothing else staged is included) and tag it.

    Returns
    -------
    str
        The new commit.
    """
    if not is_repo(root):
        raise SnapshotError(f"--commit needs a git repository; {root} has none "
                            "(DVC runs with --no-scm here).", path=str(root))
    rel = [str(p.relative_to(root)) for p in paths if p.exists()]
    try:
        _git(root, "add", "--", *rel)
        _git(root, "commit", "-q", "-m", message, "--", *rel)
        _git(root, "tag", tag)
    except subprocess.CalledProcessError as exc:
        raise SnapshotError(f"git failed: {' '.join(exc.cmd)}: {exc.stderr.strip()}",
                            tag=tag) from None
    return head_commit(root) or ""
