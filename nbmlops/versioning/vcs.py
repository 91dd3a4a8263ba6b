"""The little git a snapshot needs: HEAD, and a commit + tag for ``--commit``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from nbmlops._git import git, git_output
from nbmlops.exceptions import SnapshotError


def is_repo(root: Path) -> bool:
    """Whether ``root`` is inside a git work tree."""
    return git_output(root, "rev-parse", "--is-inside-work-tree") is not None


def head_commit(root: Path) -> str | None:
    """The commit HEAD points at, or ``None`` (no git, no commits yet)."""
    return (git_output(root, "rev-parse", "--verify", "-q", "HEAD") or "").strip() or None


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
        git(root, "add", "--", *rel)
        git(root, "commit", "-q", "-m", message, "--", *rel)
        git(root, "tag", tag)
    except subprocess.CalledProcessError as exc:
        raise SnapshotError(f"git failed: {' '.join(exc.cmd)}: {exc.stderr.strip()}",
                            tag=tag) from None
    return head_commit(root) or ""
