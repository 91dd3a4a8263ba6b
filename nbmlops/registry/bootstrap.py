"""Vectorised paired bootstrap: every metric is a function of per-row weights.

A bootstrap replicate is a vector of counts ``w`` (how often each holdout row
was drawn). Both models are scored on the **same** ``w``, so the interval is
on the paired difference. Every metric here takes ``w`` directly instead of
re-indexing the rows:

- ROC AUC and PR AUC: each model's rows are sorted **once** (by slice, then
  score) and split into tie groups; per replicate one gather, one cumulative
  sum over all rows and one over the positives give, at every tie group that
  holds a positive, the weight of positives/negatives below it — the
  Mann-Whitney count with half ties, and average precision, with no sort;
- confusion-matrix metrics: one weighted ``bincount`` of ``slice*4 + cell``;
- per-row losses (log loss, absolute/squared error): weighted sums per slice.

With ``w = 1`` for every row the same code gives the point estimates, equal
to scikit-learn's (tests/registry/test_bootstrap.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np


def resamples(n: int, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """``n_boot`` count vectors of ``n`` rows drawn with replacement (seeded).

    Counts come as ``uint8`` (a row drawn 256 times among ``n`` draws does not
    happen in practice; if it does, that vector stays ``int64``): the
    per-model gathers then read an eighth of the memory (~4x faster).
    """
    rng = np.random.default_rng(seed)
    for _ in range(n_boot):
        counts = np.bincount(rng.integers(0, n, n), minlength=n)
        yield counts.astype(np.uint8) if counts.max() < 256 else counts


@dataclass
class RankIndex:
    """One model's scores of one slicing, sorted once: what AUC/AP need per replicate."""

    order: np.ndarray  # rows in a slice, sorted by (slice, score)
    pos_at: np.ndarray  # sorted positions of positives
    g_start: np.ndarray  # tie groups holding a positive: first sorted position
    g_end: np.ndarray  # ... one past the last
    g_slice: np.ndarray  # ... their slice
    k_start: np.ndarray  # positives before g_start / g_end / slice bounds
    k_end: np.ndarray
    s_start: np.ndarray  # slice bounds in sorted positions
    s_end: np.ndarray
    ks_start: np.ndarray
    ks_end: np.ndarray
    n_slices: int


def rank_index(y: np.ndarray, score: np.ndarray, slice_id: np.ndarray,
               n_slices: int) -> RankIndex:
    """Sort rows with ``slice_id >= 0`` by (slice, score) and find the tie groups."""
    keep = np.flatnonzero(slice_id >= 0)
    order = keep[np.lexsort((score[keep], slice_id[keep]))]
    ss, sc, ys = slice_id[order], score[order], y[order]
    m = len(order)
    new = np.ones(m, dtype=bool)
    new[1:] = (ss[1:] != ss[:-1]) | (sc[1:] != sc[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], m)
    pos_at = np.flatnonzero(ys == 1)
    pos_before = np.concatenate([[0], np.cumsum(ys == 1)])
    has_pos = pos_before[ends] > pos_before[starts]
    gs, ge = starts[has_pos], ends[has_pos]
    s_start = np.searchsorted(ss, np.arange(n_slices), side="left")
    s_end = np.searchsorted(ss, np.arange(n_slices), side="right")
    return RankIndex(order, pos_at, gs, ge, ss[gs], pos_before[gs], pos_before[ge],
                     s_start, s_end, pos_before[s_start], pos_before[s_end], n_slices)


def auc_ap(ix: RankIndex, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted ROC AUC and average precision per slice (NaN where a class is absent)."""
    ws = w[ix.order]
    all_c = np.empty(len(ws) + 1, dtype=np.int64)
    all_c[0] = 0
    np.cumsum(ws, out=all_c[1:])
    pos_c = np.empty(len(ix.pos_at) + 1, dtype=np.int64)
    pos_c[0] = 0
    np.cumsum(ws[ix.pos_at], out=pos_c[1:])
    p_s = (pos_c[ix.ks_end] - pos_c[ix.ks_start]).astype(float)
    n_s = (all_c[ix.s_end] - all_c[ix.s_start]).astype(float) - p_s
    neg_slice0 = (all_c[ix.s_start] - pos_c[ix.ks_start])[ix.g_slice]
    neg_gs = all_c[ix.g_start] - pos_c[ix.k_start]
    neg_ge = all_c[ix.g_end] - pos_c[ix.k_end]
    pos_w = (pos_c[ix.k_end] - pos_c[ix.k_start]).astype(float)
    neg_below = (neg_gs - neg_slice0).astype(float)
    neg_tie = (neg_ge - neg_gs).astype(float)
    pos_below = (pos_c[ix.k_start] - pos_c[ix.ks_start][ix.g_slice]).astype(float)
    k = ix.n_slices
    num = np.bincount(ix.g_slice, pos_w * (neg_below + 0.5 * neg_tie), minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = num / (p_s * n_s)
        tp = p_s[ix.g_slice] - pos_below
        fp = n_s[ix.g_slice] - neg_below
        # a group none of whose rows was drawn adds 0 (not 0/0: nothing at or above it drawn)
        ap = np.bincount(ix.g_slice, pos_w * tp / np.maximum(tp + fp, 1), minlength=k) / p_s
    return auc, ap


def confusion(code: np.ndarray, w: np.ndarray, n_slices: int, k: int = 2) -> np.ndarray:
    """Weighted confusion matrices ``(slice, true, predicted)``.

    ``code = slice*k*k + true*k + predicted``; rows in no slice have ``slice = n_slices``.
    """
    flat = np.bincount(code, weights=w, minlength=(n_slices + 1) * k * k)
    return flat[: n_slices * k * k].reshape(n_slices, k, k)


def slice_sums(slice_code: np.ndarray, values: np.ndarray, w: np.ndarray,
               n_slices: int) -> np.ndarray:
    """Weighted sums of ``values`` per slice (``slice_code`` = slice, or ``n_slices`` for none)."""
    return np.bincount(slice_code, weights=w * values, minlength=n_slices + 1)[:n_slices]


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap ``samples`` (replicates on axis 0), NaNs ignored."""
    alpha = (1 - level) / 2 * 100
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lo = np.nanpercentile(samples, alpha, axis=0)
            hi = np.nanpercentile(samples, 100 - alpha, axis=0)
    return lo, hi


def as_float(x: Any) -> float:
    """A float for JSON (NaN stays NaN)."""
    return float(x)
