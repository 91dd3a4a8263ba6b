"""Late labels joined by an id column for DataFrames, files, folders, Spark and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from nbmlops.drift import fit_reference
from nbmlops.exceptions import DriftError
from tests.drift.perfdata import scored


@pytest.fixture(scope="module")
def prof() -> Any:
    return fit_reference(scored(8000, 1), target="y", prediction="score",
                         exclude=["request_id"], time_column="ts")


@pytest.fixture(scope="module")
def concept() -> pd.DataFrame:
    """A day of predictions whose labels' relation to the inputs flipped."""
    return scored(2880, 2, concept=True)


def _check(rep: Any, n: int) -> None:
    assert rep.performance["current"]["n"] == n
    assert rep.performance["verdict"] == "degraded"
    assert "performance" in rep.fired
    assert rep.sources["current"]["labels"]["rows_labelled"] == n


def test_dataframe_labels_late_and_shuffled(prof: Any, concept: pd.DataFrame) -> None:
    labels = concept[["request_id", "y"]].rename(columns={"y": "label"}).sample(
        frac=1.0, random_state=0)
    rep = prof.compare(concept.drop(columns="y"), labels=labels, id_column="request_id")
    _check(rep, len(concept))
    assert rep.performance["current"]["auc"] < 0.5
    without = prof.compare(concept.drop(columns="y"))
    assert without.performance["current"] is None and without.performance["verdict"] == "n/a"


def test_labels_log_folder_beside_prediction_log(prof: Any, concept: pd.DataFrame,
                                                 tmp_path: Path) -> None:
    """The serving helper's layout: predictions/ and labels/ (request_id + label Parquet)."""
    (tmp_path / "predictions").mkdir()
    (tmp_path / "labels").mkdir()
    for i, part in enumerate((concept.iloc[:1500], concept.iloc[1500:])):
        part.drop(columns="y").to_parquet(tmp_path / "predictions" / f"p{i}.parquet")
    lab = concept[["request_id", "y"]].rename(columns={"y": "label"})
    lab.iloc[:2000].to_parquet(tmp_path / "labels" / "l0.parquet")
    lab.iloc[2000:].to_parquet(tmp_path / "labels" / "l1.parquet")
    rep = prof.compare(str(tmp_path / "predictions"), labels=str(tmp_path / "labels"),
                       progress=False)  # id column defaults to request_id
    _check(rep, len(concept))


def test_csv_labels_with_integer_ids(tmp_path: Path) -> None:
    ref = scored(4000, 3).assign(request_id=range(4000))
    prof = fit_reference(ref, target="y", prediction="score", exclude=["request_id", "ts"])
    cur = scored(3000, 4, concept=True).assign(request_id=range(3000))
    cur.drop(columns="y").to_csv(tmp_path / "cur.csv", index=False)
    cur[["request_id", "y"]].iloc[:1000].to_csv(tmp_path / "labels.csv", index=False)
    rep = prof.compare(str(tmp_path / "cur.csv"), labels=str(tmp_path / "labels.csv"),
                       id_column="request_id", progress=False)
    assert rep.performance["current"]["n"] == 1000
    assert rep.performance["verdict"] == "degraded"


def test_labels_never_silently_ignored(concept: pd.DataFrame) -> None:
    no_target = fit_reference(scored(2000, 5).drop(columns="y"), prediction="score")
    with pytest.raises(DriftError, match="fitted with target="):
        no_target.compare(concept, labels=concept[["request_id", "y"]])
    prof = fit_reference(scored(2000, 5), target="y", prediction="score")
    with pytest.raises(DriftError, match="id column 'request_id' is not in the labels"):
        prof.compare(concept, labels=concept[["y"]])
    with pytest.raises(DriftError, match="neither the target column 'y' nor a 'label'"):
        prof.compare(concept, labels=concept[["request_id", "x"]])
    with pytest.raises(DriftError, match="id column 'rid' is not in the current data"):
        prof.compare(concept.drop(columns="y"),
                     labels=concept[["request_id", "y"]].rename(columns={"request_id": "rid"}),
                     id_column="rid")


def test_spark_labels(prof: Any, concept: pd.DataFrame, spark: Any) -> None:
    sdf = spark.createDataFrame(concept.drop(columns="y"))
    labels = concept[["request_id", "y"]]
    rep = prof.compare(sdf, time_column="ts", window="1D", labels=labels,
                       id_column="request_id")
    assert rep.performance["current"]["n"] == len(concept)
    assert rep.performance["verdict"] == "degraded"
    local = prof.compare(concept.drop(columns="y"), time_column="ts", window="1D",
                         labels=labels, id_column="request_id")
    assert rep.performance["current"]["auc"] == pytest.approx(local.performance["current"]["auc"])
    rep2 = prof.compare(sdf, labels=spark.createDataFrame(labels), id_column="request_id")
    assert rep2.performance["current"]["n"] == len(concept)


def test_cli_labels(project: Path, prof: Any, concept: pd.DataFrame) -> None:
    prof.save(project / "ref.json")
    concept.drop(columns="y").to_parquet(project / "cur.parquet")
    concept[["request_id", "y"]].rename(columns={"y": "label"}).to_parquet(project / "lab.parquet")
    base = [sys.executable, "-m", "nbmlops", "drift", "ref.json", "cur.parquet"]
    r = subprocess.run(base, cwd=project, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr  # no drift in x, z; no labels: performance n/a
    r = subprocess.run([*base, "--labels", "lab.parquet", "--id-column", "request_id",
                        "--fail-on", "drift,performance"],
                       cwd=project, capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr
    assert "fired: performance" in r.stdout and "performance: degraded" in r.stdout
    r = subprocess.run([*base, "--labels", "lab.parquet", "--fail-on", "drift"],
                       cwd=project, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr  # performance is not counted unless asked
    r = subprocess.run([*base, "--labels", "nope.parquet"], cwd=project, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and "No such file" in r.stderr


def test_serving_logs_join_on_prediction_id_by_default(tmp_path):
    # nbmlops serve logs one row per prediction: request_id repeats in a multi-row request,
    # prediction_id ("request_id/row") does not; the labels log carries both
    import numpy as np
    import pandas as pd

    from nbmlops.drift.labels import prepare

    class _Profile:
        target = "y"

    labels = pd.DataFrame({"request_id": ["a", "a"], "row": [0, 1],
                           "prediction_id": ["a/0", "a/1"], "label": [0, 1]})
    out = prepare(labels, None, _Profile())
    assert out.id_column == "prediction_id"
    assert list(out.frame["y"]) == [0, 1]
    assert np.array_equal(out.frame["prediction_id"], ["a/0", "a/1"])
