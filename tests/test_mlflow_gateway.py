"""The one MLflow gateway: its policy, and the MLflow internals it relies on."""

from __future__ import annotations

import os
from pathlib import Path

from nbmlops import mlflow_gateway as gw
from nbmlops.run_record import RunRecord


def test_private_fluent_names_still_exist():
    # If this fails, MLflow changed the internals activate_run/deactivate_run use:
    # update nbmlops/mlflow_gateway.py (the only module that touches them).
    from mlflow.tracking import fluent

    assert hasattr(fluent, "_active_run_stack"), "mlflow.tracking.fluent._active_run_stack is gone"
    assert hasattr(fluent, "_last_active_run_id"), "fluent._last_active_run_id is gone"
    assert hasattr(fluent, "ActiveRun"), "fluent.ActiveRun is gone"
    assert isinstance(fluent._active_run_stack.get(), list)


def test_activate_makes_the_run_fluent_active_and_deactivate_removes_it(tmp_path):
    import mlflow

    client = gw.client_for(f"sqlite:///{tmp_path / 'm.db'}")
    exp = gw.ensure_experiment(client, "gw", str(tmp_path / "art"))
    run = client.create_run(exp)
    mlflow.set_tracking_uri(client.tracking_uri)
    gw.activate_run(run)
    try:
        assert mlflow.active_run().info.run_id == run.info.run_id
    finally:
        gw.deactivate_run(run.info.run_id)
    assert mlflow.active_run() is None
    assert mlflow.get_run(run.info.run_id).info.status == "RUNNING"  # not ended by us


def test_few_retries_caps_and_restores_the_environment(monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    with gw.few_retries():
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "9")  # the user's choice wins
    with gw.few_retries():
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "9"


def test_write_logs_a_whole_record_in_one_run(tmp_path):
    uri = f"sqlite:///{tmp_path / 'm.db'}"
    record = RunRecord(tracking_uri=uri, experiment="gw", run_name="r", status="FINISHED")
    record.params["a"] = "1"
    record.add_metric("m", 0.5)
    record.artifacts["x/y.txt"] = "hello"
    client = gw.client_for(uri)
    run_id = gw.write(client, record, str(tmp_path / "art"))
    run = client.get_run(run_id)
    assert run.data.params == {"a": "1"}
    assert run.data.metrics == {"m": 0.5}
    assert run.info.status == "FINISHED"
    assert [a.path for a in client.list_artifacts(run_id, "x")] == ["x/y.txt"]


def test_unreachable_server_is_reported_not_hung():
    assert gw.reachable("sqlite:///whatever.db")
    assert not gw.reachable("http://127.0.0.1:9", timeout=0.5)


def test_fluent_state_and_frame_schema(tmp_path):
    import json

    import mlflow
    import pandas as pd

    uri = f"sqlite:///{tmp_path / 'm.db'}"
    gw.use_fluent_uri(uri)
    assert mlflow.get_tracking_uri() == uri
    assert gw.fluent_active_run() is None
    schema = json.loads(gw.frame_schema(pd.DataFrame({"x": [1.5], "s": ["a"]}), "d", "abc"))
    assert [c["name"] for c in schema["mlflow_colspec"]] == ["x", "s"]
    assert gw.frame_schema(object(), "d", "abc") is None  # best effort, never an error


def test_user_caps_set_request_timeout_and_retries(monkeypatch):
    for key in ("MLFLOW_HTTP_REQUEST_TIMEOUT", "MLFLOW_HTTP_REQUEST_MAX_RETRIES"):
        monkeypatch.delenv(key, raising=False)
    with gw.user_caps(3):
        assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "3"
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "2"
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" not in os.environ


def test_infer_pip_requirements_is_still_where_the_sklearn_flavor_calls_it():
    # If this fails, MLflow moved the call _use_known_requirements swaps: update the gateway.
    import inspect

    import mlflow.models
    import mlflow.sklearn

    assert callable(mlflow.models.infer_pip_requirements)
    assert "mlflow.models.infer_pip_requirements(" in inspect.getsource(mlflow.sklearn.save_model)


def test_autologged_model_is_loadable_with_known_requirements(ip, project):
    import mlflow
    import sklearn

    original = mlflow.models.infer_pip_requirements
    ip.run_cell("from sklearn.datasets import make_classification\n"
                "from sklearn.linear_model import LogisticRegression\n"
                "X, y = make_classification(n_samples=200, n_features=5, random_state=0)")
    ip.run_cell("%%mlops run --name autolog\nmodel = LogisticRegression(max_iter=200).fit(X, y)")
    assert mlflow.models.infer_pip_requirements is original  # restored after the cell
    result = ip.magics_manager.registry["MLOps"].state["tracking"]["last"]
    assert result.status == "FINISHED"
    mlflow.set_tracking_uri(result.tracking_uri)
    (logged,) = mlflow.search_logged_models(experiment_ids=[result.experiment_id],
                                            output_format="list")
    assert logged.source_run_id == result.run_id
    loaded = mlflow.pyfunc.load_model(logged.model_uri)
    assert list(loaded.predict(ip.user_ns["X"][:3])) == list(
        ip.user_ns["model"].predict(ip.user_ns["X"][:3]))
    reqs = Path(mlflow.pyfunc.get_model_dependencies(logged.model_uri)).read_text()
    assert f"scikit-learn=={sklearn.__version__}" in reqs and "mlflow==" in reqs


def test_load_pyfunc_resolves_in_the_named_store_and_leaves_mlflow_s_uris(tmp_path, monkeypatch):
    """A model alias is resolved in the store given, without pointing MLflow (or the
    environment that kernels and serve processes inherit) at it, even for a moment."""
    import mlflow
    import mlflow.sklearn
    from sklearn.linear_model import LogisticRegression

    from nbmlops.mlflow_gateway.models import load_pyfunc

    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(key, raising=False)
    store, elsewhere = f"sqlite:///{tmp_path / 'm.db'}", f"sqlite:///{tmp_path / 'other.db'}"
    try:
        mlflow.set_tracking_uri(store)
        mlflow.set_registry_uri(store)  # an earlier test may have set another registry
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]),
                                            name="model", registered_model_name="m")
        mlflow.MlflowClient().set_registered_model_alias("m", "champion",
                                                         info.registered_model_version)
        mlflow.set_tracking_uri(elsewhere)  # the notebook's own choice
        mlflow.set_registry_uri(elsewhere)
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            os.environ.pop(key, None)  # (set_*_uri wrote them)
        seen: list[tuple[str, str]] = []
        real = mlflow.pyfunc.load_model
        monkeypatch.setattr(mlflow.pyfunc, "load_model",  # spy: MLflow's URIs meanwhile
                            lambda uri: seen.append((mlflow.get_tracking_uri(),
                                                     mlflow.get_registry_uri())) or real(uri))
        model = load_pyfunc("models:/m@champion", tracking_uri=store)
        assert list(model.predict([[1.0]])) == [1]
        assert seen == [(elsewhere, elsewhere)]
        assert (mlflow.get_tracking_uri(), mlflow.get_registry_uri()) == (elsewhere, elsewhere)
        assert "MLFLOW_TRACKING_URI" not in os.environ
        assert "MLFLOW_REGISTRY_URI" not in os.environ
    finally:  # nothing of this test's MLflow state reaches the next one
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            os.environ.pop(key, None)
