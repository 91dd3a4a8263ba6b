"""Canonical Parquet: round-trips of every supported kind, equal bytes, bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes
from pandas.testing import assert_frame_equal

from nbmlops.exceptions import UnsupportedDataError
from nbmlops.versioning.canonical import from_table, read_table, to_table, write_canonical


def roundtrip(df, tmp_path, name="x.parquet"):
    table, kind = to_table(df)
    written = write_canonical(table, tmp_path / name)
    assert written.md5 == hashlib.md5((tmp_path / name).read_bytes()).hexdigest()
    assert written.size == (tmp_path / name).stat().st_size
    return from_table(read_table(tmp_path / name), kind), written


CASES = {
    "dtypes": lambda f: f,
    "multiindex": lambda f: f.set_index(["s", "id"]),
    "tz_index": lambda f: f.set_index("t"),
    "freq_index": lambda f: f.set_index(pd.date_range("2020", periods=len(f), freq="D")),
    "string_index": lambda f: f.set_index(pd.Index(list("uvwxyz"), name="key")),
    "empty": lambda f: f.iloc[:0],
    "zero_columns": lambda f: pd.DataFrame(index=pd.RangeIndex(3, 9, name="r")),
    "nothing": lambda f: pd.DataFrame(),
    "object_strings": lambda f: pd.DataFrame({"o": pd.Series(["a", None], dtype=object)}),
    "ordered_cat": lambda f: f.assign(c=pd.Categorical(list("abbaab"), ordered=True)),
    "timedelta_uint": lambda f: f.assign(d=pd.to_timedelta(f.id, unit="s"),
                                         u=f.id.astype("uint8")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pandas_roundtrip_is_exact(case, frame, tmp_path):
    df = CASES[case](frame)
    back, _ = roundtrip(df, tmp_path)
    assert_frame_equal(back, df)


def test_equal_content_gives_equal_bytes(frame, tmp_path):
    _, w1 = roundtrip(frame, tmp_path, "a.parquet")
    _, w2 = roundtrip(frame.copy(deep=True), tmp_path, "b.parquet")  # other memory
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    assert w1.md5 == w2.md5
    changed = frame.copy()
    changed.loc[3, "x"] = -1.0
    assert roundtrip(changed, tmp_path, "c.parquet")[1].md5 != w1.md5


def test_arrow_and_polars_roundtrip(frame, tmp_path):
    pl = pytest.importorskip("polars")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    back, _ = roundtrip(table, tmp_path, "t.parquet")
    assert isinstance(back, pa.Table) and back.equals(table)
    pdf = pl.DataFrame({"a": [1, None, 3], "s": ["x", "y", None],
                        "d": pl.Series([1.5, 2.5, None])})
    back, _ = roundtrip(pdf, tmp_path, "p.parquet")
    assert isinstance(back, pl.DataFrame) and back.equals(pdf) and back.schema == pdf.schema


class Thing:
    """An arbitrary Python object Parquet cannot hold."""


BAD = [
    (pd.DataFrame({"ok": [1, 2], "obj": [Thing(), Thing()]}), "'obj'"),
    (pd.DataFrame({"mixed": [1, "a"]}), "'mixed'"),
    (pd.DataFrame({"sets": [{1}, {2}]}), "'sets'"),
    (pd.DataFrame({"lists": [[1], [2, 3]]}), "'lists'"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), "'a' appears more than once"),
    (pd.DataFrame({0: [1]}), "Column name 0 is a int"),
    (pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])), "('a', 'b')"),
]


@pytest.mark.parametrize(("df", "named"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_names_the_column(df, named):
    with pytest.raises(UnsupportedDataError) as info:
        to_table(df)
    assert named in str(info.value)


def test_not_a_frame():
    with pytest.raises(UnsupportedDataError, match="pandas DataFrame, a pyarrow Table"):
        to_table([1, 2, 3])


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data_frames(
    [column("i", dtype=np.int64), column("f", dtype=float),
     column("s", elements=st.one_of(st.none(), st.text(max_size=5))),
     column("b", dtype=bool),
     column("t", dtype="datetime64[ns]")],
    index=range_indexes(max_size=20)))
def test_roundtrip_property(tmp_path_factory, df):
    df["s"] = df["s"].astype("str")  # pandas' own string dtype (None kept as missing)
    df["c"] = pd.Categorical(df["i"] % 3)
    tmp = tmp_path_factory.mktemp("rt")
    back, _ = roundtrip(df, tmp)
    assert_frame_equal(back, df)


def test_md5_of_a_many_chunk_file_matches_its_bytes(tmp_path):
    # ~40 MB: pyarrow hands the sink hundreds of chunks, hashed on the worker thread
    rng = np.random.default_rng(3)
    df = pd.DataFrame({f"f{i}": rng.standard_normal(250_000) for i in range(20)})
    back, written = roundtrip(df, tmp_path)
    assert written.size > 30_000_000
    assert_frame_equal(back, df)


def test_a_failed_write_raises_its_error_and_stops_the_hashing_thread(tmp_path, monkeypatch):
    import threading

    import pyarrow.parquet as pq

    def half_then_full(table, out, **options):
        out.write(b"PAR1" + b"x" * 1000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", half_then_full)
    table, _ = to_table(pd.DataFrame({"a": np.arange(10.0)}))
    with pytest.raises(OSError, match="No space left"):
        write_canonical(table, tmp_path / "full.parquet")
    assert not [t for t in threading.enumerate() if t.name == "nbmlops-md5"]


def test_a_read_error_while_hashing_is_raised(tmp_path, monkeypatch):
    import io

    import nbmlops.versioning.canonical as canonical

    class Broken(io.FileIO):  # the hashing thread's reads fail (an I/O error)
        def readinto(self, view):
            raise OSError(5, "Input/output error")

    monkeypatch.setattr(canonical, "open", lambda path, mode, buffering=0: Broken(path, mode),
                        raising=False)
    table, _ = to_table(pd.DataFrame({"a": np.arange(1000.0)}))
    with pytest.raises(OSError, match="Input/output error"):
        write_canonical(table, tmp_path / "eio.parquet")


def test_a_lagging_file_size_falls_back_to_hashing_the_finished_file(tmp_path, monkeypatch):
    # on some file systems (NFS) the size seen while writing can lag behind the data
    import nbmlops.versioning.canonical as canonical

    real_finish = canonical._TailHasher.finish

    def lagging(self):
        _, size = real_finish(self)
        return "0" * 32, size // 2

    monkeypatch.setattr(canonical._TailHasher, "finish", lagging)
    df = pd.DataFrame({"a": np.arange(100_000.0)})
    back, _ = roundtrip(df, tmp_path)  # checks md5 and size against the file
    assert_frame_equal(back, df)
