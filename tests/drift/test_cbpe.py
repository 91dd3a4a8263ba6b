"""CBPE: label-free performance estimate under covariate shift, and the calibration check."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import fit_reference
from nbmlops.drift.cbpe import ece, isotonic_map
from tests.drift.perfdata import scored


def _ramp() -> pd.DataFrame:
    """Six 12-hour windows whose x drifts from 0 to 1.25 sd (P(y|x) unchanged)."""
    return pd.concat([scored(1440, 10 + i, shift=0.25 * i,
                             start=str(pd.Timestamp("2026-04-01") + pd.Timedelta(hours=12 * i)))
                      for i in range(6)])


def test_estimate_tracks_realised_auc_under_covariate_shift() -> None:
    prof = fit_reference(scored(20000, 1), target="y", prediction="score",
                         exclude=["request_id"], time_column="ts")
    assert prof.performance["calibration"]["ok"]
    cur = _ramp()
    no_labels = prof.compare(cur.drop(columns="y"), window="12h", time_column="ts")
    assert no_labels.performance["current"] is None
    est = [w.performance["est_auc"] for w in no_labels.windows]
    assert all(w.performance["est_auc_lo"] < e < w.performance["est_auc_hi"]
               for w, e in zip(no_labels.windows, est, strict=True))
    labelled = prof.compare(cur, window="12h", time_column="ts")
    real = [w.performance["auc"] for w in labelled.windows]
    assert max(abs(a - b) for a, b in zip(est, real, strict=True)) < 0.03
    whole = labelled.performance
    assert abs(whole["estimated"]["est_auc"] - whole["current"]["auc"]) < 0.02
    assert "estimated (CBPE)" in labelled.to_markdown()


def test_concept_drift_is_invisible_to_cbpe_but_not_to_labels() -> None:
    prof = fit_reference(scored(20000, 1), target="y", prediction="score",
                         exclude=["request_id", "ts"])
    rep = prof.compare(scored(4000, 3, concept=True))
    assert rep.performance["estimated"]["est_auc"] > 0.8
    assert rep.performance["current"]["auc"] < 0.5
    assert rep.performance["verdict"] == "degraded"


def test_calibration_check_warns() -> None:
    small = scored(500, 4)
    with pytest.warns(UserWarning, match="too few to calibrate"):
        prof = fit_reference(small, target="y", prediction="score")
    assert not prof.performance["calibration"]["ok"]
    rep = prof.compare(scored(1000, 5))
    assert "calibration warning" in rep.summary()
    # over-confident raw scores: isotonic calibration on the reference repairs them
    big = scored(20000, 6)
    big["score"] = 1 / (1 + np.exp(-4 * np.log(big["score"] / (1 - big["score"]))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prof2 = fit_reference(big, target="y", prediction="score")
    cal = prof2.performance["calibration"]
    assert cal["ece_raw"] > 0.05 and cal["ok"]
    # a score that says nothing about y cannot be calibrated into a useful estimate
    noise = scored(20000, 7).assign(y=lambda d: (d["x"] > 5).astype(int) |
                                    (np.random.default_rng(0).random(len(d)) < 0.5))
    noise["score"] = np.random.default_rng(1).beta(0.3, 0.3, len(noise))
    with pytest.warns(UserWarning, match="not calibrated enough"):
        fit_reference(noise, target="y", prediction="score")


def test_isotonic_map_and_ece() -> None:
    m = isotonic_map([0, 1, 0, 3, 5], [4, 1, 2, 1, 0])
    assert np.all(np.diff(m) >= -1e-12)
    assert m[0] == 0 and m[-1] == 1
    p = np.linspace(0.01, 0.99, 10_000)
    y = (np.random.default_rng(0).random(10_000) < p).astype(float)
    assert ece(p, y) < 0.03 and ece(np.clip(p + 0.2, 0, 1), y) > 0.15
