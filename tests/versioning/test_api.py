"""Versions, unchanged data, kinds, listing, diff, resolve and bad references."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from pandas.testing import assert_frame_equal

import nbmlops
from nbmlops.exceptions import SnapshotError, UnsupportedDataError, UsageArgumentError
from nbmlops.versioning.api import resolve


def test_versions_unchanged_and_catalog(git_project, frame):
    v1 = nbmlops.snapshot(frame, "train", message="first")
    again = nbmlops.snapshot(frame.copy(deep=True), "train", message="ignored")
    assert again.unchanged and again.version == 1 and again.md5 == v1.md5
    v2 = nbmlops.snapshot(frame.iloc[::-1], "train")
    assert v2.version == 2 and not v2.unchanged and v2.digest != v1.digest
    data = json.loads((git_project / "data/snapshots/train.snapshots.json").read_text())
    first = data["versions"][0]
    assert {"md5", "digest", "rows", "schema", "message", "created", "git_commit",
            "run_id"} <= set(first)
    assert first["rows"] == len(frame) and first["message"] == "first"
    assert first["git_commit"] and len(first["git_commit"]) == 40
    assert ["c", "dictionary<values=large_string, indices=int8, ordered=0>"] in first["schema"]
    assert_frame_equal(nbmlops.load("train@1"), frame)
    assert_frame_equal(nbmlops.load("train"), frame.iloc[::-1])
    assert resolve("train@2").md5 == v2.md5 and resolve("train").version == 2
    listing = nbmlops.snapshots("train")
    assert [v.version for v in listing] == [1, 2]
    assert "train@1" in str(listing) and "<table" in listing._repr_html_()
    assert "train v1" in str(v1) and "<b>train v1" in v1._repr_html_()
    assert v1.to_dict()["md5"] == v1.md5


def test_empty_and_zero_column_frames(git_project, frame):
    empty = frame.iloc[:0]
    nbmlops.snapshot(empty, "empty")
    assert_frame_equal(nbmlops.load("empty"), empty)
    nocols = pd.DataFrame(index=range(4))
    nbmlops.snapshot(nocols, "nocols")
    assert_frame_equal(nbmlops.load("nocols"), nocols)


def test_arrow_and_polars_come_back_as_given(git_project, frame):
    pl = pytest.importorskip("polars")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    nbmlops.snapshot(table, "arrow")
    assert nbmlops.load("arrow").equals(table)
    pdf = pl.from_arrow(table.select(["id", "x", "s"]))
    nbmlops.snapshot(pdf, "polars")
    back = nbmlops.load("polars")
    assert isinstance(back, pl.DataFrame) and back.equals(pdf)
    assert isinstance(nbmlops.load("polars", kind="pandas"), pd.DataFrame)


def test_bad_input_writes_nothing(git_project):
    class Thing:
        pass

    with pytest.raises(UnsupportedDataError, match="'obj'"):
        nbmlops.snapshot(pd.DataFrame({"a": [1], "obj": [Thing()]}), "bad")
    with pytest.raises(UnsupportedDataError, match="more than once"):
        nbmlops.snapshot(pd.DataFrame([[1, 2]], columns=["a", "a"]), "bad")
    folder = git_project / "data" / "snapshots"
    assert not folder.exists() or not any(folder.iterdir())
    with pytest.raises(UsageArgumentError, match="not usable"):
        nbmlops.snapshot(pd.DataFrame({"a": [1]}), "../escape")


def test_missing_names_and_versions_list_what_exists(git_project, frame):
    with pytest.raises(SnapshotError, match="none yet"):
        nbmlops.load("train")
    nbmlops.snapshot(frame, "train")
    nbmlops.snapshot(frame, "test")
    with pytest.raises(SnapshotError, match=r"Snapshots: test, train\."):
        nbmlops.load("trian@1")
    with pytest.raises(SnapshotError, match=r"train@3 does not exist\. Versions: train@1\."):
        nbmlops.load("train@3")
    with pytest.raises(UsageArgumentError, match="positive number"):
        nbmlops.load("train@x")
    assert [v.name for v in nbmlops.snapshots()] == ["test", "train"]


def test_diff_schema_rows_summaries_and_keys(git_project):
    a = pd.DataFrame({"id": [1, 2, 3, 4], "x": [1.0, 2.0, 3.0, 4.0], "s": list("abcd")})
    b = pd.DataFrame({"id": [2, 3, 4, 5, 6], "x": [2.0, 30.0, 4.0, 5.0, 6.0],
                      "new": [1, 1, 1, 1, 1]})
    nbmlops.snapshot(a, "t")
    nbmlops.snapshot(b, "t")
    d = nbmlops.diff("t@1", "t@2", key="id")
    assert d.rows == (4, 5) and d.added_columns == ["new"] and d.removed_columns == ["s"]
    assert d.summaries["x"]["max"] == (4.0, 30.0)
    assert (d.added_rows, d.removed_rows, d.changed_rows) == (2, 1, 1)
    assert d.examples["changed"] == [3] and d.examples["removed"] == [1]
    text = str(d)
    assert "+ column new" in text and "- column s" in text
    assert "2 added, 1 removed, 1 changed" in text
    assert nbmlops.diff("t@2", "t@2").identical
    c = b.astype({"new": "float64"})
    nbmlops.snapshot(c, "t")
    assert nbmlops.diff("t@2").changed_types == {"new": ("int64", "float64")}
    with pytest.raises(UsageArgumentError, match="Key column 'nope'"):
        nbmlops.diff("t@1", "t@2", key="nope")


def test_digest_is_shared_with_tracking(git_project):
    from nbmlops.hashing import frame_digest

    df = pd.DataFrame({"a": np.arange(30_000)})
    assert nbmlops.snapshot(df, "big").digest == frame_digest(df)
