"""Drift test data (small, seeded) and a session-scoped local Spark."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest


def make_frame(n: int, seed: int, shift: float = 0.0, start: str = "2026-01-01") -> pd.DataFrame:
    """Mixed-type frame: numeric, categorical, low-card int, bool, time, label, score."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({
        "ts": pd.date_range(start, periods=n, freq="1min", tz="UTC"),
        "amount": rng.lognormal(3 + shift, 1, n),
        "age": rng.normal(40, 10, n).round(),
        "country": rng.choice(["FR", "DE", "US", "UK"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "n_items": rng.integers(0, 5, n),
        "is_new": rng.random(n) < 0.3,
        "y": y,
        "score": np.clip(0.45 * y + rng.normal(0.25, 0.2, n), 0, 1),
    })


@pytest.fixture(scope="session")
def ref_df() -> pd.DataFrame:
    return make_frame(6000, seed=1)


@pytest.fixture(scope="session")
def cur_df() -> pd.DataFrame:
    """Same distribution for 3 days, then ``amount`` shifts on the last 2 days."""
    df = make_frame(5 * 1440, seed=2, start="2026-02-01")
    late = df["ts"] >= pd.Timestamp("2026-02-04", tz="UTC")
    df.loc[late, "amount"] = df.loc[late, "amount"] * 2.0
    return df


@pytest.fixture(scope="session")
def profile(ref_df: pd.DataFrame) -> Any:
    from nbmlops.drift import fit_reference

    return fit_reference(ref_df, target="y", prediction="score", time_column="ts")


def assert_reports_equal(a: Any, b: Any, rel: float = 1e-9) -> None:
    """Reports equal up to float rounding (summation order differs across engines)."""
    da, db = a.to_dict(include_state=False), b.to_dict(include_state=False)
    for d in (da, db):
        d.pop("created")
        d.pop("sources")
    _close(da, db, "", rel)


def _close(x: Any, y: Any, path: str, rel: float) -> None:
    if isinstance(x, dict):
        assert isinstance(y, dict) and set(x) == set(y), f"{path}: keys {set(x) ^ set(y)}"
        for k in x:
            _close(x[k], y[k], f"{path}/{k}", rel)
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y), f"{path}: lengths differ"
        for i, (u, v) in enumerate(zip(x, y, strict=True)):
            _close(u, v, f"{path}[{i}]", rel)
    elif isinstance(x, float) and isinstance(y, float):
        assert math.isclose(x, y, rel_tol=rel, abs_tol=1e-12), f"{path}: {x} != {y}"
    else:
        assert x == y, f"{path}: {x!r} != {y!r}"


@pytest.fixture(scope="session")
def spark() -> Any:
    pyspark = pytest.importorskip("pyspark")  # noqa: F841 - dev extra installs it
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[2]").appName("nbmlops-drift-tests")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    yield session
    session.stop()
