"""Statistics from summaries against scipy, and their properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats

from nbmlops.drift import fit_reference
from nbmlops.drift import stats as st


@pytest.mark.parametrize(("n1", "n2", "decimals", "shift"), [
    (50, 80, 1, 0.0),        # heavy ties
    (300, 500, 2, 0.1),
    (2000, 2000, 3, 0.05),
    (12000, 9000, 2, 0.02),  # asymptotic p-value branch
    (1, 25, 6, 0.0),
])
def test_ks_exact_mode_equals_scipy(n1: int, n2: int, decimals: int, shift: float) -> None:
    rng = np.random.default_rng(n1 + n2)
    a = np.round(rng.normal(size=n1), decimals)
    b = np.round(rng.normal(shift, 1, size=n2), decimals)
    profile = fit_reference(pd.DataFrame({"x": a}), exact_max=10**7)
    assert profile.columns["x"]["exact"]
    col = profile.columns["x"]
    from nbmlops.drift.accumulator import summarise_column

    got = st.numeric_stats(col, summarise_column(col, pd.Series(b)))
    want = stats.ks_2samp(a, b)
    assert abs(got["ks"] - want.statistic) <= 1e-9
    assert abs(got["ks_p"] - want.pvalue) <= 1e-9


def test_grid_mode_close_to_scipy_and_wasserstein() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=50_000), rng.normal(0.2, 1.1, size=40_000)
    profile = fit_reference(pd.DataFrame({"x": a}))
    assert not profile.columns["x"]["exact"]
    rep = profile.compare(pd.DataFrame({"x": b}))
    s = rep.features["x"].stats
    assert abs(s["ks"] - stats.ks_2samp(a, b).statistic) < 0.003
    w = stats.wasserstein_distance(a, b) / a.std(ddof=1)
    assert abs(s["wasserstein"] - w) < 0.01 * w + 1e-3


def test_chi2_equals_scipy_contingency() -> None:
    ref, cur = np.array([40, 30, 20, 10]), np.array([35, 30, 25, 12])
    stat, p, dof = st.chi2_test(ref, cur)
    want = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert stat == pytest.approx(want[0], rel=1e-12)
    assert p == pytest.approx(want[1], rel=1e-12)
    assert dof == want[2]


def test_psi_empty_bins_are_floored() -> None:
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.0, 0.5])
    terms = st.psi_terms(p, q)
    assert np.all(np.isfinite(terms))
    assert terms[1] == pytest.approx((st.EPS - 0.5) * np.log(st.EPS / 0.5))


counts = hs.lists(hs.integers(0, 1000), min_size=2, max_size=12)


@settings(max_examples=60, deadline=None)
@given(counts, hs.randoms())
def test_distance_properties(c: list[int], rnd: object) -> None:
    a = np.array(c, dtype=float)
    b = np.array(rnd.sample(c, len(c)), dtype=float)  # type: ignore[attr-defined]
    if a.sum() == 0 or b.sum() == 0:
        return
    d_ab, d_ba = st.distances(a, b), st.distances(b, a)
    assert d_ab["psi"] >= 0
    assert d_ab["psi"] == pytest.approx(d_ba["psi"])
    assert 0 <= d_ab["js"] <= 1 and d_ab["js"] == pytest.approx(d_ba["js"])
    assert 0 <= d_ab["hellinger"] <= 1
    assert 0 <= d_ab["tvd"] <= 1
    same = st.distances(a, a)
    assert same["psi"] == same["tvd"] == 0
    assert same["js"] == pytest.approx(0, abs=1e-7)
    assert same["chi2_p"] == pytest.approx(1.0)


def test_identical_data_never_drifts(ref_df: pd.DataFrame) -> None:
    profile = fit_reference(ref_df, time_column="ts")
    rep = profile.compare(ref_df)
    assert rep.verdict == "ok"
    for f in rep.features.values():
        assert f.status == "ok", (f.name, f.reason)
        assert f.effect == pytest.approx(0, abs=1e-9)
