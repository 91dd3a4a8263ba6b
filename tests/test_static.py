"""Types and lint are part of the test suite, so the README's one test command checks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_finds_no_errors() -> None:
    pytest.importorskip("mypy", reason="mypy comes with the dev extra: pip install -e '.[dev]'")
    out = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                         text=True, check=False)  # config: [tool.mypy] in pyproject.toml
    assert out.returncode == 0, f"mypy (config in pyproject.toml):\n{out.stdout}{out.stderr}"


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff comes with the dev extra: pip install -e '.[dev]'")
    out = subprocess.run([ruff, "check", "nbmlops", "tests"], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, f"ruff check nbmlops tests:\n{out.stdout}{out.stderr}"
