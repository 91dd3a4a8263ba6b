"""Recorders: one interface over the gateway, in-process and in a helper process (real store)."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from nbmlops.config import load_config
from nbmlops.exceptions import TrackingError
from nbmlops.pipeline.recorders import (
    Recorder,
    RecorderLike,
    SidecarRecorder,
    choose,
    param_text,
    read_metrics,
)


def _roundtrip(recorder: RecorderLike, project: Path) -> str:
    parent = recorder.begin("parent", {"nbmlops.kind": "pipeline"}, None,
                            {"C": 0.5, "layers": [1, 2], "name": "x"})
    child = recorder.begin("child", {}, parent, {})
    recorder.finish(child, "FINISHED", {"auc": 0.75}, {})
    artifact = project / "out.ipynb"
    artifact.write_text('{"cells": []}\n')
    metrics, ids = recorder.end(parent, "FINISHED", None, [str(artifact), "missing.txt"],
                                {"nbmlops.status": "ok"})
    assert metrics == {"auc": 0.75} and ids == [child]  # from the child run
    return parent


@pytest.mark.parametrize("kind", [Recorder, SidecarRecorder])
def test_recorder_writes_runs_through_the_gateway(project: Path, kind: type) -> None:
    config = load_config()
    recorder = kind(config, "recorders")
    try:
        run_id = _roundtrip(recorder, project)
    finally:
        recorder.close()
    client = mlflow.MlflowClient(config.tracking_uri)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "parent"
    assert run.info.experiment_id == recorder.experiment_id
    assert run.data.params == {"C": "0.5", "layers": "[1, 2]", "name": "x"}
    assert run.data.metrics == {"auc": 0.75}
    assert run.data.tags["nbmlops.status"] == "ok"
    assert [a.path for a in client.list_artifacts(run_id)] == ["out.ipynb"]


def test_choose_records_here_once_mlflow_is_loaded(project: Path) -> None:
    recorder = choose(load_config(), None)  # this test process imported mlflow
    assert isinstance(recorder, Recorder) and not recorder.sets_parent_env


def test_sidecar_reports_store_errors(project: Path) -> None:
    recorder = SidecarRecorder(load_config(), "recorders")
    try:
        with pytest.raises(TrackingError, match="Recording the run in MLflow failed"):
            recorder.finish("no-such-run", "FINISHED", {}, {})
    finally:
        recorder.close()


def test_metrics_file_and_parameter_text(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"acc": 0.9, "test": {"f1": 0.5, "ok": True}, "nan": "x"}))
    assert read_metrics(path) == {"acc": 0.9, "test.f1": 0.5}
    assert read_metrics(tmp_path / "missing.json") == {}
    assert param_text("x" * 7000).endswith("...") and len(param_text("x" * 7000)) == 6000
