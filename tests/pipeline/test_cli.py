"""CLI front of the pipeline commands: bad input exits 2 naming the problem, no kernel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nbmlops.cli import main

from .conftest import write_notebook


@pytest.fixture
def nb(project: Path) -> Path:
    return write_notebook(project / "nb.ipynb", "C: float = 1.0\nn = 3\nname = 'x'", "print(C)")


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "C", "high"], "Parameter 'C' must be float"),
    (["-p", "n", "1.5"], "Parameter 'n' must be int"),
    (["-p", "alpha", "1"], "Unknown parameter 'alpha'"),
    (["-p", "bad name", "1"], "not a Python identifier"),
    (["-f", "missing.yaml"], "Cannot read parameters file"),
    (["-f", "params.yaml:nope"], "has no section 'nope'"),
    (["-o", "nb.ipynb"], "would overwrite its source"),
])
def test_run_bad_input_exits_2(nb: Path, args: list[str], message: str) -> None:
    Path("params.yaml").write_text("train: {C: 2}\n")
    out = CliRunner().invoke(main, ["run", "nb.ipynb", *args])
    assert out.exit_code == 2, out.output
    assert message in out.output
    assert len([line for line in out.output.splitlines() if line.startswith("error:")]) == 1


def test_run_bad_input_json(nb: Path) -> None:
    out = CliRunner().invoke(main, ["run", "nb.ipynb", "-p", "C", "x", "--json"])
    assert out.exit_code == 2
    body = json.loads(out.output.split("error:")[0])
    assert body["status"] == "bad_input" and body["parameter"] == "C"


def test_run_missing_or_untagged_notebook(project: Path) -> None:
    out = CliRunner().invoke(main, ["run", "nope.ipynb"])
    assert out.exit_code == 2 and "does not exist" in out.output
    write_notebook(project / "plain.ipynb", "a = 1", tag=False)
    out = CliRunner().invoke(main, ["run", "plain.ipynb", "-p", "a", "2"])
    assert out.exit_code == 2 and "nbmlops pipeline init plain.ipynb" in out.output


def test_sweep_bad_input_exits_2_before_any_kernel(nb: Path) -> None:
    out = CliRunner().invoke(main, ["sweep", "nb.ipynb", "--grid", "C=1,oops"])
    assert out.exit_code == 2 and "Combination 1" in out.output and "'C'" in out.output
    out = CliRunner().invoke(main, ["sweep", "nb.ipynb", "--grid", "C"])
    assert out.exit_code == 2 and "NAME=V1,V2" in out.output
    out = CliRunner().invoke(main, ["sweep", "nb.ipynb"])
    assert out.exit_code == 2 and "--grid" in out.output


def test_pipeline_init_and_export(project: Path) -> None:
    write_notebook(project / "plain.ipynb", "a = 1\nb: str = 'x'  # a label", "print(a)",
                   tag=False)
    out = CliRunner().invoke(main, ["pipeline", "init", "plain.ipynb"])
    assert out.exit_code == 0, out.output
    assert "cell 1 tagged 'parameters'" in out.output and "b: str = 'x'  # a label" in out.output
    out = CliRunner().invoke(main, ["export", "plain.ipynb", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["params"] == {"a": 1, "b": "x"}


def test_help_texts() -> None:
    for cmd in (["run"], ["sweep"], ["export"], ["pipeline", "init"], ["ci", "init"]):
        out = CliRunner().invoke(main, [*cmd, "--help"])
        assert out.exit_code == 0 and "Usage:" in out.output
