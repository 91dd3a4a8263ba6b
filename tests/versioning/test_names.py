"""Snapshot names that cannot become file names, and an empty ``--name`` (issue 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nbmlops.exceptions import UsageArgumentError
from nbmlops.versioning.catalog import MAX_NAME_LENGTH, check_snapshot_name


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbmlops", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=300, check=False)


@pytest.mark.parametrize("name", ["a" * (MAX_NAME_LENGTH + 1), "b" * 300, "c" * 5000])
def test_too_long_names_get_the_usual_name_error(name: str) -> None:
    with pytest.raises(UsageArgumentError, match="characters long; use at most"):
        check_snapshot_name(name)


def test_cli_empty_and_long_names_exit_2_and_the_longest_allowed_works(dvc_project: Path) -> None:
    pd.DataFrame({"a": [1, 2]}).to_csv(dvc_project / "x.csv", index=False)
    for bad in ["", "z" * 210, "z" * 400]:
        proc = _cli(dvc_project, "snapshot", "x.csv", "--name", bad)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("error: Snapshot name") and "Traceback" not in proc.stderr
        assert proc.stderr.strip().count("\n") == 0
    assert not list((dvc_project / "data").glob("snapshots/x*"))  # nothing written
    longest = "y" * MAX_NAME_LENGTH
    proc = _cli(dvc_project, "snapshot", "x.csv", "--name", longest)
    assert proc.returncode == 0, proc.stderr
    proc = _cli(dvc_project, "snapshot", "x.csv")  # no --name: the file's stem
    assert proc.returncode == 0 and proc.stdout.startswith("x v1"), proc.stdout


def test_magic_empty_name_is_refused(ip: object, dvc_project: Path) -> None:
    shell = ip
    shell.user_ns["df"] = pd.DataFrame({"a": [1]})  # type: ignore[attr-defined]
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="Snapshot name '' is not usable"):
        shell.run_line_magic("mlops", 'snapshot df --name ""')  # type: ignore[attr-defined]
