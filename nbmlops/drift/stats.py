"""Drift statistics computed from summaries (never from raw rows).

Notation: reference proportions ``p_i`` and current proportions ``q_i`` over
bins ``i`` (reference-quantile bins for numeric columns, categories for
categorical ones); ``F_r``/``F_c`` the empirical CDFs; ``n``/``m`` the
reference/current counts of non-missing values.

- **KS**: ``D = sup_x |F_r(x) - F_c(x)|`` evaluated on the reference cells
  (exact when the grid holds every distinct reference value: in-between
  current values cannot raise the supremum because ``F_r`` is flat there).
  p-value as ``scipy.stats.ks_2samp(method="auto")``: exact distribution when
  ``max(n, m) <= 10000``, else ``kstwo.sf(D, round(nm/(n+m)))``; above an
  effective size ``nm/(n+m)`` of 100,000 the limiting Kolmogorov law
  ``kstwobign.sf(D sqrt(nm/(n+m)))`` (same value to ~1e-3 relative, 1000× cheaper).
- **Wasserstein (normalised)**: ``W1 = ∫|F_r - F_c| dx`` over the cells
  (tails exact, inside a cell the mass is taken at its midpoint), divided by
  ``max(sd_ref, 1e-3)``.
- **PSI**: ``Σ (q_i - p_i) ln(q_i / p_i)`` with empty bins floored at
  ``1e-4`` (Evidently's constant) before the sum.
- **JS**: Jensen–Shannon *distance* in base 2 (``sqrt`` of the divergence), in [0, 1].
- **Hellinger**: ``sqrt(1 - Σ sqrt(p_i q_i))``, in [0, 1].
- **TVD**: ``½ Σ |p_i - q_i|``.
- **chi-square**: Pearson's statistic on the 2 × B contingency table of
  counts (bins empty in both samples dropped), ``B - 1`` degrees of freedom.
  For categories, current values unseen in the reference form one
  ``<unseen>`` column with reference count 0 (so the test stays finite and
  the new categories are reported by name).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EPS = 1e-4
KS_EXACT_MAX = 10_000
KS_LIMIT_N = 100_000


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Two-sided KS p-value as ``scipy.stats.ks_2samp(method='auto')`` computes it."""
    from scipy.stats import distributions

    if n1 == 0 or n2 == 0:
        return float("nan")
    if max(n1, n2) <= KS_EXACT_MAX:
        try:
            from scipy.stats._stats_py import _attempt_exact_2kssamp

            ok, _, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
            if ok:
                return float(np.clip(prob, 0, 1))
        except (ImportError, TypeError, ValueError):  # scipy internals moved: asymptotic
            pass
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    if en > KS_LIMIT_N:  # kstwo.sf costs ~0.1 s here; the limiting law is as exact at this n
        return float(np.clip(distributions.kstwobign.sf(d * math.sqrt(en)), 0, 1))
    return float(np.clip(distributions.kstwo.sf(d, np.round(en)), 0, 1))


def ks_from_cells(ref: np.ndarray, cur: np.ndarray) -> float:
    """KS statistic from cell counts."""
    n1, n2 = ref.sum(), cur.sum()
    if n1 == 0 or n2 == 0:
        return float("nan")
    diff = np.cumsum(ref) / n1 - np.cumsum(cur) / n2
    return float(max(np.max(diff), np.clip(-np.min(diff), 0, 1)))


def wasserstein_from_cells(grid: np.ndarray, ref: np.ndarray, cur: np.ndarray,
                           below_sum: float, above_sum: float) -> float:
    """Unnormalised W1 from cell counts (tails use the current sums below/above the grid)."""
    n1, n2 = ref.sum(), cur.sum()
    if n1 == 0 or n2 == 0:
        return float("nan")
    fr = np.cumsum(ref) / n1
    fc = np.cumsum(cur) / n2
    k = len(grid)
    # inner open intervals (g_{j-1}, g_j), j = 1..k-1: cells 2j; value just after g_{j-1}
    # is the cumulative through cell 2j-1; mass inside is cell 2j
    w = 0.0
    if k > 1:
        j = np.arange(1, k)
        start_r, start_c = fr[2 * j - 1], fc[2 * j - 1]
        mid_r = start_r + ref[2 * j] / n1 / 2
        mid_c = start_c + cur[2 * j] / n2 / 2
        w += float(np.sum(np.abs(mid_r - mid_c) * np.diff(grid)))
    # tails: reference has no mass outside [g_0, g_{k-1}] (grid includes min and max)
    lo, hi = grid[0], grid[-1]
    w += (cur[0] * lo - below_sum) / n2
    w += (above_sum - cur[-1] * hi) / n2
    return float(w)


def proportions(counts: np.ndarray) -> np.ndarray:
    """Counts -> proportions (zeros when empty)."""
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


def psi_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-bin PSI contributions with empty bins floored at :data:`EPS`."""
    p2, q2 = np.maximum(p, EPS), np.maximum(q, EPS)
    return (q2 - p2) * np.log(q2 / p2)


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon distance, base 2."""
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return float(math.sqrt(max(0.0, 0.5 * kl(p) + 0.5 * kl(q))))


def hellinger(p: np.ndarray, q: np.ndarray) -> float:
    """Hellinger distance."""
    return float(math.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q))))))


def chi2_test(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float, int]:
    """Pearson chi-square on the 2 × B table; returns (statistic, p-value, dof)."""
    from scipy.stats import chi2

    keep = (ref + cur) > 0
    r, c = ref[keep].astype(float), cur[keep].astype(float)
    dof = len(r) - 1
    n1, n2 = r.sum(), c.sum()
    if dof < 1 or n1 == 0 or n2 == 0:
        return 0.0, 1.0, max(dof, 0)
    tot = r + c
    n = n1 + n2
    e1, e2 = tot * n1 / n, tot * n2 / n
    stat = float(np.sum((r - e1) ** 2 / e1) + np.sum((c - e2) ** 2 / e2))
    return stat, float(chi2.sf(stat, dof)), dof


def distances(ref_counts: np.ndarray, cur_counts: np.ndarray) -> dict[str, Any]:
    """PSI, JS, Hellinger, TVD, chi-square from two count vectors over the same bins."""
    p, q = proportions(ref_counts), proportions(cur_counts)
    terms = psi_terms(p, q)
    stat, pval, dof = chi2_test(ref_counts, cur_counts)
    return {"psi": float(terms.sum()), "psi_terms": terms, "js": js_distance(p, q),
            "hellinger": hellinger(p, q), "tvd": float(0.5 * np.abs(p - q).sum()),
            "chi2": stat, "chi2_p": pval, "chi2_dof": dof}


def coarse_counts(cells: np.ndarray, edges_idx: list[int]) -> np.ndarray:
    """Sum fine cells into reference-quantile bins (edge at grid index k closes after cell 2k+1)."""
    cuts = [2 * k + 2 for k in edges_idx]
    return np.add.reduceat(cells, [0, *cuts]) if len(cells) else cells


def numeric_stats(col: dict[str, Any], summ: dict[str, Any]) -> dict[str, Any]:
    """All numeric statistics of current summary ``summ`` against reference column ``col``."""
    ref, cur = np.asarray(col["cells"]), np.asarray(summ["cells"])
    d = ks_from_cells(ref, cur)
    n1, n2 = int(ref.sum()), int(cur.sum())
    w = wasserstein_from_cells(col["grid"], ref, cur, summ["below_sum"], summ["above_sum"])
    rb, cb = coarse_counts(ref, col["edges_idx"]), coarse_counts(cur, col["edges_idx"])
    dist = distances(rb, cb)
    out = {"ks": d, "ks_p": ks_pvalue(d, n1, n2), "wasserstein": w / max(col["std"], 1e-3),
           "wasserstein_raw": w, **dist, "ref_bins": rb, "cur_bins": cb}
    if n2:
        mean = summ["sum"] / n2
        out["mean_cur"] = mean
        out["mean_shift"] = (mean - col["mean"]) / max(col["std"], 1e-3)
    return out


def categorical_stats(col: dict[str, Any], summ: dict[str, Any]) -> dict[str, Any]:
    """All categorical statistics; the ``<unseen>`` bin holds categories new in current data."""
    cats = list(col["counts"])
    ref = np.array([col["counts"][k] for k in cats] + [0], dtype=np.int64)
    unseen = sum(summ["new"].values()) + summ["new_other"]
    cur = np.array([summ["counts"].get(k, 0) for k in cats] + [unseen], dtype=np.int64)
    labels = [*cats, "<unseen>"]
    if unseen == 0:
        ref, cur, labels = ref[:-1], cur[:-1], labels[:-1]
    dist = distances(ref, cur)
    return {**dist, "labels": labels, "ref_bins": ref, "cur_bins": cur,
            "unseen_share": unseen / max(1, cur.sum())}


def ecdf_points(col: dict[str, Any], summ: dict[str, Any], max_points: int = 200
                ) -> dict[str, list[float]]:
    """ECDF of reference and current at up to ``max_points`` grid values (for drawing)."""
    grid = col["grid"]
    ref, cur = np.asarray(col["cells"]), np.asarray(summ["cells"])
    fr = np.cumsum(ref)[1::2] / max(1, ref.sum())
    fc = np.cumsum(cur)[1::2] / max(1, cur.sum())
    idx = np.unique(np.linspace(0, len(grid) - 1, min(max_points, len(grid))).astype(int))
    return {"x": grid[idx].tolist(), "ref": fr[idx].tolist(), "cur": fc[idx].tolist()}
