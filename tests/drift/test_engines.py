"""Streamed files and Spark give the same report as pandas on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import ReferenceProfile
from nbmlops.exceptions import UsageArgumentError

from .conftest import assert_reports_equal


@pytest.fixture(scope="module")
def pandas_report(profile: ReferenceProfile, cur_df: pd.DataFrame):
    return profile.compare(cur_df, time_column="ts", window="1D")


def _split(df: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    return [df.iloc[idx] for idx in np.array_split(np.arange(len(df)), parts)]


def test_parquet_folder_streamed_in_batches(profile: ReferenceProfile, cur_df: pd.DataFrame,
                                            pandas_report, tmp_path: Path) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    for i, part in enumerate(_split(cur_df, 3)):
        part.to_parquet(folder / f"part-{i}.parquet")
    streamed = profile.compare(folder, time_column="ts", window="1D", batch_size=1000,
                               progress=False)
    assert_reports_equal(pandas_report, streamed)
    globbed = profile.compare(str(folder / "part-*.parquet"), time_column="ts", window="1D",
                              progress=False)
    assert_reports_equal(pandas_report, globbed)
    assert streamed.sources["current"]["kind"] == "files"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_jsonl_streamed(fmt: str, profile: ReferenceProfile, cur_df: pd.DataFrame,
                                pandas_report, tmp_path: Path) -> None:
    path = tmp_path / f"cur.{fmt}"
    out = cur_df.assign(ts=cur_df["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if fmt == "csv":
        out.to_csv(path, index=False)
    else:
        out.to_json(path, orient="records", lines=True)
    streamed = profile.compare(path, time_column="ts", window="1D", batch_size=2048,
                               progress=False)
    assert_reports_equal(pandas_report, streamed)


@pytest.mark.spark
def test_spark_same_as_pandas(spark, profile: ReferenceProfile, cur_df: pd.DataFrame,
                              pandas_report) -> None:
    sdf = spark.createDataFrame(cur_df).repartition(3)
    report = profile.compare(sdf, time_column="ts", window="1D")
    assert_reports_equal(pandas_report, report)
    assert report.sources["current"]["kind"] == "spark"
    with pytest.raises(UsageArgumentError, match="Row-count windows"):
        profile.compare(sdf, window=1000)
