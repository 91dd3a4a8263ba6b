"""The prediction log on its own: PredictionLogger, the writer's batching and back-pressure,
the labels log, and every reader the issue names (drift engine, pandas, pyarrow.dataset, DuckDB).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from nbmlops.mlflow_gateway.scoring import ServingError
from nbmlops.serving import LabelLog, PredictionLogger, WriterOptions, labels_dir
from nbmlops.serving.writer import SIDECAR, LogFullError, LogWriter
from tests.serving._model import frame


def _log(tmp: Path, n_requests: int = 20, **opts: object) -> Path:
    log_dir = tmp / "logs" / "predictions"
    with PredictionLogger(log_dir, WriterOptions(**opts), model="fraud", version=7,  # type: ignore[arg-type]
                          alias="champion") as logger:
        for i in range(n_requests):
            X = frame(5, i)
            logger.log(X, (X.amount > 50).astype(int).to_numpy(), latency_ms=1.5)
    return log_dir


def test_rows_land_hour_partitioned_with_the_documented_schema(tmp_path: Path) -> None:
    log_dir = _log(tmp_path)
    files = sorted(log_dir.rglob("*.parquet"))
    assert files and all(f.parent.name.startswith("hour=") for f in files)
    assert all(f.parent.parent.name.startswith("date=") for f in files)
    df = pd.concat([pd.read_parquet(f) for f in files])
    assert len(df) == 100
    assert list(df.columns) == ["amount", "count", "merchant", "prediction", "timestamp",
                                "request_id", "row", "prediction_id", "model_name",
                                "model_version", "model_alias", "latency_ms"]
    assert set(df.model_version) == {"7"} and set(df.model_name) == {"fraud"}
    assert df.prediction_id.is_unique
    assert str(df.timestamp.dt.tz) == "UTC"
    side = json.loads((log_dir / SIDECAR).read_text())
    assert side["rows_written"] == 100 and side["rows_dropped"] == 0
    assert not [p for p in log_dir.rglob("*") if p.name.endswith(".tmp")]


def test_pandas_pyarrow_duckdb_and_the_drift_engine_read_the_folder_as_it_is(
        tmp_path: Path) -> None:
    log_dir = _log(tmp_path)
    assert len(pd.read_parquet(log_dir)) == 100  # hive partitions become columns
    table = ds.dataset(log_dir, format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 100 and "hour" in table.column_names
    duckdb = pytest.importorskip("duckdb")
    n, hours = duckdb.sql(f"select count(*), count(distinct hour) from read_parquet("
                          f"'{log_dir}/**/*.parquet', hive_partitioning=true)").fetchall()[0]
    assert n == 100 and hours >= 1
    import nbmlops.drift as drift

    ref = frame(400, 99)
    report = drift.fit_reference(ref).compare(str(log_dir))
    assert report.n_cur == 100
    assert {"amount", "count", "merchant"} <= set(report.features)


def test_drop_policy_counts_every_dropped_row_in_the_sidecar(tmp_path: Path) -> None:
    import pyarrow as pa

    writer = LogWriter(tmp_path / "log", WriterOptions(policy="drop", max_queue_rows=10,
                                                       batch_rows=10_000, max_age=60))
    table = pa.table({"x": list(range(5))})
    kept = [writer.put(table) for _ in range(6)]
    assert kept == [True, True, False, False, False, False]
    assert writer.rows_dropped == 20
    writer.close()
    side = json.loads((tmp_path / "log" / SIDECAR).read_text())
    assert side["rows_dropped"] == 20 and side["rows_written"] == 10


def test_block_policy_raises_when_the_queue_stays_full(tmp_path: Path) -> None:
    import pyarrow as pa

    writer = LogWriter(tmp_path / "log", WriterOptions(max_queue_rows=5, batch_rows=10_000,
                                                       max_age=60, block_timeout=0.3))
    writer.put(pa.table({"x": [1, 2, 3]}))
    with pytest.raises(LogFullError, match="queue is full"):
        writer.put(pa.table({"x": [4, 5, 6]}))
    assert writer.close() and writer.rows_written == 3 and writer.rows_dropped == 0


def test_a_failed_write_is_retried_not_lost(tmp_path: Path) -> None:
    import pyarrow as pa

    root = tmp_path / "log"
    writer = LogWriter(root, WriterOptions(batch_rows=1, max_age=0.05))
    hour = "date=2026-01-01/hour=00"
    (root / "date=2026-01-01").mkdir()
    (root / "date=2026-01-01" / "hour=00").write_text("a file where the folder goes")
    writer.put(pa.table({"x": [1]}), hour)
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while writer.write_errors == 0 and dt.datetime.now() < deadline:
        pass
    assert writer.write_errors >= 1 and writer.rows_written == 0
    (root / "date=2026-01-01" / "hour=00").unlink()  # the disk "recovers"
    assert writer.close(timeout=30)
    assert writer.rows_written == 1
    assert pq.read_table(next(root.rglob("*.parquet"))).num_rows == 1


def test_unwritable_log_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ServingError, match="cannot write the log folder"):
        PredictionLogger(blocker / "predictions")


def test_bad_writer_options_name_the_setting() -> None:
    with pytest.raises(ServingError, match="policy 'sometimes'"):
        WriterOptions(policy="sometimes")


def test_labels_log_beside_the_prediction_log_joins_on_prediction_id(tmp_path: Path) -> None:
    log_dir = _log(tmp_path, n_requests=2)
    preds = pd.read_parquet(log_dir)
    labels = LabelLog(labels_dir(log_dir))
    assert labels_dir(log_dir) == (tmp_path / "logs" / "labels").absolute()
    rid = preds.request_id.iloc[0]
    labels.add([{"request_id": rid, "row": 1, "label": 1}, {"request_id": rid, "label": 0}])
    with pytest.raises(ValueError, match="'label' values must be number"):
        labels.add([{"request_id": rid, "label": "yes"}])
    with pytest.raises(ValueError, match="needs 'request_id' and 'label'"):
        labels.add([{"label": 1}])
    labels.writer.close()
    got = pd.read_parquet(labels_dir(log_dir))
    joined = preds.merge(got[["prediction_id", "label"]], on="prediction_id")
    assert sorted(joined.prediction_id) == sorted([f"{rid}/0", f"{rid}/1"])
    assert got.label.dtype == np.float64


@pytest.mark.spark
@pytest.mark.slow
def test_spark_reads_the_log_folder(tmp_path: Path) -> None:
    pytest.importorskip("pyspark")  # the dev extra installs it
    from pyspark.sql import SparkSession

    log_dir = _log(tmp_path)
    spark = (SparkSession.builder.master("local[1]").appName("nbmlops-serving")
             .config("spark.ui.enabled", "false").getOrCreate())
    try:
        df = spark.read.parquet(str(log_dir))
        assert df.count() == 100
        assert {"hour", "date", "prediction", "request_id"} <= set(df.columns)
    finally:
        spark.stop()
