"""Metric tables of two models on one holdout, for any per-row weights (point or replicate).

:class:`PairedMetrics` prepares everything that does not depend on the
weights once (sort orders, confusion codes, per-row losses) and then
:meth:`PairedMetrics.values` gives, for a weight vector, an array
``(model, metric, slice)`` — with ``w = 1`` the point estimates, with bootstrap
counts one replicate. Tasks: ``binary`` (ROC AUC, PR AUC, log loss, accuracy,
precision, recall, F1, FPR and TPR at the champion's threshold),
``multiclass`` (accuracy, macro F1, log loss), ``regression`` (MAE, RMSE, R²),
plus user metrics ``fn(y_true, y_score, sample_weight) -> float``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nbmlops.registry.bootstrap import RankIndex, auc_ap, confusion, rank_index, slice_sums
from nbmlops.registry.slices import Slicing

BINARY = ["roc_auc", "pr_auc", "log_loss", "accuracy", "precision", "recall", "f1", "fpr", "tpr"]
MULTICLASS = ["accuracy", "f1_macro", "log_loss"]
REGRESSION = ["mae", "rmse", "r2"]
_EPS = 1e-15


@dataclass
class _Prepared:
    """What one model needs for one slicing."""

    rank: RankIndex | None = None
    code: np.ndarray | None = None  # confusion code
    losses: dict[str, np.ndarray] = field(default_factory=dict)  # per-row values to sum


@dataclass
class PairedMetrics:
    """Both models' metrics on every slice of every slicing, from per-row weights.

    Parameters
    ----------
    task
        ``binary``, ``multiclass`` or ``regression``.
    y
        Targets (class indices for classification).
    scores
        ``[champion, candidate]``: positive-class probability (binary), class
        probabilities ``(n, k)`` (multiclass) or predictions (regression).
    slicings
        Overall first, then the user's slicings.
    threshold
        Decision threshold of binary classification (the champion's).
    user
        User metrics ``name -> fn(y_true, y_score, sample_weight)``.
    """

    task: str
    y: np.ndarray
    scores: list[np.ndarray]
    slicings: list[Slicing]
    threshold: float = 0.5
    user: dict[str, Callable[..., float]] = field(default_factory=dict)
    k: int = 2

    def __post_init__(self) -> None:
        self.names = {"binary": BINARY, "multiclass": MULTICLASS,
                      "regression": REGRESSION}[self.task] + list(self.user)
        self.prepared = [[self._prepare(s, sl) for sl in self.slicings] for s in self.scores]

    @property
    def n_slices(self) -> int:
        """Slices over all slicings."""
        return sum(len(sl.labels) for sl in self.slicings)

    def _prepare(self, score: np.ndarray, sl: Slicing) -> _Prepared:
        p, y, ns = _Prepared(), self.y, len(sl.labels)
        sid = np.where(sl.ids >= 0, sl.ids, ns)
        if self.task == "binary":
            p.rank = rank_index(y, score, sl.ids, ns)
            p.code = sid * 4 + y * 2 + (score >= self.threshold).astype(np.int64)
            s = np.clip(score, _EPS, 1 - _EPS)
            p.losses["ll"] = -(y * np.log(s) + (1 - y) * np.log(1 - s))
        elif self.task == "multiclass":
            p.code = sid * self.k * self.k + y * self.k + np.argmax(score, axis=1)
            s = np.clip(score[np.arange(len(y)), y], _EPS, 1.0)
            p.losses["ll"] = -np.log(s)
        else:
            err = score - y
            p.losses.update(ae=np.abs(err), se=err * err, y=y.astype(float),
                            y2=y.astype(float) ** 2)
        p.losses["one"] = np.ones(len(y))
        return p

    def values(self, w: np.ndarray) -> np.ndarray:
        """``(2, metric, slice)`` for weights ``w`` (NaN where undefined)."""
        out = np.full((2, len(self.names), self.n_slices), np.nan)
        for m, per in enumerate(self.prepared):
            col = 0
            for sl, prep in zip(self.slicings, per, strict=True):
                ns = len(sl.labels)
                out[m, :, col:col + ns] = self._one(prep, sl, w, m)
                col += ns
        return out

    def _one(self, p: _Prepared, sl: Slicing, w: np.ndarray, model: int) -> np.ndarray:
        ns = len(sl.labels)
        sid = np.where(sl.ids >= 0, sl.ids, ns)
        tot = slice_sums(sid, p.losses["one"], w, ns)
        with np.errstate(divide="ignore", invalid="ignore"):
            rows = self._task_rows(p, sid, w, ns, tot)
        for fn in self.user.values():
            rows.append(np.array([_user(fn, self.y, self.scores[model], w, sl.ids == i)
                                  for i in range(ns)]))
        return np.vstack(rows)

    def _task_rows(self, p: _Prepared, sid: np.ndarray, w: np.ndarray, ns: int,
                   tot: np.ndarray) -> list[np.ndarray]:
        if self.task == "regression":
            sse = slice_sums(sid, p.losses["se"], w, ns)
            sy, sy2 = slice_sums(sid, p.losses["y"], w, ns), slice_sums(sid, p.losses["y2"], w, ns)
            sst = sy2 - sy * sy / tot
            return [slice_sums(sid, p.losses["ae"], w, ns) / tot, np.sqrt(sse / tot),
                    1 - sse / sst]
        ll = slice_sums(sid, p.losses["ll"], w, ns) / tot
        assert p.code is not None
        if self.task == "multiclass":
            cm = confusion(p.code, w, ns, self.k)
            tp = np.einsum("sii->si", cm)
            f1 = 2 * tp / (cm.sum(axis=1) + cm.sum(axis=2))
            return [tp.sum(axis=1) / tot, np.nanmean(f1, axis=1), ll]
        assert p.rank is not None
        auc, ap = auc_ap(p.rank, w)
        cm = confusion(p.code, w, ns)
        tn, fp, fn, tp = cm[:, 0, 0], cm[:, 0, 1], cm[:, 1, 0], cm[:, 1, 1]
        return [auc, ap, ll, (tp + tn) / tot, tp / (tp + fp), tp / (tp + fn),
                2 * tp / (2 * tp + fp + fn), fp / (fp + tn), tp / (tp + fn)]


def _user(fn: Callable[..., float], y: np.ndarray, score: np.ndarray, w: np.ndarray,
          rows: np.ndarray) -> float:
    idx = np.flatnonzero(rows & (w > 0))
    if len(idx) == 0:
        return float("nan")
    return float(fn(y[idx], score[idx], sample_weight=w[idx]))


def detect_task(y: Any, has_proba: bool) -> str:
    """``binary``, ``multiclass`` or ``regression`` from the target and the model."""
    import pandas as pd

    series = pd.Series(y)
    if not has_proba and pd.api.types.is_float_dtype(series) and series.nunique() > 20:
        return "regression"
    if not has_proba:
        return "regression"
    return "binary" if series.nunique() <= 2 else "multiclass"
