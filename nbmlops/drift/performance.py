"""Model performance from mergeable summaries: binary, multiclass and regression, with intervals.

The reference's task is decided once (:func:`fit_performance`):

- **binary** (the target has 2 values): confusion counts at the reference
  operating threshold (0.5 for scores in [0, 1]) and, for scores, per-class
  histograms over :data:`N_SCORE_BINS` equal bins of [0, 1], plus the
  histogram of every scored row (labelled or not, for the label-free
  estimate of :mod:`nbmlops.drift.cbpe`). AUC is the area under the ROC curve
  through the bin edges (ties inside a bin count one half), within about
  ``1 / N_SCORE_BINS`` of the exact AUC;
- **multiclass** (3 to :data:`MAX_CLASSES` values): the confusion matrix;
- **regression** (a numeric target with more values): sums of the absolute
  and squared errors and of their squares.

Every metric comes with a 95% interval (``<metric>_lo``, ``<metric>_hi``):
Wilson's score interval for proportions (accuracy, precision, recall/TPR,
FPR, macro recall as a mean of proportions), Hanley & McNeil's standard
error for AUC, the normal interval of a mean for MAE and the delta method for
RMSE (``se(RMSE) = se(MSE) / (2 RMSE)``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nbmlops.drift.cbpe import calibration_check
from nbmlops.drift.intervals import N_SCORE_BINS, Z, auc_from_hist, auc_interval, wilson

__all__ = ["N_SCORE_BINS", "auc_from_hist", "auc_interval", "wilson"]
MAX_CLASSES = 50
#: per task: the metrics judged by default, and whether higher is better
HIGHER_BETTER = {"auc": True, "accuracy": True, "precision": True, "recall": True,
                 "tpr": True, "fpr": False, "macro_recall": True, "mae": False, "rmse": False}
DEFAULT_METRICS = {"binary": ("auc", "accuracy", "fpr", "tpr"),
                   "multiclass": ("accuracy", "macro_recall"), "regression": ("mae", "rmse")}


def fit_performance(y: Any, pred: Any) -> dict[str, Any]:
    """Reference spec + summary + metrics of the task ``y``/``pred`` define (or an ``error``)."""
    from pandas.api import types as t

    labels = y.dropna().unique()
    if len(labels) == 2:
        positive = sorted(labels, key=lambda v: (str(type(v)), v))[-1]
        is_score = t.is_float_dtype(pred.dtype) and pred.dropna().between(0, 1).all() \
            and pred.nunique() > 2
        spec: dict[str, Any] = {"task": "binary", "positive": _key(positive),
                                "score": bool(is_score), "threshold": 0.5,
                                "pred_positive": _key(positive)}
    elif t.is_numeric_dtype(y.dtype) and not t.is_bool_dtype(y.dtype) and \
            (t.is_float_dtype(y.dtype) or len(labels) > MAX_CLASSES):
        if not t.is_numeric_dtype(pred.dtype):
            return {"error": f"regression target but prediction dtype is {pred.dtype}"}
        spec = {"task": "regression"}
    elif 2 < len(labels) <= MAX_CLASSES:
        spec = {"task": "multiclass", "classes": sorted(str(_key(v)) for v in labels)}
    else:
        return {"error": f"target has {len(labels)} distinct values; performance needs 2 to "
                         f"{MAX_CLASSES} classes or a numeric target"}
    summ = perf_summary(y, pred, spec)
    out = {"spec": spec, "summary": summ, "metrics": metrics(summ)}
    if spec.get("score"):
        out["calibration"] = calibration_check(y, pred, spec)
    return out


def _key(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def perf_summary(y: Any, pred: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """The mergeable summary of one batch (rows without a label count only as scored)."""
    task = spec.get("task", "binary")
    ok = y.notna().to_numpy() & pred.notna().to_numpy()
    if task == "regression":
        import pandas as pd

        e = (pd.to_numeric(pred[ok], errors="coerce").to_numpy(dtype="float64")
             - pd.to_numeric(y[ok], errors="coerce").to_numpy(dtype="float64"))
        e = e[np.isfinite(e)]
        a, q = np.abs(e), e * e
        return {"task": task, "n": len(e), "sum_abs": float(a.sum()), "sum_sq": float(q.sum()),
                "sum_sq2": float((q * q).sum())}
    if task == "multiclass":
        pairs = y[ok].astype(str).str.cat(pred[ok].astype(str), sep="\x1f")
        return {"task": task, "cm": {str(k): int(v) for k, v in pairs.value_counts().items()}}
    return _binary_summary(y, pred, spec, ok)


def _binary_summary(y: Any, pred: Any, spec: dict[str, Any], ok: np.ndarray) -> dict[str, Any]:
    import pandas as pd

    yt = (y[ok].astype(object) == spec["positive"]).to_numpy()
    out: dict[str, Any] = {"task": "binary"}
    if spec["score"]:
        scored = pred.notna().to_numpy()
        s_all = pd.to_numeric(pred[scored], errors="coerce").to_numpy(dtype="float64")
        b_all = _bins(s_all)
        out["hist_all"] = np.bincount(b_all[np.isfinite(s_all)],
                                      minlength=N_SCORE_BINS).tolist()
        s = pd.to_numeric(pred[ok], errors="coerce").to_numpy(dtype="float64")
        yp = s >= spec["threshold"]
        b = _bins(s)
        out["hist_pos"] = np.bincount(b[yt], minlength=N_SCORE_BINS).tolist()
        out["hist_neg"] = np.bincount(b[~yt], minlength=N_SCORE_BINS).tolist()
    else:
        yp = (pred[ok].astype(object) == spec["pred_positive"]).to_numpy()
    out.update(tp=int((yt & yp).sum()), fp=int((~yt & yp).sum()),
               tn=int((~yt & ~yp).sum()), fn=int((yt & ~yp).sum()))
    return out


def _bins(s: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.clip(np.nan_to_num(s * N_SCORE_BINS).astype(int), 0, N_SCORE_BINS - 1)


def merge_perf(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any] | None:
    """Add two performance summaries (counts, sums, histograms, confusion cells)."""
    if a is None:
        return b
    if b is None:
        return a
    out: dict[str, Any] = {}
    for k in set(a) | set(b):
        x, y = a.get(k), b.get(k)
        if x is None or y is None:
            out[k] = x if y is None else y
        elif isinstance(x, str):
            out[k] = x
        elif isinstance(x, dict):
            out[k] = {c: x.get(c, 0) + y.get(c, 0) for c in set(x) | set(y)}
        elif isinstance(x, list):
            out[k] = (np.asarray(x) + np.asarray(y)).tolist()
        else:
            out[k] = x + y
    return out


def metrics(s: dict[str, Any] | None) -> dict[str, float | None]:
    """Metrics of a summary with 95% intervals (``<m>_lo``/``<m>_hi``); None when undefined."""
    if s is None:
        return {}
    task = s.get("task", "binary")
    if task == "regression":
        return _regression_metrics(s)
    if task == "multiclass":
        return _multiclass_metrics(s)
    tp, fp, tn, fn = s["tp"], s["fp"], s["tn"], s["fn"]
    out: dict[str, float | None] = {"n": tp + fp + tn + fn}
    if "hist_all" in s:
        out["n_scored"] = int(np.sum(s["hist_all"]))
    _prop(out, "accuracy", tp + tn, tp + fp + tn + fn)
    _prop(out, "precision", tp, tp + fp)
    _prop(out, "recall", tp, tp + fn)
    _prop(out, "tpr", tp, tp + fn)
    _prop(out, "fpr", fp, fp + tn)
    out["auc"] = out["auc_lo"] = out["auc_hi"] = None
    if "hist_pos" in s:
        hp, hn = np.asarray(s["hist_pos"]), np.asarray(s["hist_neg"])
        a = auc_from_hist(hp, hn)
        if a is not None:
            lo, hi = auc_interval(a, float(hp.sum()), float(hn.sum()))
            out.update(auc=a, auc_lo=lo, auc_hi=hi)
    return out


def _prop(out: dict[str, float | None], name: str, k: float, n: float) -> None:
    out[name] = k / n if n else None
    out[f"{name}_lo"], out[f"{name}_hi"] = wilson(k, n) if n else (None, None)


def _regression_metrics(s: dict[str, Any]) -> dict[str, float | None]:
    n = s["n"]
    out: dict[str, float | None] = {"n": n}
    if n < 2:
        return {**out, **{k: None for k in ("mae", "mae_lo", "mae_hi", "rmse", "rmse_lo",
                                            "rmse_hi")}}
    mae, mse = s["sum_abs"] / n, s["sum_sq"] / n
    se_mae = math.sqrt(max(s["sum_sq"] / n - mae * mae, 0.0) / n)
    se_mse = math.sqrt(max(s["sum_sq2"] / n - mse * mse, 0.0) / n)
    rmse = math.sqrt(mse)
    se_rmse = se_mse / (2 * rmse) if rmse > 0 else 0.0
    out.update(mae=mae, mae_lo=max(0.0, mae - Z * se_mae), mae_hi=mae + Z * se_mae,
               rmse=rmse, rmse_lo=max(0.0, rmse - Z * se_rmse), rmse_hi=rmse + Z * se_rmse)
    return out


def _multiclass_metrics(s: dict[str, Any]) -> dict[str, float | None]:
    cm = s["cm"]
    n = sum(cm.values())
    out: dict[str, float | None] = {"n": n}
    correct = sum(v for k, v in cm.items() if k.split("\x1f")[0] == k.split("\x1f")[-1])
    _prop(out, "accuracy", correct, n)
    per: dict[str, list[int]] = {}
    for k, v in cm.items():
        true, _, predicted = k.partition("\x1f")
        hit_all = per.setdefault(true, [0, 0])
        hit_all[0] += v if true == predicted else 0
        hit_all[1] += v
    recalls = [(h / a, a) for h, a in per.values() if a]
    if recalls:
        m = float(np.mean([r for r, _ in recalls]))
        var = sum(r * (1 - r) / a for r, a in recalls) / len(recalls) ** 2
        half = Z * math.sqrt(var)
        out.update(macro_recall=m, macro_recall_lo=max(0.0, m - half),
                   macro_recall_hi=min(1.0, m + half))
    else:
        out.update(macro_recall=None, macro_recall_lo=None, macro_recall_hi=None)
    return out


def judge(reference: dict[str, Any], current: dict[str, Any] | None, task: str,
          tolerance: float, names: tuple[str, ...] | list[str] | None = None
          ) -> tuple[str, list[str]]:
    """The performance verdict: ``("degraded"|"ok"|"n/a", reasons)``.

    A metric degrades when its whole interval lies beyond ``tolerance`` from the
    reference value (relative for MAE/RMSE, absolute otherwise).
    """
    if not current or not current.get("n"):
        return "n/a", []
    reasons: list[str] = []
    judged = 0
    for m in names or DEFAULT_METRICS.get(task, ()):
        ref, lo, hi = reference.get(m), current.get(f"{m}_lo"), current.get(f"{m}_hi")
        if ref is None or lo is None or hi is None:
            continue
        judged += 1
        relative = m in ("mae", "rmse")
        if HIGHER_BETTER.get(m, True):
            bound = ref - tolerance
            bad = hi < bound
        else:
            bound = ref * (1 + tolerance) if relative else ref + tolerance
            bad = lo > bound
        if bad:
            reasons.append(f"{m} {current.get(m):.3g} [{lo:.3g}, {hi:.3g}] vs reference "
                           f"{ref:.3g}")
    if not judged:
        return "n/a", []
    return ("degraded" if reasons else "ok"), reasons
