"""Magic arguments, configuration, help, %mlops runs/init/sync through a real shell."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from tests.tracking._helpers import all_runs


@pytest.mark.parametrize(
    ("line", "flag"),
    [
        ("run --seed abc", "--seed"),
        ("run --bogus 1", "--bogus"),
        ("run --tags novalue", "--tags"),
        ("run --metrics 'a b'", "--metrics"),
        ("runs --last 0", "--last"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(ip, client, line, flag):
    with pytest.raises(UsageError) as info:
        ip.run_cell(f"%%mlops {line}\nx = 1")
    message = str(info.value)
    assert flag in message and "\n" not in message.strip()
    assert all_runs(client) == []  # nothing started


def test_run_is_a_cell_magic_and_help(ip, capsys):
    with pytest.raises(UsageError, match="cell magic"):
        ip.run_line_magic("mlops", "run --name x")
    ip.run_line_magic("mlops", "run --help")
    out = capsys.readouterr().out
    assert "--no-autolog" in out and "--seed" in out


@pytest.mark.fresh_store  # asserts that no default mlflow.db is written
def test_init_sets_experiment_and_store(ip, project, tmp_path, capsys):
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path / 'other.db'}"
    ip.run_line_magic("mlops", f"init --experiment fraud --tracking-uri {uri}")
    assert "fraud" in capsys.readouterr().out
    ip.run_cell("%%mlops run --tags team=risk owner=ana\nv = 1")
    other = MlflowClient(tracking_uri=uri)
    (run,) = other.search_runs([other.get_experiment_by_name("fraud").experiment_id])
    assert run.data.tags["team"] == "risk" and run.data.tags["owner"] == "ana"
    assert not (project / "mlflow.db").exists()


def test_config_traits_and_misspelled_key(ip, client, caplog):
    ip.run_line_magic("config", "MLOps.experiment = 'from_config'")
    ip.run_line_magic("config", "MLOps.capture_env = False")
    ip.run_cell("%%mlops run\nv = 1")
    run = all_runs(client)[0]
    assert client.get_experiment(run.info.experiment_id).name == "from_config"
    assert "nbmlops.python" not in run.data.tags
    # IPython's %config reports the error (it does not raise): it names the valid keys
    ip.run_line_magic("config", "MLOps.experimnet = 'typo'")
    assert "no setting 'experimnet'" in caplog.text and "experiment" in caplog.text
    ip.run_cell("%%mlops run\nv = 2")
    assert client.get_experiment(all_runs(client)[0].info.experiment_id).name == "from_config"


def test_pyproject_settings_and_misspelled_key(ip, client, project):
    (project / "pyproject.toml").write_text('[tool.nbmlops]\nexperiment = "from_toml"\n')
    ip.run_cell("%%mlops run\nv = 1")
    run = all_runs(client)[0]
    assert client.get_experiment(run.info.experiment_id).name == "from_toml"
    (project / "pyproject.toml").write_text('[tool.nbmlops]\nexperimant = "x"\n')
    with pytest.raises(UsageError, match="Did you mean 'experiment'"):
        ip.run_cell("%%mlops run\nv = 1")


def test_runs_table_and_chart(ip, client, capsys):
    for c in (0.1, 0.5, 1.0):
        ip.run_cell(f"%%mlops run --name c{c}\nC = {c}\nacc = 1 - abs(C - 0.5)")
    from nbmlops.tracking.query import runs

    table = runs(last=2)
    assert [r["run_name"] for r in table.rows] == ["c1.0", "c0.5"]
    assert table.metric == "acc" and table.param == "C"
    fig = table.chart()
    assert list(fig.data[0].x) == [1.0, 0.5] and list(fig.data[0].y) == [0.5, 1.0]
    html = table._repr_mimebundle_()["text/html"]
    assert "c0.5" in html and "FINISHED" in html
    frame = table.to_pandas()
    assert list(frame["param.C"]) == ["1.0", "0.5"]
    ip.run_line_magic("mlops", "runs --last 3")
    assert "c0.1" in capsys.readouterr().out
    with pytest.raises(UsageError, match="no experiment 'nope'"):
        ip.run_line_magic("mlops", "runs --experiment nope")


def test_sklearn_autolog_on_by_default_and_off_with_flag(ip, client):
    cell = ("from sklearn.linear_model import LogisticRegression\n"
            "X = [[0.0], [1.0], [2.0], [3.0]]\ny = [0, 0, 1, 1]\nC = 0.5\n"
            "model = LogisticRegression(C=C, max_iter=200).fit(X, y)\n"
            "acc = float(model.score(X, y))")
    ip.run_cell("%%mlops run --name auto\n" + cell)
    run = all_runs(client)[0]
    assert run.data.params["max_iter"] == "200" and run.data.params["C"] == "0.5"
    assert "training_accuracy_score" in run.data.metrics and run.data.metrics["acc"] == 1.0
    assert run.info.status == "FINISHED"
    ip.run_cell("%%mlops run --name manual --no-autolog\n" + cell)
    run = all_runs(client)[0]
    assert "max_iter" not in run.data.params and "training_accuracy_score" not in run.data.metrics
    # a fit outside %%mlops cells starts no run of its own
    ip.run_cell("LogisticRegression().fit(X, y)")
    assert len(all_runs(client)) == 2


def test_note_keeps_the_magic_line_as_written(ip, client):
    ip.run_cell("%%mlops run --no-autolog --tags team=ml stage=dev --name 'my run'\nC = 1")
    (run,) = all_runs(client)
    note = run.data.tags["mlflow.note.content"]
    assert note.startswith("`%%mlops run --no-autolog --tags team=ml stage=dev --name 'my run'`")
    assert "True" not in note.splitlines()[0] and "[" not in note.splitlines()[0]
