"""Inside a real ``%%mlops run`` cell, snapshot and load become MLflow dataset inputs."""

from __future__ import annotations

import json

from mlflow import MlflowClient

from nbmlops.hashing import frame_digest


def test_run_names_the_exact_data_version(ip, git_project):
    ip.run_cell("import pandas as pd, nbmlops\n"
                "train_df = pd.DataFrame({'a': range(20_000), 'b': [0.5] * 20_000})")
    ip.run_line_magic("mlops", "snapshot train_df --name train")  # v1, outside any run
    ip.run_cell("%%mlops run --name snap\n"
                "train_df.loc[15_000, 'b'] = 2.0\n"
                "%mlops snapshot train_df --name train\n"
                "ev = nbmlops.load('train@1', context='eval')\n")
    client = MlflowClient(tracking_uri=f"sqlite:///{git_project / 'mlflow.db'}")
    exp = client.get_experiment_by_name(git_project.name)
    (run,) = client.search_runs([exp.experiment_id])
    inputs = {d.dataset.name: (d.dataset, d.tags[0].value) for d in run.inputs.dataset_inputs}
    versions = json.loads((git_project / "data/snapshots/train.snapshots.json").read_text())
    v1, v2 = versions["versions"]
    # train_df is read by the cell but equals train@2: logged once, as the snapshot
    assert set(inputs) == {"train@1", "train@2"}
    (snap, ctx2), (loaded, ctx1) = inputs["train@2"], inputs["train@1"]
    assert (ctx2, ctx1) == ("training", "eval")
    assert snap.digest == v2["digest"] == frame_digest(ip.user_ns["train_df"])
    assert loaded.digest == v1["digest"] != v2["digest"]
    assert snap.source_type == "dvc"
    source = json.loads(snap.source)["uri"]
    assert "data/snapshots/train.parquet.dvc" in source and v2["md5"] in source
    assert v2["run_id"] == run.info.run_id and v1["run_id"] is None
