"""Run lifecycle through a real IPython shell: FINISHED / FAILED / KILLED, never left active."""

from __future__ import annotations

import pytest

from tests.tracking._helpers import all_runs, artifact_text


def test_success_finishes_and_cell_behaves_as_without_magic(ip, client, capsys):
    ip.user_ns["y"] = 41
    result = ip.run_cell("%%mlops run --name base\nC = 0.5\nz = y + 1\nprint('hello')\nz * 2",
                         store_history=True)
    # same namespace, same display of the last expression, same output
    assert ip.user_ns["z"] == 42 and ip.user_ns["C"] == 0.5
    assert result.result == 84
    out = capsys.readouterr().out
    assert "hello" in out and "Out[" in out and "84" in out
    (run,) = all_runs(client)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "base"
    assert run.data.params == {"C": "0.5"}
    assert run.data.metrics == {"z": 42.0}
    assert artifact_text(client, run.info.run_id, "output/stdout.txt").startswith("hello\n")
    import mlflow

    assert mlflow.active_run() is None


def test_failure_records_traceback_and_reraises_same_exception_once(ip, client, capsys):
    marker = {}
    ip.user_ns["marker"] = marker
    with pytest.raises(ZeroDivisionError) as info:
        ip.run_cell("%%mlops run\nlr = 0.1\ntry:\n    1/0\nexcept ZeroDivisionError as e:\n"
                    "    marker['exc'] = e\n    raise", store_history=True)
    assert info.value is marker["exc"]  # the very object the user's code raised
    assert not [a for a in vars(info.value) if "nbmlops" in a]  # nothing hidden on it
    out = capsys.readouterr().out
    assert out.count("Traceback (most recent call last)") == 1
    (run,) = all_runs(client)
    assert run.info.status == "FAILED"
    assert run.data.tags["nbmlops.exception"].startswith("ZeroDivisionError")
    tb = artifact_text(client, run.info.run_id, "error/traceback.txt")
    assert "ZeroDivisionError" in tb and "1/0" in tb
    # the next cell always works: no run left active
    ip.run_cell("%%mlops run\nok = 1")
    assert [r.info.status for r in all_runs(client)] == ["FINISHED", "FAILED"]


def test_keyboard_interrupt_marks_killed(ip, client):
    with pytest.raises(KeyboardInterrupt):
        ip.run_cell("%%mlops run\nstep = 3\nraise KeyboardInterrupt")
    (run,) = all_runs(client)
    assert run.info.status == "KILLED"
    ip.run_cell("%%mlops run\nfine = 2")
    assert all_runs(client)[0].info.status == "FINISHED"


def test_syntax_error_is_failed_run(ip, client):
    with pytest.raises(SyntaxError):
        ip.run_cell("%%mlops run\nx = (")
    (run,) = all_runs(client)
    assert run.info.status == "FAILED"


def test_plain_api_reraises_unchanged_without_ipython(client, project):
    from nbmlops import capture_run

    ns: dict = {}
    with pytest.raises(ValueError, match="bad") as info:
        capture_run("alpha = 2\nraise ValueError('bad')", ns, name="api")
    assert ns["alpha"] == 2
    (run,) = all_runs(client)
    assert run.info.status == "FAILED" and run.data.params == {"alpha": "2"}
    assert info.value.__class__ is ValueError
    result = capture_run("beta = 3\nscore = beta / 4", ns)
    assert result.status == "FINISHED" and result.metrics == {"score": 0.75}
    with pytest.raises(TypeError, match="unexpected keyword argument 'nmae'"):
        capture_run("x = 1", ns, nmae="typo")


def test_plain_api_with_a_shell_translates_ipython_syntax(ip, client):
    from nbmlops import capture_run

    result = capture_run("C = 0.5\n%time score = C * 2", shell=ip, name="with-shell",
                         tags={"team": "risk"}, seed=3, metrics=["score"])
    assert ip.user_ns["score"] == 1.0 and result.metrics == {"score": 1.0}
    run = client.get_run(result.run_id)
    assert run.data.tags["team"] == "risk" and run.data.tags["nbmlops.seed"] == "3"
    assert "code/history.py" in [a.path for a in client.list_artifacts(result.run_id, "code")]


def test_tracking_runs_a_cell_without_loading_ipython(project):
    import subprocess
    import sys

    probe = ("import sys, nbmlops\n"
             "from nbmlops.tracking import api, lifecycle, query, reaper, render, results\n"
             "r = nbmlops.capture_run('C = 0.5\\nscore = C * 2', {}, name='plain')\n"
             "assert r.status == 'FINISHED' and 'text/html' in r._repr_mimebundle_()\n"
             "front = ('IPython', 'ipykernel', 'ipywidgets', 'jupyter_server')\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in front))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_rerun_is_linked_by_fingerprint_and_card_shows_delta(ip, client):
    ip.run_cell("%%mlops run\nC = 0.5\nacc = min(0.80, C + 1)")
    ip.run_cell("%%mlops run\nunrelated = 1\nother = unrelated / 10")
    ip.run_cell("%%mlops run\nC = 1.0\nacc = min(0.90, C + 1)")  # edited literal: same cell
    runs = all_runs(client)
    fps = [r.data.tags["nbmlops.cell.fingerprint"] for r in runs]
    assert fps[0] == fps[2] != fps[1]
    result = ip.magics_manager.registry["MLOps"].state["tracking"]["last"]
    assert result.previous["metrics"]["acc"] == pytest.approx(0.80)
    assert result.best["run_id"] == result.run_id  # 0.90 is the best acc so far
    text = result._repr_mimebundle_()["text/plain"]
    assert "acc = 0.9" in text and "+0.1" in text


def test_runs_of_user_started_mlflow_run_need_nested(ip, client, project):
    import mlflow

    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import use_store

    use_store(load_config())
    with mlflow.start_run(run_name="outer") as outer:
        with pytest.raises(Exception, match="already active"):
            ip.run_cell("%%mlops run\na = 1")
        ip.run_cell("%%mlops run --nested --name child\na = 1")
    child = next(r for r in all_runs(client) if r.info.run_name == "child")
    assert child.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert mlflow.active_run() is None


def test_parent_run_from_environment(ip, client, monkeypatch):
    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import client_for, use_store

    exp_id = use_store(load_config())
    parent = client_for(load_config().tracking_uri).create_run(exp_id, run_name="batch")
    monkeypatch.setenv("NBMLOPS_PARENT_RUN_ID", parent.info.run_id)
    ip.run_cell("%%mlops run --name inner\nq = 1")
    inner = next(r for r in all_runs(client) if r.info.run_name == "inner")
    assert inner.data.tags["mlflow.parentRunId"] == parent.info.run_id
