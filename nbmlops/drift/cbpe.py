"""Label-free performance estimate of a probabilistic binary classifier (CBPE, as NannyML's).

Confidence-based performance estimation: if the model's probabilities are
calibrated, a row scored ``p`` is a positive with probability ``p``, so the
*expected* confusion matrix and ROC curve of a window follow from its scores
alone. The reference's scores are first mapped to calibrated probabilities
by isotonic regression (pool-adjacent-violators) over the
:data:`~nbmlops.drift.performance.N_SCORE_BINS` score bins of the reference
summary, ``c(b) = P(y = 1 | score in bin b)``. For a window with ``m_b``
scored rows in bin ``b``: expected positives ``P_b = m_b c(b)`` and negatives
``N_b = m_b (1 - c(b))``; the estimated AUC is the AUC of the histograms
``P``/``N``, and TP, FP, TN, FN sum ``P``/``N`` over the bins above / below the
reference threshold. Intervals are those of realised metrics with the
expected counts (Wilson, Hanley & McNeil).

The estimate is valid under covariate shift (``P(y | x)`` unchanged): it
cannot see concept drift, which only labels reveal. :func:`calibration_check`
measures on the reference whether the calibrated probabilities can be
trusted: the expected calibration error of the isotonic map fitted on one
half of the reference and applied to the other (10 equal-count bins).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from nbmlops.drift.intervals import N_SCORE_BINS, auc_from_hist, auc_interval, wilson

#: cross-fitted expected calibration error above which the estimate is flagged
ECE_WARN = 0.05
MIN_REFERENCE_ROWS = 1000


def isotonic_map(hist_pos: Any, hist_neg: Any) -> np.ndarray:
    """Calibrated P(y=1) per score bin: weighted pool-adjacent-violators over non-empty bins."""
    hp, hn = np.asarray(hist_pos, dtype=float), np.asarray(hist_neg, dtype=float)
    w = hp + hn
    idx = np.flatnonzero(w > 0)
    if len(idx) == 0:
        return np.full(len(hp), np.nan)
    vals: list[float] = []
    wts: list[float] = []
    ends: list[int] = []
    for i in idx:  # blocks of (mean, weight, last bin)
        vals.append(hp[i] / w[i])
        wts.append(w[i])
        ends.append(int(i))
        while len(vals) > 1 and vals[-2] > vals[-1]:
            v2, w2 = vals.pop(), wts.pop()
            ends.pop()
            vals[-1] = (vals[-1] * wts[-1] + v2 * w2) / (wts[-1] + w2)
            wts[-1] += w2
            ends[-1] = int(i)
    fitted = np.empty(len(idx))
    start = 0
    for v, e in zip(vals, ends, strict=True):
        stop = int(np.searchsorted(idx, e, side="right"))
        fitted[start:stop] = v
        start = stop
    centers = np.arange(len(hp)) + 0.5
    return np.interp(centers, idx + 0.5, fitted)


def estimate(reference: dict[str, Any], window: dict[str, Any] | None
             ) -> dict[str, float | None] | None:
    """CBPE estimates of a window's summary: ``est_<metric>`` with ``_lo``/``_hi``."""
    perf = reference or {}
    ref, spec = perf.get("summary") or {}, perf.get("spec") or {}
    if not spec.get("score") or not window or "hist_all" not in window or "hist_pos" not in ref:
        return None
    cal = isotonic_map(ref["hist_pos"], ref["hist_neg"])
    m = np.asarray(window["hist_all"], dtype=float)
    if m.sum() == 0 or not np.isfinite(cal).all():
        return None
    pos, neg = m * cal, m * (1 - cal)
    cut = int(spec.get("threshold", 0.5) * N_SCORE_BINS)
    tp, fn = pos[cut:].sum(), pos[:cut].sum()
    fp, tn = neg[cut:].sum(), neg[:cut].sum()
    out: dict[str, float | None] = {"est_n": float(m.sum())}
    for name, k, n in (("accuracy", tp + tn, m.sum()), ("precision", tp, tp + fp),
                       ("recall", tp, tp + fn), ("tpr", tp, tp + fn), ("fpr", fp, fp + tn)):
        out[f"est_{name}"] = float(k / n) if n > 0 else None
        lo, hi = wilson(float(k), float(n)) if n >= 1 else (None, None)
        out[f"est_{name}_lo"], out[f"est_{name}_hi"] = lo, hi
    a = auc_from_hist(pos, neg)
    out["est_auc"] = a
    out["est_auc_lo"], out["est_auc_hi"] = (auc_interval(a, max(pos.sum(), 1.0),
                                                         max(neg.sum(), 1.0))
                                            if a is not None else (None, None))
    return out


def calibration_check(y: Any, pred: Any, spec: dict[str, Any], seed: int = 0
                      ) -> dict[str, Any]:
    """How well the reference's scores are (and can be made) calibrated; warns when not.

    Returns
    -------
    dict
        ``ece_raw`` (raw scores), ``ece_calibrated`` (isotonic map fitted on one
        half, measured on the other), ``rows``, ``ok`` and ``warning`` (None when ok).
    """
    import pandas as pd

    ok = (y.notna() & pred.notna()).to_numpy()
    yt = (y[ok].astype(object) == spec["positive"]).to_numpy()
    s = pd.to_numeric(pred[ok], errors="coerce").to_numpy(dtype="float64")
    b = np.clip((s * N_SCORE_BINS).astype(int), 0, N_SCORE_BINS - 1)
    half = np.random.default_rng(seed).random(len(s)) < 0.5
    hp = np.bincount(b[half & yt], minlength=N_SCORE_BINS)
    hn = np.bincount(b[half & ~yt], minlength=N_SCORE_BINS)
    cal = isotonic_map(hp, hn)
    ece_raw = ece(s, yt)
    ece_cal = ece(cal[b[~half]], yt[~half]) if (~half).sum() and np.isfinite(cal).all() \
        else float("nan")
    warning = None
    if len(s) < MIN_REFERENCE_ROWS:
        warning = (f"only {len(s)} labelled reference rows: too few to calibrate the scores "
                   f"(≥ {MIN_REFERENCE_ROWS}); the label-free estimate (CBPE) is unreliable")
    elif not ece_cal <= ECE_WARN:
        warning = (f"probabilities are not calibrated enough for the label-free estimate: "
                   f"expected calibration error {ece_cal:.3f} > {ECE_WARN} even after isotonic "
                   "calibration on the reference (CBPE is unreliable)")
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=3)
    return {"ece_raw": ece_raw, "ece_calibrated": ece_cal, "rows": len(s),
            "ok": warning is None, "warning": warning}


def ece(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error over ``n_bins`` equal-count bins of ``p``."""
    if len(p) == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    total = 0.0
    for part in np.array_split(order, min(n_bins, len(p))):
        total += len(part) * abs(float(p[part].mean()) - float(y[part].mean()))
    return total / len(p)
