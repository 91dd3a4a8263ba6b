"""Fixtures of the snapshot tests: small frames and DVC helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def dvc(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run DVC's own command line (analytics off)."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    out = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=cwd, env=env,
                         capture_output=True, text=True, check=False)
    if check and out.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out


@pytest.fixture
def frame() -> pd.DataFrame:
    """A small frame with the dtypes that must round-trip."""
    n = 6
    return pd.DataFrame({
        "id": np.arange(n),
        "x": np.linspace(0, 1, n),
        "s": pd.Series(list("abcdef")),
        "c": pd.Categorical(list("ababab"), categories=["a", "b", "z"]),
        "t": pd.date_range("2024-03-01", periods=n, freq="h", tz="Europe/Paris"),
        "n": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
        "b": pd.array([True, None, False, True, True, False], dtype="boolean"),
    })
