"""The %mlops dispatcher, help and %config, through a real IPython shell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from nbmlops.magics import SUBCOMMANDS, MLOps, strip_comment


def _magics(ip) -> MLOps:
    return next(c for c in ip.configurables if isinstance(c, MLOps))


def test_help_lists_every_subcommand(ip, capsys) -> None:
    ip.run_line_magic("mlops", "help")
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_each_usage_line_reads_as_typed(ip, capsys) -> None:
    """``%mlops help NAME`` shows ``%mlops NAME`` (``%%mlops run``), never ``%%%`` or ``%load``."""
    for name, sub in SUBCOMMANDS.items():
        ip.run_line_magic("mlops", f"help {name}")
        out = capsys.readouterr().out
        if "usage" in out.lower() or "::" in out:
            assert f"\n  {'%%' if sub.cell else '%'}mlops {name}" in out, (name, out[:200])
            assert "%%%" not in out, name


def test_a_trailing_comment_is_not_an_argument(ip, tmp_path, monkeypatch) -> None:
    assert strip_comment("--experiment fraud   # optional") == "--experiment fraud"
    kept = "--tags issue=#12 '# kept' \"a # b\""
    assert strip_comment(kept) == kept
    assert strip_comment("# only a comment") == ""
    monkeypatch.chdir(tmp_path)
    ip.run_line_magic("mlops", "init --experiment fraud   # optional: defaults work")
    assert _magics(ip).state.get("line", "").endswith("# optional: defaults work")


def test_question_mark_help_is_the_docstring(ip) -> None:
    doc = ip.find_line_magic("mlops").__doc__
    assert "%%mlops run" in doc
    assert all(name in doc for name in SUBCOMMANDS)


def test_unknown_subcommand_is_one_line_usage_error(ip) -> None:
    with pytest.raises(UsageError, match="Unknown %mlops subcommand 'rnu'"):
        ip.run_line_magic("mlops", "rnu --name x")


def test_cell_subcommand_as_line_is_usage_error(ip) -> None:
    with pytest.raises(UsageError, match="cell magic"):
        ip.run_line_magic("mlops", "run --name x")


def test_config_traits_and_misspelled_key(ip, caplog) -> None:
    ip.run_line_magic("config", "MLOps.experiment = 'fraud'")
    assert _magics(ip).resolved_config().experiment == "fraud"
    # IPython's %config reports errors of configurables as an error message
    ip.run_line_magic("config", "MLOps.experimnt = 'fraud'")
    assert "MLOps has no setting 'experimnt'. Valid settings:" in caplog.text
    assert "experiment" in caplog.text.split("Valid settings:")[1]
