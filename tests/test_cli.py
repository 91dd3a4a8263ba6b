"""The nbmlops command: help without heavy imports, python -m, error exit codes."""

from __future__ import annotations

import subprocess
import sys

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
