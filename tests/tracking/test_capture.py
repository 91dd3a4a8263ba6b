"""What a run captures: params, metrics, code, history, git, env, seeds, data, output."""

from __future__ import annotations

import json
import typing

import numpy as np
import pandas as pd
import pytest

from nbmlops.tracking import capture
from tests.conftest import git
from tests.tracking._helpers import all_runs, artifact_text


@pytest.mark.parametrize(
    ("source", "params", "assigned"),
    [
        ("C = 0.5\nname = 'rf'\nflag = True", {"C": 0.5, "name": "rf", "flag": True},
         ["C", "name", "flag"]),
        ("lr: float = -1e-3\nlayers = [64, 32]", {"lr": -1e-3, "layers": [64, 32]},
         ["lr", "layers"]),
        ("a = b = 3\nx = f(2)", {"a": 3, "b": 3}, ["a", "b", "x"]),
        ("n = 1\nn += 1", {}, ["n"]),  # reassigned: no longer a literal param
        ("p, q = 1, 2\nif True:\n    inner = 5", {}, ["p", "q"]),  # only top level
        ("x = (", {}, []),  # does not parse: nothing (the run fails with SyntaxError)
    ],
)
def test_analyse_finds_top_level_literals_with_ast(source, params, assigned):
    result = capture.analyse(source)
    assert result.literals == params
    assert result.assigned == assigned


def test_metric_values_are_numeric_scalars_not_bools():
    ok = [1, 2.5, np.float32(0.5), np.int64(3), np.array(1.5)]
    bad = [True, np.bool_(False), "1", [1.0], np.array([1.0]), None]
    assert all(capture.is_metric_value(v) for v in ok)
    assert not any(capture.is_metric_value(v) for v in bad)


def test_params_metrics_and_restriction(ip, client):
    ip.run_cell("%%mlops run\nC = 0.5\nok = True\nauc = np.float64(0.91)\nloss = 1 - auc\n"
                "n_rows = len(range(10))\nlabel = str(C)", store_history=False)
    run = all_runs(client)[0]
    assert run.data.params == {"C": "0.5", "ok": "True"}
    assert run.data.metrics == pytest.approx({"auc": 0.91, "loss": 0.09, "n_rows": 10.0})
    ip.run_cell("%%mlops run --metrics auc,missing\nauc = np.float64(0.5)\nloss = 1 - auc")
    run = all_runs(client)[0]
    assert run.data.metrics == {"auc": 0.5}
    assert run.data.tags["nbmlops.metrics_missing"] == "missing"


def test_injected_params_and_log_metric_steps(ip, client, monkeypatch):
    monkeypatch.setenv("NBMLOPS_INJECTED_PARAMS", json.dumps({"alpha": 0.3, "epochs": 3}))
    ip.user_ns.update(alpha=0.3, epochs=3)
    ip.run_cell("%%mlops run\nimport nbmlops\nfor i in range(epochs):\n"
                "    nbmlops.log_metric('loss', 1 / (i + 1), step=i)\nfinal = alpha * 2")
    run = all_runs(client)[0]
    assert run.data.params["alpha"] == "0.3" and run.data.params["epochs"] == "3"
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, round(m.value, 3)) for m in history] == [(0, 1.0), (1, 0.5), (2, 0.333)]
    assert run.data.metrics["final"] == pytest.approx(0.6)


def test_log_metric_outside_a_run_is_a_clear_error():
    import nbmlops
    from nbmlops.exceptions import TrackingError

    with pytest.raises(TrackingError, match="%%mlops run"):
        nbmlops.log_metric("x", 1.0)
    with pytest.raises(TrackingError):
        nbmlops.log_params({"a": 1})


def test_code_history_notebook_and_standard_tags(ip, client, project, monkeypatch):
    nb = project / "analysis.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setenv("NBMLOPS_NOTEBOOK_PATH", str(nb))
    ip.run_cell("base = 10", store_history=True)
    ip.run_cell("%time _ = 1", store_history=True)
    ip.run_cell("%%mlops run --name h\nk = 2\nres = base * k", store_history=True)
    run = all_runs(client)[0]
    tags = run.data.tags
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["mlflow.source.name"] == str(nb)
    assert "res = base * k" in tags["mlflow.note.content"]
    assert tags["nbmlops.kernel.pid"].isdigit() and tags["nbmlops.kernel.session"]
    rid = run.info.run_id
    assert artifact_text(client, rid, "code/cell.py").strip() == "k = 2\nres = base * k"
    history = artifact_text(client, rid, "code/history.py")
    assert history.index("base = 10") < history.index("run_line_magic('time'")
    assert history.index("run_line_magic('time'") < history.index("res = base * k")
    assert "# %% In[" in history
    compile(history, "history.py", "exec")  # runnable Python
    assert json.loads(artifact_text(client, rid, "code/analysis.ipynb"))["nbformat"] == 4
    env = json.loads(artifact_text(client, rid, "env/python.json"))
    assert env["python"].count(".") == 2 and env["n_packages"] > 10
    assert "mlflow==" in artifact_text(client, rid, "env/requirements.txt")


def test_git_from_notebook_directory_with_diff(ip, client, git_project, monkeypatch):
    git(git_project, "remote", "add", "origin", "https://example.invalid/team/repo.git")
    (git_project / "README.md").write_text("changed\n")
    ip.run_cell("%%mlops run\nv = 1")
    tags = all_runs(client)[0].data.tags
    head = git(git_project, "rev-parse", "HEAD").strip()
    assert tags["mlflow.source.git.commit"] == head
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://example.invalid/team/repo.git"
    assert tags["mlflow.source.git.dirty"] == "true"
    diff = artifact_text(client, all_runs(client)[0].info.run_id, "git/diff.patch")
    assert "+changed" in diff


def test_git_root_is_remembered_but_a_repository_created_inside_is_seen(tmp_path):
    from nbmlops.tracking.context import git_info

    outer, inner = tmp_path / "outer", tmp_path / "outer" / "nb"
    inner.mkdir(parents=True)
    for repo, url in ((outer, "https://example.invalid/outer.git"),
                      (inner, "https://example.invalid/inner.git")):
        if repo == inner:  # first seen (and remembered) as part of the outer repository
            assert git_info(inner).remote == "https://example.invalid/outer.git"
        git(repo, "init", "-q", "-b", "main")
        git(repo, "commit", "-q", "--allow-empty", "-m", "start")
        git(repo, "remote", "add", "origin", url)
    assert git_info(inner).remote == "https://example.invalid/inner.git"
    assert git_info(outer).remote == "https://example.invalid/outer.git"


def test_seed_flag_and_rng_digest(ip, client):
    ip.run_cell("%%mlops run --seed 7\nimport random\nr1 = random.random()\n"
                "n1 = float(np.random.rand())")
    first = (ip.user_ns["r1"], ip.user_ns["n1"])
    ip.run_cell("%%mlops run --seed 7\nimport random\nr1 = random.random()\n"
                "n1 = float(np.random.rand())")
    assert (ip.user_ns["r1"], ip.user_ns["n1"]) == first
    tags = all_runs(client)[0].data.tags
    assert tags["nbmlops.seed"] == "7" and "numpy" in tags["nbmlops.seeded"]
    ip.run_cell("%%mlops run\nx = 1")
    assert len(all_runs(client)[0].data.tags["nbmlops.rng_digest"]) == 16


def test_dataframes_read_become_full_content_dataset_inputs(ip, client):
    from nbmlops.hashing import frame_digest

    big = pd.DataFrame({"a": np.arange(20_000), "b": np.arange(20_000) * 0.5})
    changed = big.copy()
    changed.loc[15_000, "a"] = -1  # beyond MLflow's 10,000-row digest window
    ip.user_ns.update(train=big, other=changed)
    ip.run_cell("%%mlops run\nmean_a = float(train['a'].mean())")
    ip.run_cell("%%mlops run\nmean_a = float(other['a'].mean())")
    new, old = all_runs(client)
    (d_old,) = old.inputs.dataset_inputs
    (d_new,) = new.inputs.dataset_inputs
    assert d_old.dataset.digest == frame_digest(big)
    assert d_new.dataset.digest == frame_digest(changed) != d_old.dataset.digest
    assert d_old.dataset.name == "train" and json.loads(d_old.dataset.profile)["num_rows"] == 20_000
    assert d_old.tags[0].key == "mlflow.data.context"


def test_current_log_dataset_contract(ip, client):
    from nbmlops.tracking.current import active_run_id, log_dataset

    assert active_run_id() is None
    assert log_dataset("x", "d", "s", "training") is False
    ip.user_ns["log_dataset"] = log_dataset
    ip.user_ns["active_run_id"] = active_run_id
    ip.run_cell("%%mlops run\nrid = active_run_id()\n"
                "log_dataset('train', 'abc123', 'data/snapshots/train.parquet', 'training',"
                " df=pd.DataFrame({'a': [1, 2]}))")
    run = all_runs(client)[0]
    assert ip.user_ns["rid"] == run.info.run_id
    (inp,) = run.inputs.dataset_inputs
    assert (inp.dataset.name, inp.dataset.digest) == ("train", "abc123")
    assert "train.parquet" in inp.dataset.source and inp.tags[0].value == "training"
    assert active_run_id() is None


def test_output_is_shown_and_captured(ip, client, capsys):
    ip.run_cell("%%mlops run\nimport sys\nprint('to out')\nprint('to err', file=sys.stderr)")
    captured = capsys.readouterr()
    assert "to out" in captured.out and "to err" in captured.err
    rid = all_runs(client)[0].info.run_id
    assert artifact_text(client, rid, "output/stderr.txt") == "to err\n"


@pytest.fixture(autouse=True)
def _np_pd(request):
    if "ip" in request.fixturenames:
        request.getfixturevalue("ip").user_ns.update(np=np, pd=pd)


def test_notebook_path_sources(project, monkeypatch):
    from nbmlops.magics._kernel import notebook_path
    from nbmlops.tracking.context import notebook_from_env

    class Shell:
        user_ns: typing.ClassVar[dict] = {}

    vsc = project / "vsc.ipynb"
    jpy = project / "jpy.ipynb"
    vsc.write_text("{}")
    jpy.write_text("{}")
    assert notebook_path(Shell()) is None and notebook_from_env() is None
    monkeypatch.setenv("JPY_SESSION_NAME", str(jpy))
    assert notebook_path(Shell()) == jpy.resolve() == notebook_from_env()
    Shell.user_ns = {"__vsc_ipynb_file__": str(vsc)}
    assert notebook_path(Shell()) == vsc.resolve() == notebook_from_env(Shell.user_ns)
    monkeypatch.setenv("NBMLOPS_NOTEBOOK_PATH", str(jpy))
    assert notebook_path(Shell()) == jpy.resolve() == notebook_from_env(Shell.user_ns)


def test_init_validates_keys():
    import nbmlops
    from nbmlops.exceptions import ConfigError, UsageArgumentError

    with pytest.raises(ConfigError, match="Did you mean 'autolog'"):
        nbmlops.init(autolg=False)
    with pytest.raises(UsageArgumentError, match="experiment"):
        nbmlops.init(experiment="  ")
    assert nbmlops.init(experiment="fraud", autolog=False).autolog is False
