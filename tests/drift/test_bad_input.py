"""Bad input: every case gives a per-feature status or one clear error, never a crash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import fit_reference
from nbmlops.exceptions import DriftError, UsageArgumentError

N = 400
rng = np.random.default_rng(7)
BASE = rng.normal(size=N)
CATS = rng.choice(["a", "b", "c"], N)


def frame(**cols: object) -> pd.DataFrame:
    return pd.DataFrame({"ok": BASE, **cols})


CASES = [
    # id, reference columns, current columns, expected {column: (status, reason fragment)}
    ("all-NaN current", {"x": BASE}, {"x": np.full(N, np.nan)},
     {"x": ("skipped", "too few non-missing values in current")}),
    ("all-NaN reference", {"x": np.full(N, np.nan)}, {"x": BASE},
     {"x": ("skipped", "no finite values in the reference")}),
    ("+-inf current", {"x": BASE}, {"x": np.where(np.arange(N) % 10 == 0, np.inf, BASE)},
     {"x": ("ok", "")}),
    ("-inf reference", {"x": np.where(np.arange(N) % 9 == 0, -np.inf, BASE)}, {"x": BASE},
     {"x": ("ok", "")}),
    ("constant same", {"x": np.full(N, 3.0)}, {"x": np.full(N, 3.0)}, {"x": ("ok", "")}),
    ("constant moved", {"x": np.full(N, 3.0)}, {"x": np.full(N, 4.0)},
     {"x": ("drift", "significant")}),
    ("missing column", {"x": BASE}, {},
     {"x": ("error", "column missing from the current data")}),
    ("extra column", {}, {"extra": BASE}, {}),
    ("int -> string", {"x": rng.integers(0, 1000, N)},
     {"x": rng.integers(0, 1000, N).astype(str)}, {"x": ("error", "dtype changed")}),
    ("low-card int -> string", {"x": rng.integers(0, 3, N)},
     {"x": rng.integers(0, 3, N).astype(str)}, {"x": ("error", "dtype changed")}),
    ("unseen categories", {"x": CATS}, {"x": np.where(np.arange(N) < 100, "zz", CATS)},
     {"x": ("drift", "")}),
    ("mixed-type object", {"x": pd.Series([1, "a", 2.5, None] * (N // 4), dtype=object)},
     {"x": pd.Series([1, "a", 2.5, None] * (N // 4), dtype=object)}, {"x": ("ok", "")}),
    ("nullable dtypes",
     {"i": pd.array(rng.integers(0, 100, N), dtype="Int64"),
      "f": pd.array(BASE, dtype="Float64"), "b": pd.array(rng.random(N) < .5, dtype="boolean"),
      "s": pd.array(CATS, dtype="string")},
     {"i": pd.array(np.r_[rng.integers(0, 100, N - 5), [None] * 5], dtype="Int64"),
      "f": pd.array(BASE, dtype="Float64"), "b": pd.array(rng.random(N) < .5, dtype="boolean"),
      "s": pd.array(CATS, dtype="string")},
     {"i": ("ok", ""), "f": ("ok", ""), "b": ("ok", ""), "s": ("ok", "")}),
    ("pyarrow dtypes",
     {"i": pd.array(rng.integers(0, 100, N), dtype="int64[pyarrow]"),
      "f": pd.array(BASE, dtype="double[pyarrow]"),
      "b": pd.array(rng.random(N) < .5, dtype="bool[pyarrow]"),
      "s": pd.array(CATS, dtype="string[pyarrow]")},
     {"i": pd.array(rng.integers(0, 100, N), dtype="int64[pyarrow]"),
      "f": pd.array(BASE, dtype="double[pyarrow]"),
      "b": pd.array(rng.random(N) < .5, dtype="bool[pyarrow]"),
      "s": pd.array(CATS, dtype="string[pyarrow]")},
     {"i": ("ok", ""), "f": ("ok", ""), "b": ("ok", ""), "s": ("ok", "")}),
    ("booleans", {"x": rng.random(N) < 0.3}, {"x": rng.random(N) < 0.7}, {"x": ("drift", "")}),
    ("tz-aware datetimes",
     {"x": pd.date_range("2026-01-01", periods=N, freq="h", tz="Europe/Paris")},
     {"x": pd.date_range("2026-01-01", periods=N, freq="h", tz="UTC")}, {"x": ("ok", "")}),
    ("free text", {"x": [f"user {i}" for i in range(N)]}, {"x": [f"user {i}" for i in range(N)]},
     {"x": ("skipped", "free text or identifier")}),
]


@pytest.mark.parametrize(("ref_cols", "cur_cols", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_table(ref_cols: dict, cur_cols: dict, expected: dict) -> None:
    profile = fit_reference(frame(**ref_cols))
    report = profile.compare(frame(**cur_cols))
    assert report.features["ok"].status == "ok"
    for name, (status, reason) in expected.items():
        f = report.features[name]
        assert f.status == status, (name, f.status, f.reason)
        assert reason in f.reason
    report.to_json()  # always serialisable
    report.to_markdown()


def test_unseen_categories_reported() -> None:
    profile = fit_reference(frame(x=CATS))
    rep = profile.compare(frame(x=np.where(np.arange(N) < 100, "zz", CATS)))
    f = rep.features["x"]
    assert f.new_categories == {"zz": 100}
    assert f.bins.labels[-1] == "<unseen>" and f.bins.cur_counts[-1] == 100
    assert np.isfinite(f.stats["chi2"])


def test_inf_counted_and_excluded() -> None:
    profile = fit_reference(frame(x=BASE))
    rep = profile.compare(frame(x=np.where(np.arange(N) % 10 == 0, -np.inf, BASE)))
    assert rep.features["x"].inf_cur == N // 10
    assert rep.features["x"].n_cur == N - N // 10


def test_million_distinct_strings() -> None:
    big = 1_000_000
    ids = pd.Series([f"id{i}" for i in range(big)], dtype="str")
    base = np.random.default_rng(0).normal(size=big)
    prof_text = fit_reference(pd.DataFrame({"ok": base, "x": ids}))
    assert prof_text.columns["x"]["status"] == "skipped"
    prof_cat = fit_reference(pd.DataFrame({"ok": BASE, "x": CATS}))
    rep = prof_cat.compare(pd.DataFrame({"ok": base, "x": ids}))
    f = rep.features["x"]
    assert f.status == "drift"
    assert len(f.new_categories) <= 51 and "<other unseen>" in f.new_categories
    assert len(rep.to_json()) < 2_000_000


def test_duplicate_column_names() -> None:
    ref = pd.concat([frame(x=BASE), pd.DataFrame({"x": BASE})], axis=1)
    profile = fit_reference(ref)
    assert profile.columns["x"]["status"] == "error"
    good = fit_reference(frame(x=BASE))
    rep = good.compare(pd.concat([frame(x=BASE), pd.DataFrame({"x": BASE})], axis=1))
    assert rep.features["x"].status == "error"
    assert "duplicate" in rep.features["x"].reason
    assert rep.features["ok"].status == "ok"


def test_empty_frames_are_one_clear_error() -> None:
    with pytest.raises(DriftError, match="reference data has no rows"):
        fit_reference(frame().iloc[:0])
    profile = fit_reference(frame(x=BASE))
    with pytest.raises(DriftError, match="current data has no rows"):
        profile.compare(frame(x=BASE).iloc[:0])


def test_single_row_is_not_judged() -> None:
    profile = fit_reference(frame(x=BASE))
    rep = profile.compare(frame(x=BASE).iloc[:1])
    assert rep.verdict == "error" and "no feature could be judged" in rep.reason
    assert {f.status for f in rep.features.values()} == {"skipped"}
    assert rep.exit_code() == 2


def test_bad_window_and_time_column() -> None:
    profile = fit_reference(frame(x=BASE))
    with pytest.raises(UsageArgumentError, match="window"):
        profile.compare(frame(x=BASE), window="soon", time_column="x")
    with pytest.raises(DriftError, match="time column 'ts'"):
        profile.compare(frame(x=BASE), window="1D", time_column="ts")
    with pytest.raises(DriftError, match="does not hold datetimes"):
        profile.compare(frame(x=CATS), window="1D", time_column="x")


def test_bad_roles_and_inputs() -> None:
    with pytest.raises(DriftError, match="target column 'nope'"):
        fit_reference(frame(), target="nope")
    with pytest.raises(DriftError, match="Cannot use a int"):
        fit_reference(42)
    with pytest.raises(DriftError, match="No such file"):
        fit_reference("does/not/exist.parquet")
