"""The weighted metrics equal scikit-learn's, at w = 1 and on resampled rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from nbmlops.registry.bootstrap import auc_ap, percentile_ci, rank_index, resamples
from nbmlops.registry.metrics import PairedMetrics
from nbmlops.registry.slices import Slicing, overall


def _binary(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.25).astype(np.int64)
    score = np.round(np.clip(rng.random(n) * 0.8 + 0.25 * y, 0, 1), 2)  # many ties
    return y, score, rng.integers(-1, 3, n)


def test_auc_and_ap_per_slice_equal_sklearn_with_ties_at_weight_one_and_resampled() -> None:
    y, s, sl = _binary()
    ix = rank_index(y, s, sl, 3)
    for w in [np.ones(len(y), dtype=np.int64), next(resamples(len(y), 1, 7))]:
        idx = np.repeat(np.arange(len(y)), w)
        auc, ap = auc_ap(ix, w)
        for k in range(3):
            m = sl[idx] == k
            assert auc[k] == pytest.approx(skm.roc_auc_score(y[idx][m], s[idx][m]), abs=1e-12)
            assert ap[k] == pytest.approx(skm.average_precision_score(y[idx][m], s[idx][m]),
                                          abs=1e-12)


def test_every_binary_metric_equals_sklearn_on_the_resampled_rows() -> None:
    y, s, _ = _binary(seed=1)
    pm = PairedMetrics("binary", y, [s, 1 - s], [overall(len(y))], threshold=0.4)
    w = next(resamples(len(y), 1, 3))
    idx = np.repeat(np.arange(len(y)), w)
    got = dict(zip(pm.names, pm.values(w)[0, :, 0], strict=True))
    yt, ys = y[idx], s[idx]
    pred = (ys >= 0.4).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(yt, pred).ravel()
    want = {"roc_auc": skm.roc_auc_score(yt, ys), "pr_auc": skm.average_precision_score(yt, ys),
            "log_loss": skm.log_loss(yt, np.clip(ys, 1e-15, 1 - 1e-15)),
            "accuracy": skm.accuracy_score(yt, pred), "precision": skm.precision_score(yt, pred),
            "recall": skm.recall_score(yt, pred), "f1": skm.f1_score(yt, pred),
            "fpr": fp / (fp + tn), "tpr": tp / (tp + fn)}
    for name, value in want.items():
        assert got[name] == pytest.approx(value, abs=1e-9), name


def test_multiclass_and_regression_metrics_equal_sklearn() -> None:
    rng = np.random.default_rng(2)
    n = 2000
    y = rng.integers(0, 3, n)
    proba = rng.dirichlet([1, 1, 1], n)
    pm = PairedMetrics("multiclass", y, [proba, proba], [overall(n)], k=3)
    got = dict(zip(pm.names, pm.values(np.ones(n, dtype=np.int64))[0, :, 0], strict=True))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, proba.argmax(1)))
    assert got["f1_macro"] == pytest.approx(skm.f1_score(y, proba.argmax(1), average="macro"))
    assert got["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    yr = rng.normal(size=n)
    pr = yr + rng.normal(scale=0.5, size=n)
    pm = PairedMetrics("regression", yr, [pr, pr], [overall(n)])
    got = dict(zip(pm.names, pm.values(np.ones(n, dtype=np.int64))[0, :, 0], strict=True))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(yr, pr))
    assert got["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(yr, pr)))
    assert got["r2"] == pytest.approx(skm.r2_score(yr, pr))


def test_user_metric_gets_the_slice_rows_and_their_weights() -> None:
    y, s, _ = _binary(seed=3)
    sl = Slicing("half", ["first", "second"], (np.arange(len(y)) >= len(y) // 2).astype(int))

    def brier(y_true: np.ndarray, y_score: np.ndarray, sample_weight: np.ndarray) -> float:
        return float(skm.brier_score_loss(y_true, y_score, sample_weight=sample_weight))

    pm = PairedMetrics("binary", y, [s, s], [overall(len(y)), sl], user={"brier": brier})
    vals = pm.values(np.ones(len(y), dtype=np.int64))[0, pm.names.index("brier")]
    assert vals[0] == pytest.approx(skm.brier_score_loss(y, s))
    assert vals[2] == pytest.approx(skm.brier_score_loss(y[len(y) // 2:], s[len(y) // 2:]))


def test_paired_ci_matches_a_loop_over_the_same_resamples() -> None:
    y, s, _ = _binary(seed=4)
    s2 = np.clip(s + np.random.default_rng(5).normal(scale=0.05, size=len(s)), 0, 1)
    pm = PairedMetrics("binary", y, [s, s2], [overall(len(y))])
    deltas, loop = [], []
    for w in resamples(len(y), 200, 11):
        v = pm.values(w)
        deltas.append(v[1] - v[0])
        idx = np.repeat(np.arange(len(y)), w)
        loop.append(skm.roc_auc_score(y[idx], s2[idx]) - skm.roc_auc_score(y[idx], s[idx]))
    lo, hi = percentile_ci(np.stack(deltas))
    assert lo[0, 0] == pytest.approx(np.percentile(loop, 2.5), abs=1e-12)
    assert hi[0, 0] == pytest.approx(np.percentile(loop, 97.5), abs=1e-12)


def test_pr_auc_is_defined_when_the_top_scored_rows_are_not_drawn() -> None:
    y, s, _ = _binary(n=500, seed=6)
    top = np.argsort(s)[-20:]
    ix = rank_index(y, s, np.zeros(len(y), dtype=np.int64), 1)
    for w in resamples(len(y), 50, 8):
        w = w.copy()
        w[top] = 0  # the highest scores (positives among them) are not in this resample
        idx = np.repeat(np.arange(len(y)), w)
        ap = auc_ap(ix, w)[1][0]
        assert ap == pytest.approx(skm.average_precision_score(y[idx], s[idx]), abs=1e-12)
