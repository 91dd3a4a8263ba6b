"""95% intervals of performance metrics from counts (shared by realised and estimated metrics).

- :func:`wilson`: Wilson's score interval of a proportion ``k / n``;
- :func:`auc_from_hist`: the AUC of per-class score histograms over
  :data:`N_SCORE_BINS` equal bins of [0, 1] (ties in a bin count one half);
- :func:`auc_interval`: Hanley & McNeil's (1982) normal interval of an AUC.
"""

from __future__ import annotations

import math

import numpy as np

N_SCORE_BINS = 1000
Z = 1.959963984540054  # two-sided 95%


def wilson(k: float, n: float, z: float = Z) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n``."""
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def auc_interval(a: float, npos: float, nneg: float, z: float = Z) -> tuple[float, float]:
    """Hanley & McNeil (1982) normal interval of an AUC from ``npos`` and ``nneg`` rows."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (npos - 1) * (q1 - a * a) + (nneg - 1) * (q2 - a * a)) / (npos * nneg)
    se = math.sqrt(max(var, 0.0))
    return max(0.0, a - z * se), min(1.0, a + z * se)


def auc_from_hist(hp: np.ndarray, hn: np.ndarray) -> float | None:
    """AUC through the bin edges of per-class score histograms (ties in a bin: one half)."""
    npos, nneg = hp.sum(), hn.sum()
    if npos <= 0 or nneg <= 0:
        return None
    neg_below = np.cumsum(hn) - hn
    return float((np.sum(hp * neg_below) + 0.5 * np.sum(hp * hn)) / (npos * nneg))
