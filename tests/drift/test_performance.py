"""Performance per window with intervals (binary, multiclass, regression) and its verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from nbmlops.drift import DriftConfig, fit_reference
from nbmlops.drift.performance import auc_interval, judge, wilson
from nbmlops.exceptions import ConfigError
from tests.drift.perfdata import scored


def test_binary_metrics_match_sklearn_and_intervals_cover() -> None:
    ref = scored(6000, 1)
    prof = fit_reference(ref, target="y", prediction="score", exclude=["request_id", "ts"])
    cur = scored(3000, 2)
    m = prof.compare(cur).performance["current"]
    yp = cur["score"] >= 0.5
    assert m["auc"] == pytest.approx(skm.roc_auc_score(cur["y"], cur["score"]), abs=2e-3)
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(cur["y"], yp))
    assert m["precision"] == pytest.approx(skm.precision_score(cur["y"], yp))
    assert m["tpr"] == m["recall"] == pytest.approx(skm.recall_score(cur["y"], yp))
    tn, fp, _, _ = skm.confusion_matrix(cur["y"], yp).ravel()
    assert m["fpr"] == pytest.approx(fp / (fp + tn))
    for k in ("auc", "accuracy", "precision", "recall", "fpr"):
        assert m[f"{k}_lo"] < m[k] < m[f"{k}_hi"]
    ref_m = prof.performance["metrics"]
    assert all(ref_m[f"{k}_lo"] <= m[k] <= ref_m[f"{k}_hi"] or
               m[f"{k}_lo"] <= ref_m[k] <= m[f"{k}_hi"] for k in ("auc", "accuracy"))


def test_wilson_and_hanley_mcneil_coverage() -> None:
    """95% intervals cover the true value in about 95% of seeded repetitions."""
    rng = np.random.default_rng(0)
    hits = sum(lo <= 0.3 <= hi for lo, hi in
               (wilson(rng.binomial(400, 0.3), 400) for _ in range(2000)))
    assert 0.93 <= hits / 2000 <= 0.97
    true_auc = skm.roc_auc_score(*_auc_sample(rng, 200_000))
    cover = 0
    for _ in range(300):
        y, s = _auc_sample(rng, 600)
        a = skm.roc_auc_score(y, s)
        lo, hi = auc_interval(a, y.sum(), (1 - y).sum())
        cover += lo <= true_auc <= hi
    assert 0.91 <= cover / 300 <= 0.99


def _auc_sample(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.integers(0, 2, n)
    return y, rng.normal(y * 1.0, 1.0)


def test_degraded_verdict_rule() -> None:
    ref = {"auc": 0.85, "fpr": 0.02, "mae": 1.0}
    assert judge(ref, {"n": 900, "auc": 0.78, "auc_lo": 0.76, "auc_hi": 0.79}, "binary",
                 0.05, ["auc"])[0] == "degraded"
    assert judge(ref, {"n": 900, "auc": 0.78, "auc_lo": 0.70, "auc_hi": 0.81}, "binary",
                 0.05, ["auc"])[0] == "ok"  # the interval reaches within the tolerance
    status, why = judge(ref, {"n": 900, "fpr": 0.18, "fpr_lo": 0.15, "fpr_hi": 0.21},
                        "binary", 0.05, ["fpr"])
    assert status == "degraded" and "fpr 0.18" in why[0]
    assert judge(ref, {"n": 50, "mae": 1.2, "mae_lo": 1.06, "mae_hi": 1.3}, "regression",
                 0.05, ["mae"])[0] == "degraded"  # relative: beyond 1.05
    assert judge(ref, None, "binary", 0.05)[0] == "n/a"


def test_fraud_ramp_fpr_degrades_per_window_and_gate_fails() -> None:
    """The mission's incident: FPR climbs from 2% to 18% over days; accuracy alone hides it."""
    rng = np.random.default_rng(3)

    def day(n: int, fpr: float, start: str) -> pd.DataFrame:
        y = (rng.random(n) < 0.05).astype(int)
        flag = np.where(y == 1, rng.random(n) < 0.8, rng.random(n) < fpr)
        return pd.DataFrame({"ts": pd.date_range(start, periods=n, freq="20s", tz="UTC"),
                             "amount": rng.lognormal(3, 1, n), "y": y, "pred": flag.astype(int)})

    prof = fit_reference(day(20000, 0.02, "2026-01-01"), target="y", prediction="pred",
                         time_column="ts")
    cur = pd.concat([day(4320, f, f"2026-02-0{i + 1}")
                     for i, f in enumerate((0.02, 0.02, 0.06, 0.12, 0.18))])
    rep = prof.compare(cur, time_column="ts", window="1D")
    fprs = [w.performance["fpr"] for w in rep.windows]
    assert fprs[0] < 0.03 and fprs[-1] > 0.15
    assert rep.performance["verdict"] == "degraded"
    assert rep.performance["windows"] == [w.key for w in rep.windows[3:]]  # 0.06: within 0.05
    assert rep.fired == ["prediction drift", "performance"] and rep.verdict == "ok"
    assert rep.exit_code("drift") == 0
    assert rep.exit_code("performance") == 1 and rep.exit_code("drift,performance") == 1
    loose = rep.with_config(DriftConfig(performance={"tolerance": 0.2}))
    assert loose.performance["verdict"] == "ok" and loose.exit_code("performance") == 0


def test_multiclass() -> None:
    rng = np.random.default_rng(4)

    def frame(n: int, err: float) -> pd.DataFrame:
        y = rng.choice(["a", "b", "c"], n)
        pred = np.where(rng.random(n) < err, rng.choice(["a", "b", "c"], n), y)
        return pd.DataFrame({"f": rng.normal(size=n), "y": y, "pred": pred})

    prof = fit_reference(frame(5000, 0.1), target="y", prediction="pred")
    assert prof.performance["spec"]["task"] == "multiclass"
    cur = frame(3000, 0.6)
    rep = prof.compare(cur)
    m = rep.performance["current"]
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(cur["y"], cur["pred"]))
    assert m["macro_recall"] == pytest.approx(
        skm.recall_score(cur["y"], cur["pred"], average="macro"))
    assert m["macro_recall_lo"] < m["macro_recall"] < m["macro_recall_hi"]
    assert rep.performance["verdict"] == "degraded"
    assert prof.compare(frame(3000, 0.1)).performance["verdict"] == "ok"


def test_regression() -> None:
    rng = np.random.default_rng(5)

    def frame(n: int, noise: float) -> pd.DataFrame:
        x = rng.normal(size=n)
        y = 3 * x + rng.normal(0, 1, n)
        return pd.DataFrame({"x": x, "y": y, "pred": 3 * x + rng.normal(0, noise, n)})

    prof = fit_reference(frame(5000, 0.1), target="y", prediction="pred")
    assert prof.performance["spec"]["task"] == "regression"
    cur = frame(4000, 1.0)
    m = prof.compare(cur).performance["current"]
    assert m["mae"] == pytest.approx(skm.mean_absolute_error(cur["y"], cur["pred"]))
    assert m["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(cur["y"], cur["pred"])))
    assert m["mae_lo"] < m["mae"] < m["mae_hi"] and m["rmse_lo"] < m["rmse"] < m["rmse_hi"]
    assert prof.compare(cur).performance["verdict"] == "degraded"
    assert prof.compare(frame(4000, 0.1)).performance["verdict"] == "ok"


def test_performance_config_in_yaml(tmp_path) -> None:
    cfg = DriftConfig(performance={"tolerance": 0.1, "metrics": ["fpr"]})
    cfg.save(tmp_path / "drift.yaml")
    assert DriftConfig.load(tmp_path / "drift.yaml").performance == cfg.performance
    with pytest.raises(ConfigError, match=r"performance\.metrics"):
        DriftConfig(performance={"metrics": ["f1"]})
    with pytest.raises(ConfigError, match="tolerance"):
        DriftConfig.from_dict({"performance": {"tolerance": -1}})
