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

from nbmlops.registry.bootstrap import (
    RankIndex,
    SliceOrder,
    confusion,
    rank_index,
    ranked,
    segment_sums,
    slice_order,
)
from nbmlops.registry.slices import Slicing

BINARY = ["roc_auc", "pr_auc", "log_loss", "accuracy", "precision", "recall", "f1", "fpr", "tpr"]
MULTICLASS = ["accuracy", "f1_macro", "log_loss"]
REGRESSION = ["mae", "rmse", "r2"]
_EPS = 1e-15


@dataclass
class _Prepared:
    """What one model needs for one slicing."""

    so: SliceOrder  # its rows grouped by slice (binary: sorted by score within a slice)
    rank: RankIndex | None = None
    code: np.ndarray | None = None  # multiclass confusion code, row order
    sums: dict[str, np.ndarray] = field(default_factory=dict)  # per-row values in so's order


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
        # multiclass/regression: one row order per slicing serves both models
        shared = [None if self.task == "binary" else slice_order(sl.ids, len(sl.labels))
                  for sl in self.slicings]
        self.prepared = [[self._prepare(s, sl, so) for sl, so in zip(self.slicings, shared,
                                                                      strict=True)]
                         for s in self.scores]

    @property
    def n_slices(self) -> int:
        """Slices over all slicings."""
        return sum(len(sl.labels) for sl in self.slicings)

    def _prepare(self, score: np.ndarray, sl: Slicing, so: SliceOrder | None) -> _Prepared:
        y, ns = self.y, len(sl.labels)
        if self.task == "binary":
            rank = rank_index(y, score, sl.ids, ns, self.threshold)
            p = _Prepared(rank.so, rank=rank)
            s = np.clip(score, _EPS, 1 - _EPS)
            p.sums["ll"] = p.so.sorted(-(y * np.log(s) + (1 - y) * np.log(1 - s)))
            return p
        assert so is not None
        p = _Prepared(so)
        if self.task == "multiclass":
            sid = np.where(sl.ids >= 0, sl.ids, ns)
            p.code = sid * self.k * self.k + y * self.k + np.argmax(score, axis=1)
            s = np.clip(score[np.arange(len(y)), y], _EPS, 1.0)
            p.sums["ll"] = so.sorted(-np.log(s))
        else:
            err = score - y
            p.sums.update(ae=so.sorted(np.abs(err)), se=so.sorted(err * err),
                          y=so.sorted(y), y2=so.sorted(y.astype(float) ** 2))
        return p

    def values(self, w: np.ndarray) -> np.ndarray:
        """``(2, metric, slice)`` for weights ``w`` (NaN where undefined)."""
        out = np.full((2, len(self.names), self.n_slices), np.nan)
        col = 0
        for j, sl in enumerate(self.slicings):
            ns = len(sl.labels)
            ws = None if self.task == "binary" else self.prepared[0][j].so.gather(w)
            for m in range(2):
                out[m, :, col:col + ns] = self._one(self.prepared[m][j], sl, w, ws, m)
            col += ns
        return out

    def _one(self, p: _Prepared, sl: Slicing, w: np.ndarray, ws: np.ndarray | None,
             model: int) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            rows = self._task_rows(p, w, ws)
        for fn in self.user.values():
            rows.append(np.array([_user(fn, self.y, self.scores[model], w, sl.ids == i)
                                  for i in range(len(sl.labels))]))
        return np.vstack(rows)

    def _task_rows(self, p: _Prepared, w: np.ndarray,
                   ws: np.ndarray | None) -> list[np.ndarray]:
        if p.rank is not None:  # binary: everything from the sorted weights
            auc, ap, cm, ws = ranked(p.rank, w)
            tot = cm.sum(axis=(1, 2))
            tn, fp, fn, tp = cm[:, 0, 0], cm[:, 0, 1], cm[:, 1, 0], cm[:, 1, 1]
            return [auc, ap, segment_sums(p.so, ws, p.sums["ll"]) / tot, (tp + tn) / tot,
                    tp / (tp + fp), tp / (tp + fn), 2 * tp / (2 * tp + fp + fn),
                    fp / (fp + tn), tp / (tp + fn)]
        assert ws is not None
        tot = segment_sums(p.so, ws)
        if self.task == "regression":
            sse = segment_sums(p.so, ws, p.sums["se"])
            sy, sy2 = segment_sums(p.so, ws, p.sums["y"]), segment_sums(p.so, ws, p.sums["y2"])
            sst = sy2 - sy * sy / tot
            return [segment_sums(p.so, ws, p.sums["ae"]) / tot, np.sqrt(sse / tot),
                    1 - sse / sst]
        assert p.code is not None
        cm = confusion(p.code, w, p.so.n_slices, self.k)
        tp = np.einsum("sii->si", cm)
        f1 = 2 * tp / (cm.sum(axis=1) + cm.sum(axis=2))
        return [tp.sum(axis=1) / tot, np.nanmean(f1, axis=1),
                segment_sums(p.so, ws, p.sums["ll"]) / tot]


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
