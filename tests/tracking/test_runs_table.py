"""Runs tables people can read; the primary_metric setting; the note keeps the magic line.

Real shell, real MLflow store, real sklearn autolog.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from IPython.core.error import UsageError

from tests.tracking._helpers import all_runs

SETUP = ("from sklearn.linear_model import LogisticRegression\n"
         "X = [[0.0], [1.0], [2.0], [3.0], [0.5], [2.5]]\ny = [0, 0, 1, 1, 1, 0]\n")
CELL = ("C = {c}\n"
        "model = LogisticRegression(C=C, max_iter=200).fit(X, y)\n"
        "auc = float(model.score(X, y)) + C / 100\nloss = 1 - auc\n")


def _two_runs(ip):
    ip.run_cell(SETUP)
    ip.run_cell("%%mlops run --name baseline --seed 0\n" + CELL.format(c=0.5))
    ip.run_cell("%%mlops run --name stronger-regularisation --seed 0\n" + CELL.format(c=0.05))


def test_runs_show_the_users_own_columns_first_and_autolog_behind_all(ip, client, project):
    _two_runs(ip)
    assert "training_accuracy_score" in all_runs(client)[0].data.metrics  # autolog did run
    out = subprocess.run([sys.executable, "-m", "nbmlops", "runs"], cwd=project,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = lines[1].split()
    assert header[:5] == ["run", "status", "auc", "loss", "seed"], lines
    assert "C" in header and "max_iter" not in header and "training_accuracy_score" not in header
    assert "--all shows them" in lines[-1]
    assert max(len(line) for line in lines) <= 90, out.stdout  # was 332 characters
    # long run names align: every column starts at the same offset on every row
    status_at = {line.index(word) for line, word in
                 zip(lines[1:4], ["status", "FINISHED", "FINISHED"], strict=True)}
    assert len(status_at) == 1, out.stdout
    wide = subprocess.run([sys.executable, "-m", "nbmlops", "runs", "--all"], cwd=project,
                          capture_output=True, text=True, timeout=180)
    assert "training_accuracy_score" in wide.stdout and "max_iter" in wide.stdout


def test_chart_plots_the_primary_metric_against_the_param_that_varies(ip, client):
    _two_runs(ip)
    from nbmlops.tracking.query import runs

    table = runs()
    assert (table.metric, table.param) == ("auc", "C")
    fig = table.chart()
    assert list(fig.data[0].x) == [0.05, 0.5]
    ip.run_cell("%config MLOps.primary_metric = 'min:loss'")
    table = runs(config=ip.find_magic("mlops").__self__.resolved_config())
    assert table.metric == "loss" and table.higher is False
    html = table._repr_mimebundle_()["text/html"]
    assert html.index(">loss<") < html.index(">auc<")


def test_primary_metric_with_direction_picks_the_cards_best(ip, client):
    ip.run_cell("%%mlops run --name a --no-autolog\nauc = round(0.9, 3)\nloss = round(0.5, 3)")
    ip.run_cell("%%mlops run --name b --no-autolog\nauc = round(0.8, 3)\nloss = round(0.2, 3)")
    magics = ip.find_magic("mlops").__self__
    ip.run_cell("%%mlops run --name c --no-autolog --primary-metric min:loss\n"
                "auc = round(0.85, 3)\nloss = round(0.3, 3)")
    result = magics.state["tracking"]["last"]
    assert result.best_metric == "loss" and result.best["run_name"] == "b"
    assert result.best_higher is False
    ip.run_cell("%%mlops run --name d --no-autolog\nauc = round(0.85, 3)\nloss = round(0.3, 3)")
    result = magics.state["tracking"]["last"]
    assert result.best_metric == "auc" and result.best["run_name"] == "a"
    with pytest.raises(UsageError, match="primary_metric"):
        ip.run_cell("%%mlops run --primary-metric up:auc\nauc = 1.0")


def test_sweeps_read_the_primary_metric_setting():
    from nbmlops.tracking.ranking import parse_primary, sweep_metric

    assert sweep_metric(None, "max", "min:val_loss") == ("val_loss", "min")
    assert sweep_metric("acc", "max", "min:val_loss") == ("acc", "max")
    assert sweep_metric(None, "max", None) == (None, "max")
    assert parse_primary("rmse").higher is False and parse_primary("max:auc").higher


def test_note_shows_the_magic_line_as_written(ip, client):
    line = "%%mlops run --name noted --no-autolog --tags k=v team=ml"
    ip.run_cell(line + "\nx = 1")
    note = all_runs(client)[0].data.tags["mlflow.note.content"]
    assert note.startswith(f"`{line}`"), note
    assert "True" not in note.splitlines()[0] and "['" not in note


def test_a_new_project_has_no_runs_yet_not_an_error(ip, project, capsys):
    """Before any run the project's experiment does not exist: say so and how to make one."""
    out = subprocess.run([sys.executable, "-m", "nbmlops", "runs"], cwd=project,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("experiment ")
    assert "no runs yet: a `%%mlops run` cell" in out.stdout
    ip.run_line_magic("mlops", "runs")
    assert "no runs yet" in capsys.readouterr().out
    with pytest.raises(UsageError, match="no experiment 'nope'"):  # a name given is checked
        ip.run_line_magic("mlops", "runs --experiment nope")
