"""Default thresholds calibrated to each window's size from the reference's own noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import DriftConfig, fit_reference
from nbmlops.drift.calibration import FLOORS, null_at, standardised
from nbmlops.drift.profile import ReferenceProfile


def _frame(n: int, seed: int, shift: float = 0.0, start: str = "2026-01-01",
           per_day: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    per_day = per_day or n
    ts = pd.Timestamp(start, tz="UTC") + pd.to_timedelta(np.arange(n) // per_day, unit="D") \
        + pd.to_timedelta(np.arange(n) % per_day * (86_000 / per_day), unit="s")
    return pd.DataFrame({"ts": ts, "x": rng.standard_normal(n) + shift,
                         "y": rng.exponential(1.0, n),
                         "c": rng.choice(list("abcd"), n, p=[0.4, 0.3, 0.2, 0.1])})


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return fit_reference(_frame(40_000, seed=1).drop(columns="ts"))


def test_auto_is_the_default_and_shrinks_with_the_window(profile: ReferenceProfile) -> None:
    assert DriftConfig().numeric.threshold == "auto"
    small = profile.compare(_frame(500, seed=2)).features["x"]
    large = profile.compare(_frame(40_000, seed=3)).features["x"]
    assert small.threshold is not None and large.threshold is not None
    assert small.threshold > 2 * large.threshold
    assert large.threshold > FLOORS["wasserstein"]  # never below the negligible floor
    assert small.status == large.status == "ok"


def test_small_persistent_shift_flags_only_with_the_calibrated_default(
        profile: ReferenceProfile) -> None:
    cur = _frame(40_000, seed=4, shift=0.06)
    auto = profile.compare(cur).features["x"]
    fixed = profile.compare(cur, config={"numeric": {"threshold": 0.1}}).features["x"]
    assert auto.status == "drift" and auto.threshold < 0.06
    assert fixed.status != "drift" and fixed.threshold == 0.1  # fixed thresholds still work


def test_stable_windows_stay_quiet(profile: ReferenceProfile) -> None:
    cur = _frame(60 * 2_000, seed=5, per_day=2_000)
    report = profile.compare(cur, time_column="ts", window="1D")
    assert len(report.windows) == 60
    assert sum(w.verdict == "drift" for w in report.windows) <= 1
    z = np.array([w.features["x"].z for w in report.windows])
    # the standardised effect is at most N(0, 1) with no drift (below it: the floor is removed)
    assert np.mean(z) < 0.5 and np.mean(z > 2.33) <= 0.05


def test_null_is_simulated_for_an_old_profile(profile: ReferenceProfile) -> None:
    old = ReferenceProfile.from_dict(profile.to_dict())
    for col in old.columns.values():
        col.pop("null", None)
    mu, sd = null_at(old.columns["x"], "wasserstein", 5_000) or (0.0, 0.0)
    assert np.isfinite(mu) and sd > 0
    assert standardised(old.columns["c"], "tvd", 0.3, 5_000) > 5
    assert old.compare(_frame(5_000, seed=6)).verdict == "ok"


def test_yaml_accepts_auto_and_keeps_fixed(tmp_path: object) -> None:
    cfg = DriftConfig.from_dict({"numeric": {"threshold": "auto"},
                                 "features": {"x": {"threshold": 0.2}}})
    assert cfg.spec_for("x", "numeric").threshold == 0.2
    assert cfg.spec_for("y", "numeric").threshold == "auto"
    assert DriftConfig.from_dict(cfg.to_dict()) == cfg
