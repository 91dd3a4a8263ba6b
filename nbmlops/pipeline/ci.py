"""``nbmlops ci init``: a ready CI workflow (GitHub Actions + a plain shell script).

The shell script is the real workflow: it installs the project, then runs
``dvc repro`` when there is a ``dvc.yaml`` (else ``nbmlops run`` for each
listed notebook) and collects the executed notebooks into ``ci-artifacts/``.
The GitHub Actions file only checks out, sets up Python, calls the script and
uploads ``ci-artifacts/`` (also when the run failed), so any other CI can call
the same script.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import PipelineError
from nbmlops.fileio import atomic_write

WORKFLOW = ".github/workflows/nbmlops.yml"
SCRIPT = "ci/nbmlops.sh"

_SCRIPT = """\
#!/usr/bin/env bash
# Reproduce the notebook pipeline; written by `nbmlops ci init`.
# Runs on any CI (or a laptop): bash ci/nbmlops.sh
# NBMLOPS_CI_SKIP_INSTALL=1 skips the pip installs (environment already set up).
set -euo pipefail
cd "$(dirname "$0")/.."
export DVC_NO_ANALYTICS=1

if [ "${{NBMLOPS_CI_SKIP_INSTALL:-0}}" != "1" ]; then
  python -m pip install --upgrade pip
  if [ -f requirements.txt ]; then python -m pip install -r requirements.txt; fi
  if [ -f pyproject.toml ] || [ -f setup.py ]; then python -m pip install -e .; fi
  python -c "import nbmlops" 2>/dev/null || python -m pip install nbmlops
fi

if [ "${{1:-}}" = "loop" ]; then
  # one retraining-loop iteration (mlops.yaml): exit 0 ok, 1 failed, 2 bad input / waiting
  exec nbmlops loop --once
fi

status=0
if [ -f dvc.yaml ]; then
  # reuse outputs from the DVC remote when they are there; recompute the rest
  dvc pull --allow-missing >/dev/null 2>&1 || echo "note: nothing pulled; stages will run"
  dvc repro || status=$?
  dvc metrics show || true
else
{runs}
fi

# keep the executed notebooks (papermill's error cell included on failure)
rm -rf ci-artifacts && mkdir -p ci-artifacts
find . -path ./ci-artifacts -prune -o -path ./.git -prune -o -path ./notebooks -prune \\
  -o -name '*.ipynb' -newer "$0" -print | while read -r nb; do
  mkdir -p "ci-artifacts/$(dirname "$nb")" && cp "$nb" "ci-artifacts/$nb"
done
exit "$status"
"""

_WORKFLOW = """\
# Reproduce the notebook pipeline on every push; written by `nbmlops ci init`.
name: nbmlops pipeline
on:
  push:
  pull_request:
  workflow_dispatch:
jobs:
  reproduce:
{setup}      - name: Reproduce ({what})
        run: bash {script}
      - name: Keep the executed notebooks
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: executed-notebooks
          path: ci-artifacts/
          if-no-files-found: warn
"""

#: a job's runner, checkout and Python: shared by the reproduce and the loop jobs
_SETUP = """\
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "{python}"
          cache: pip
"""

#: added when the project declares a retraining loop (mlops.yaml or [tool.nbmlops.loop])
_LOOP_ON = """  schedule:
    - cron: "{cron}"
"""
_LOOP_JOB = """  loop:
    # drift-triggered retraining: check the service's log, retrain, validate, ask sign-off
    if: github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'
{setup}      - name: Keep the loop's state and audit between scheduled runs
        uses: actions/cache@v4
        with:
          path: .nbmlops/
          key: nbmlops-loop-${{{{ github.run_id }}}}
          restore-keys: nbmlops-loop-
      - name: One loop iteration
        run: bash {script} loop
"""
LOOP_CRON = "17 * * * *"


@dataclass
class CiResult:
    """Files written by :func:`init_ci`."""

    workflow: str
    script: str
    runs: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"workflow": self.workflow, "script": self.script, "runs": self.runs}

    def __str__(self) -> str:
        return (f"wrote {self.workflow}\nwrote {self.script} (runs: {self.runs})\n"
                f"try it locally: bash {SCRIPT}")


def init_ci(notebooks: list[str] | None = None, *, force: bool = False,
            config: NbmlopsConfig | None = None) -> CiResult:
    """Write ``.github/workflows/nbmlops.yml`` and ``ci/nbmlops.sh`` at the project root.

    Parameters
    ----------
    notebooks
        Notebooks the script runs with ``nbmlops run`` when the project has
        no ``dvc.yaml`` (default: every notebook with a parameters cell in
        ``notebooks/``).
    force
        Overwrite existing files.
    config
        Resolved configuration (default: :func:`~nbmlops.config.load_config`).

    Raises
    ------
    PipelineError
        When a file exists and ``force`` is false.
    """
    import sys

    config = config or load_config()
    root = config.project_root
    workflow, script = root / WORKFLOW, root / SCRIPT
    for path in (workflow, script):
        if path.exists() and not force:
            raise PipelineError(f"{path} exists; pass --force to overwrite it.", path=str(path))
    names = notebooks if notebooks is not None else _default_notebooks(root)
    runs = "\n".join(f"  nbmlops run {shlex.quote(n)} --no-progress || status=$?" for n in names)
    runs = runs or '  echo "no dvc.yaml and no notebooks to run"'
    what = "dvc repro" if (root / "dvc.yaml").exists() else "nbmlops run"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    _write(script, _SCRIPT.format(runs=runs), executable=True)
    setup = _SETUP.format(python=python)
    text = _WORKFLOW.format(setup=setup, script=SCRIPT, what=what)
    if has_loop(root):
        text = text.replace("  workflow_dispatch:\n", "  workflow_dispatch:\n"
                            + _LOOP_ON.format(cron=LOOP_CRON))
        text = text.replace("    runs-on: ubuntu-latest\n", "    if: github.event_name != "
                            "'schedule'\n    runs-on: ubuntu-latest\n", 1)
        text += _LOOP_JOB.format(setup=setup, script=SCRIPT)
    _write(workflow, text)
    return CiResult(str(workflow), str(script), what if names or what == "dvc repro" else "-")


def has_loop(root: Path) -> bool:
    """Whether the project declares a retraining loop (``mlops.yaml`` or pyproject's table)."""
    if (root / "mlops.yaml").exists():
        return True
    py = root / "pyproject.toml"
    return py.exists() and "[tool.nbmlops.loop" in py.read_text(encoding="utf-8")


def _default_notebooks(root: Path) -> list[str]:
    import json

    found = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        try:
            if '"parameters"' in path.read_text(encoding="utf-8"):
                json.loads(path.read_text(encoding="utf-8"))
                found.append(path.relative_to(root).as_posix())
        except (OSError, ValueError):
            continue
    return found


def _write(path: Path, text: str, executable: bool = False) -> None:
    atomic_write(path, text, executable=executable)
