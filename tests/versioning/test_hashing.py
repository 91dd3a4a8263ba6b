"""The logical hash: all rows, schema, any layout, every frame kind."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from nbmlops.hashing import frame_digest


def test_every_row_and_the_schema_count(frame):
    base = frame_digest(frame)
    assert len(base) == 32 and base == frame_digest(frame.copy(deep=True))
    big = pd.DataFrame({"a": np.arange(50_000), "b": np.arange(50_000) * 0.5})
    edited = big.copy()
    edited.loc[40_000, "b"] = 7.0  # far past MLflow's 10,000-row window
    assert frame_digest(big) != frame_digest(edited)
    assert frame_digest(big) != frame_digest(big.astype({"a": "int32"}))
    assert frame_digest(big) != frame_digest(big.rename(columns={"a": "z"}))
    assert frame_digest(big) != frame_digest(big.set_index("a"))
    for col, value in [("s", "q"), ("c", "b"), ("n", None), ("b", None),
                       ("t", pd.Timestamp("2000-01-01", tz="Europe/Paris"))]:
        changed = frame.copy()
        changed.loc[0, col] = value
        assert frame_digest(changed) != base, col


def test_layout_does_not_count():
    table = pa.table({"i": [1, None, 3, 4], "s": ["a", None, "cc", "d"],
                      "b": [True, False, None, True], "l": [[1], [2, 3], None, []]})
    rechunked = pa.concat_tables([table.slice(0, 1), table.slice(1, 2), table.slice(3)])
    assert frame_digest(table) == frame_digest(rechunked)
    df = pd.DataFrame({"x": np.arange(10.0)})
    assert frame_digest(df.iloc[::2]) == frame_digest(df.iloc[::2].copy())
    assert frame_digest(df.iloc[::2].reset_index(drop=True)) == frame_digest(
        pd.DataFrame({"x": np.arange(0.0, 10.0, 2)}))


def test_polars_hashes_like_its_arrow_table():
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"a": [1, 2, None], "s": ["x", None, "z"]})
    assert frame_digest(df) == frame_digest(df.to_arrow())
    assert frame_digest(df) != frame_digest(df.with_columns(pl.col("a") + 1))


def test_object_columns_even_unhashable_ones():
    a = pd.DataFrame({"o": pd.Series([1, "a", None], dtype=object), "l": [[1], [2], {"k": 3}]})
    b = a.copy()
    b.at[1, "l"] = [2, 0]
    assert frame_digest(a) == frame_digest(a.copy()) != frame_digest(b)
