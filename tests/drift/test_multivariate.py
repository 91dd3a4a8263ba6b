"""The multivariate signal catches a correlation flip whose marginals did not move."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import fit_reference
from nbmlops.drift.profile import ReferenceProfile


def _pair(n: int, seed: int, corr: float, day: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    out = pd.DataFrame({"a": z[:, 0], "b": corr * z[:, 0] + np.sqrt(1 - corr ** 2) * z[:, 1]})
    for i in range(4):
        out[f"x{i}"] = rng.standard_normal(n)
    out["ts"] = pd.Timestamp("2026-06-01", tz="UTC") + pd.Timedelta(days=day) \
        + pd.to_timedelta(np.linspace(0, 86_000, n), unit="s")
    return out


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return fit_reference(_pair(20_000, seed=1, corr=0.8).drop(columns="ts"))


def test_correlation_flip_with_fixed_marginals(profile: ReferenceProfile) -> None:
    days = [_pair(5_000, seed=10 + d, corr=0.8 if d < 5 else -0.8, day=d) for d in range(10)]
    report = profile.compare(pd.concat(days, ignore_index=True), time_column="ts", window="1D")
    before, after = report.windows[:5], report.windows[5:]
    assert all(w.verdict in ("ok", "warn") and not w.signals for w in before)
    assert all(w.verdict == "drift" for w in after)
    for w in after:  # no marginal moved: only the multivariate signal fired
        assert not w.drifted
        assert w.multivariate is not None and w.multivariate["z"] > 10
        assert any(s.startswith("multivariate") for s in w.signals)
    assert report.verdict == "drift" and "multivariate" in report.reason


def test_summaries_merge_and_round_trip(profile: ReferenceProfile) -> None:
    cur = _pair(6_000, seed=3, corr=0.8)
    one = profile.compare(cur, time_column="ts", window="1D")
    parts = profile.compare(cur, time_column="ts", window="1D", batch_size=777)
    assert one.windows[0].multivariate["error"] == pytest.approx(
        parts.windows[0].multivariate["error"], rel=1e-9)
    back = ReferenceProfile.from_dict(profile.to_dict())
    assert back.multivariate == profile.multivariate
    assert abs(one.windows[0].multivariate["z"]) < 4


def test_no_model_with_fewer_than_two_numeric_features() -> None:
    df = pd.DataFrame({"a": np.arange(1000.0), "c": ["x", "y"] * 500})
    assert fit_reference(df).multivariate is None
