"""The one way nbmlops calls git: :func:`git` (raises) and :func:`git_output` (``None``).

Snapshots commit and tag with it; run capture and project discovery read HEAD,
the branch and the status through it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str, check: bool = True,
        timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``git *args`` in ``cwd`` and capture its text output.

    Raises
    ------
    subprocess.CalledProcessError
        When ``check`` is true and git exits non-zero (``stderr`` says why).
    OSError, subprocess.TimeoutExpired
        When git is missing or takes longer than ``timeout`` seconds.
    """
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          check=check, timeout=timeout)


def git_output(cwd: Path, *args: str, timeout: float = 10.0) -> str | None:
    """Stdout of ``git *args`` in ``cwd``; ``None`` when git fails, is missing or hangs."""
    try:
        done = git(cwd, *args, check=False, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
