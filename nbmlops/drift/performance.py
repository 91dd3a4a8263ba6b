"""Binary-classification performance from mergeable summaries.

A summary holds the confusion counts at the decision threshold (0.5 for
scores in [0, 1]) and, for scores, per-class histograms over
:data:`N_SCORE_BINS` equal bins of [0, 1]; AUC is the area under the ROC
curve through the bin edges (ties inside a bin count one half), which is
within about ``1 / N_SCORE_BINS`` of the exact AUC.
"""

from __future__ import annotations

from typing import Any

import numpy as np

N_SCORE_BINS = 1000


def fit_performance(y: Any, pred: Any) -> dict[str, Any] | None:
    """Reference spec + summary + metrics, or ``None`` when not a binary task."""
    labels = y.dropna().unique()
    if len(labels) != 2:
        return {"error": f"target has {len(labels)} distinct values; performance needs 2"}
    positive = sorted(labels, key=lambda v: (str(type(v)), v))[-1]
    from pandas.api import types as t

    is_score = t.is_float_dtype(pred.dtype) and pred.dropna().between(0, 1).all() \
        and pred.nunique() > 2
    spec = {"positive": _key(positive), "score": bool(is_score), "threshold": 0.5,
            "pred_positive": _key(positive)}
    summ = perf_summary(y, pred, spec)
    return {"spec": spec, "summary": summ, "metrics": metrics(summ)}


def _key(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def perf_summary(y: Any, pred: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Confusion counts (and score histograms) of one batch."""
    import pandas as pd

    ok = y.notna().to_numpy() & pred.notna().to_numpy()
    yt = (y[ok].astype(object) == spec["positive"]).to_numpy()
    hp: np.ndarray | None = None
    hn: np.ndarray | None = None
    if spec["score"]:
        s = pd.to_numeric(pred[ok], errors="coerce").to_numpy(dtype="float64")
        yp = s >= spec["threshold"]
        b = np.clip((s * N_SCORE_BINS).astype(int), 0, N_SCORE_BINS - 1)
        hp = np.bincount(b[yt], minlength=N_SCORE_BINS)
        hn = np.bincount(b[~yt], minlength=N_SCORE_BINS)
    else:
        yp = (pred[ok].astype(object) == spec["pred_positive"]).to_numpy()
    out = {"tp": int((yt & yp).sum()), "fp": int((~yt & yp).sum()),
           "tn": int((~yt & ~yp).sum()), "fn": int((yt & ~yp).sum())}
    if hp is not None and hn is not None:
        out["hist_pos"], out["hist_neg"] = hp.tolist(), hn.tolist()
    return out


def merge_perf(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Add two performance summaries."""
    if a is None:
        return b
    if b is None:
        return a
    out = {k: a[k] + b[k] for k in ("tp", "fp", "tn", "fn")}
    if "hist_pos" in a and "hist_pos" in b:
        out["hist_pos"] = (np.asarray(a["hist_pos"]) + np.asarray(b["hist_pos"])).tolist()
        out["hist_neg"] = (np.asarray(a["hist_neg"]) + np.asarray(b["hist_neg"])).tolist()
    return out


def metrics(s: dict[str, Any] | None) -> dict[str, float | None]:
    """accuracy, precision, recall, false-positive rate, AUC (None when undefined)."""
    if s is None:
        return {}
    tp, fp, tn, fn = s["tp"], s["fp"], s["tn"], s["fn"]
    n = tp + fp + tn + fn

    def div(a: float, b: float) -> float | None:
        return a / b if b else None

    out = {"n": n, "accuracy": div(tp + tn, n), "precision": div(tp, tp + fp),
           "recall": div(tp, tp + fn), "fpr": div(fp, fp + tn), "auc": None}
    if "hist_pos" in s:
        out["auc"] = _auc(np.asarray(s["hist_pos"]), np.asarray(s["hist_neg"]))
    return out


def _auc(hp: np.ndarray, hn: np.ndarray) -> float | None:
    npos, nneg = hp.sum(), hn.sum()
    if npos == 0 or nneg == 0:
        return None
    # P(score_pos > score_neg) + 0.5 P(same bin), bins in increasing score order
    neg_below = np.cumsum(hn) - hn
    return float((np.sum(hp * neg_below) + 0.5 * np.sum(hp * hn)) / (npos * nneg))
