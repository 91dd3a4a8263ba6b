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


#: what a project keeps out of git (docs/configuration.md says why, line by line).
#: ``dvc.lock`` is NOT here: DVC wants it committed (it pins what `dvc repro` produced);
#: nor is ``outputs/``: a DVC stage's uncached outputs there (metrics, the executed
#: notebook) are meant for git; snapshot files are ignored by DVC itself.
IGNORED = (
    "mlflow.db",          # the embedded MLflow store: per-user, binary, rewritten by every run
    "mlartifacts/",       # its artifacts (models, notebooks, environments)
    ".nbmlops/",          # spooled runs, locks, the default drift audit log of local runs
    "outputs/sweeps/",    # one executed notebook per sweep combination (each logged to MLflow)
    "*.executed.ipynb",   # executed copies of notebooks (the demo's)
    "drift.html",         # the offline drift report the quickstart writes
)
_MARK = "# nbmlops: local stores and generated files (see docs/configuration.md)"


def ensure_gitignore(root: Path) -> list[str]:
    """Add the :data:`IGNORED` lines missing from ``root/.gitignore``, once.

    Lines already present (anywhere in the file) are never added again; the
    file is created when missing. Returns the lines added.
    """
    path = Path(root) / ".gitignore"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    have = {line.strip() for line in text.splitlines()}
    missing = [line for line in IGNORED if line not in have and "/" + line not in have]
    if not missing:
        return []
    block = ([] if _MARK in have else [_MARK]) + missing
    sep = "" if not text or text.endswith("\n") else "\n"
    path.write_text(text + sep + "\n".join(block) + "\n", encoding="utf-8")
    return missing
