"""The nbmlops command: help without heavy imports, python -m, error exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nbmlops.cli import COMMANDS, main


def test_help_lists_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_every_command_has_help() -> None:
    for name in COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "is unavailable" not in result.output, (name, result.output)


def test_python_dash_m() -> None:
    out = subprocess.run([sys.executable, "-m", "nbmlops", "--version"],
                         capture_output=True, text=True, check=True)
    assert "nbmlops" in out.stdout


def test_unknown_command_exits_2() -> None:
    result = CliRunner().invoke(main, ["nope"])
    assert result.exit_code == 2


# --------------------------------------------------------------------------- newcomer fixes
def _cli(cwd, *args, timeout=300):
    return subprocess.run([sys.executable, "-m", "nbmlops", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _frames(folder, shift=0.0):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    for name, start in [("ref", "2026-01-01"), ("cur", "2026-03-01")]:
        df = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400),
                           "ts": pd.date_range(start, periods=400, freq="h")})
        if name == "cur":
            df["a"] += shift
        df.to_csv(folder / f"{name}.csv", index=False)


def test_drift_uses_a_datetime_column_as_time_column_not_a_feature(project):
    _frames(project)
    out = _cli(project, "drift", "ref.csv", "cur.csv")
    assert out.returncode == 0, out.stdout + out.stderr  # later timestamps are no drift
    assert "| ts |" not in out.stdout and "Time column: ts" in out.stdout
    asked = _cli(project, "drift", "ref.csv", "cur.csv", "--time-column", "ts", "-w", "7D")
    assert asked.returncode == 0, asked.stdout + asked.stderr


def test_drift_html_needs_an_output_file(project):
    _frames(project)
    out = _cli(project, "drift", "ref.csv", "cur.csv", "-f", "html")
    assert out.returncode == 2 and "--output" in out.stderr and "<html" not in out.stdout.lower()


def test_markdown_error_rows_show_no_empty_effect():
    from types import SimpleNamespace

    from nbmlops.drift.results import FeatureResult
    from nbmlops.drift.text import feature_rows

    report = SimpleNamespace(ranking=["b"], features={"b": FeatureResult(
        name="b", kind="numeric", status="error", reason="missing from current data")})
    row = feature_rows(report)[0]
    assert "-=-" not in row and row[2] == "ERROR" and row[5] == "-"


def test_snapshot_refuses_an_unknown_format(project):
    (project / "bad.txt").write_text("a,b\n1,2\n")
    out = _cli(project, "snapshot", "bad.txt")
    assert out.returncode == 2 and "'.txt'" in out.stderr and out.stderr.count("\n") == 1
    assert not (project / "data").exists()


def test_init_and_first_snapshot_git_ignore_local_files_once(git_project):
    out = _cli(git_project, "init")
    assert out.returncode == 0, out.stderr
    text = (git_project / ".gitignore").read_text()
    for line in ("mlflow.db", "mlartifacts/", "outputs/sweeps/", ".nbmlops/", "drift.html"):
        assert line in text.splitlines()
    assert "dvc.lock" not in text  # DVC wants it committed
    assert "outputs/" not in text.splitlines()  # a stage's uncached outputs are for git
    again = _cli(git_project, "init")
    assert "already" in again.stdout and (git_project / ".gitignore").read_text() == text
    assert (git_project / ".dvc").is_dir()


def test_first_snapshot_adds_the_gitignore_lines(git_project):
    (git_project / "d.csv").write_text("a,b\n1,2\n3,4\n")
    (git_project / ".gitignore").write_text("/mlflow.db\n")
    out = _cli(git_project, "snapshot", "d.csv", "--name", "d")
    assert out.returncode == 0, out.stderr
    lines = (git_project / ".gitignore").read_text().splitlines()
    assert "mlartifacts/" in lines and "mlflow.db" not in lines and lines[0] == "/mlflow.db"
    assert out.stdout.count("d v1") == 1


def _notebook(path, body):
    import nbformat

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.slow
def test_run_says_a_failure_once_and_sweep_says_where_notebooks_went(project):
    _notebook(project / "boom.ipynb", "raise ValueError('boom here')")
    out = _cli(project, "run", "boom.ipynb")
    assert out.returncode == 1
    both = out.stdout + out.stderr
    assert both.count("ValueError: boom here") == 1, both
    _notebook(project / "ok.ipynb", "y = x * 2")
    out = _cli(project, "sweep", "ok.ipynb", "--grid", "x=1,2")
    assert out.returncode == 0, out.stdout + out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("executed notebooks: ") and "outputs" in last
    folder = Path(last.split(": ", 1)[1].split("/<")[0])
    assert len(list(folder.rglob("*.ipynb"))) == 2
