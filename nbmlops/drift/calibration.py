"""Thresholds calibrated from the reference itself (NannyML's rule).

The reference is cut into ``n_chunks`` consecutive chunks; each chunk is
summarised and compared with the whole reference profile exactly as current
data would be, and each effect size's threshold is ``mean + 3 sd`` over the
chunks. Use them with ``threshold: calibrated`` in the drift YAML. The
thresholds reflect the noise of a chunk of ``n_ref / n_chunks`` rows, so
choose ``n_chunks`` so that a chunk is about as large as a current window.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from nbmlops.drift import stats as st
from nbmlops.drift.accumulator import summarise_column
from nbmlops.exceptions import DriftError

NUMERIC_EFFECTS = ("wasserstein", "psi", "js", "hellinger", "ks")
CATEGORICAL_EFFECTS = ("tvd", "psi", "js", "hellinger")


def calibrate_profile(profile: Any, df: Any, n_chunks: int = 10, k: float = 3.0) -> None:
    """Fill ``column["calibrated"]`` of every judged column of ``profile`` in place."""
    if n_chunks < 2:
        raise DriftError("calibration needs n_chunks >= 2.", parameter="n_chunks")
    bounds = np.linspace(0, len(df), n_chunks + 1).astype(int)
    if np.min(np.diff(bounds)) < 20:
        raise DriftError(f"The reference ({len(df)} rows) is too small for {n_chunks} "
                         "calibration chunks of at least 20 rows.", parameter="n_chunks")
    for name, col in profile.columns.items():
        if col.get("status") or col.get("role") == "target":
            continue
        numeric = col["kind"] in ("numeric", "datetime")
        effects = NUMERIC_EFFECTS if numeric else CATEGORICAL_EFFECTS
        values: dict[str, list[float]] = {e: [] for e in effects}
        for lo, hi in itertools.pairwise(bounds):
            summ = summarise_column(col, df[name].iloc[lo:hi])
            if summ["n"] == 0:
                continue
            s = st.numeric_stats(col, summ) if numeric else st.categorical_stats(col, summ)
            for e in effects:
                values[e].append(float(s[e]))
        col["calibrated"] = {e: float(np.mean(v) + k * np.std(v, ddof=1))
                             for e, v in values.items() if len(v) >= 2}
    profile.options["calibration"] = {"n_chunks": n_chunks, "k": k,
                                      "chunk_rows": int(np.diff(bounds).min())}


# -- thresholds at each window's size (the default rule) ------------------------------
#
# The null distribution of an effect size for a window of ``m`` rows is that of
# the effect between the reference profile and a multinomial sample of
# ``m_eff = m n / (m + n)`` rows drawn from the reference's own cells (or
# categories): the current window's sampling noise plus the reference's (above
# EXACT_MAX rows, the multinomial's normal approximation). It is
# simulated once per column for a log-spaced ladder of sizes up to ``n`` (from
# the profile's summaries, never from raw rows: cost independent of ``n``), and
# kept as the mean and sd of ``log(effect)`` per size; a window's null is
# interpolated in ``log m_eff``.

#: draws per size of the simulated null
REPLICATES = 80
#: sizes of the ladder (a log grid from MIN_SIZE to the reference's count)
LADDER = 9
MIN_SIZE = 20
#: sizes up to this are drawn exactly (multinomial), larger ones by the normal approximation
EXACT_MAX = 2_000
#: effects below this floor are practically negligible whatever the sample size
#: (a quarter of the historical fixed thresholds: Wasserstein 0.1, TVD 0.05)
FLOORS = {"wasserstein": 0.025, "ks": 0.02, "psi": 0.005, "js": 0.02, "hellinger": 0.02,
          "tvd": 0.0125}
_TINY = 1e-12


def null_curves(col: dict[str, Any], seed: int = 0) -> dict[str, Any]:
    """The simulated null of every effect of ``col`` over a ladder of window sizes."""
    n = int(col.get("n", 0))
    sizes = np.unique(np.geomspace(MIN_SIZE, max(MIN_SIZE + 1, n), LADDER).round().astype(int))
    rng = np.random.default_rng(seed)
    numeric = col["kind"] in ("numeric", "datetime")
    if numeric:
        ref = np.asarray(col["cells"], dtype=float)
    else:
        ref = np.array(list(col["counts"].values()), dtype=float)
    p = ref / ref.sum()
    out: dict[str, Any] = {"sizes": sizes.tolist()}
    # above EXACT_MAX the multinomial's normal approximation (same covariance
    # m (diag p - p p^T)), with the same normal draws for every size
    g = np.sqrt(p) * rng.standard_normal((REPLICATES, len(p)))
    g -= np.outer(g.sum(axis=1), p)
    for size in sizes:
        if size <= EXACT_MAX:
            draws = _exact_draws(rng, p, int(size))
        else:
            draws = np.maximum(size * p + np.sqrt(size) * g, 0.0)
        eff = _numeric_effects(col, ref, draws) if numeric else _binned_effects(ref, draws)
        for name, values in eff.items():
            logs = np.log(np.maximum(values, _TINY))
            out.setdefault(name, [[], []])
            out[name][0].append(float(np.mean(logs)))
            out[name][1].append(float(max(np.std(logs, ddof=1), 1e-3)))
    return out


def _exact_draws(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """:data:`REPLICATES` multinomial count vectors of ``size`` draws (by inverse CDF)."""
    cdf = np.cumsum(p)
    idx = np.minimum(np.searchsorted(cdf, rng.random((REPLICATES, size)) * cdf[-1]), len(p) - 1)
    idx += np.arange(REPLICATES)[:, None] * len(p)
    return np.bincount(idx.ravel(), minlength=REPLICATES * len(p)).reshape(
        REPLICATES, len(p)).astype(float)


def _binned_effects(ref: np.ndarray, cur: np.ndarray) -> dict[str, np.ndarray]:
    """PSI, JS, Hellinger, TVD of each row of ``cur`` against ``ref`` (counts)."""
    p = ref / ref.sum()
    q = cur / np.maximum(cur.sum(axis=1, keepdims=True), 1)
    p2, q2 = np.maximum(p, st.EPS), np.maximum(q, st.EPS)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum(axis=1)
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum(axis=1)
    return {"psi": ((q2 - p2) * np.log(q2 / p2)).sum(axis=1),
            "js": np.sqrt(np.maximum(0.0, 0.5 * kl_p + 0.5 * kl_q)),
            "hellinger": np.sqrt(np.maximum(0.0, 1.0 - np.sqrt(p * q).sum(axis=1))),
            "tvd": 0.5 * np.abs(p - q).sum(axis=1)}


def _numeric_effects(col: dict[str, Any], ref: np.ndarray, cur: np.ndarray
                     ) -> dict[str, np.ndarray]:
    """Wasserstein (normalised), KS and the binned effects of each row of cell counts."""
    n1 = ref.sum()
    n2 = cur.sum(axis=1, keepdims=True)
    fr, fc = np.cumsum(ref) / n1, np.cumsum(cur, axis=1) / n2
    grid = np.asarray(col["grid"], dtype=float)
    w = np.zeros(len(cur))
    if len(grid) > 1:
        j = np.arange(1, len(grid))
        mid_r = fr[2 * j - 1] + ref[2 * j] / n1 / 2
        mid_c = fc[:, 2 * j - 1] + cur[:, 2 * j] / n2 / 2
        w = (np.abs(mid_r - mid_c) * np.diff(grid)).sum(axis=1)
    cuts = [0, *[2 * k + 2 for k in col["edges_idx"]]]
    rb, cb = np.add.reduceat(ref, cuts), np.add.reduceat(cur, cuts, axis=1)
    return {"wasserstein": w / max(col["std"], 1e-3), "ks": np.abs(fr - fc).max(axis=1),
            **_binned_effects(rb, cb)}


def add_null_curves(profile: Any) -> None:
    """Fill ``column["null"]`` of every judged column of ``profile`` (done by the fit)."""
    for i, col in enumerate(profile.columns.values()):
        if col.get("status") or col.get("role") == "target" or col.get("null"):
            continue
        col["null"] = null_curves(col, seed=i)


def effective_size(m: int, n: int) -> float:
    """``m n / (m + n)``: the size whose one-sample noise equals the two samples'."""
    return m * n / (m + n) if m and n else 0.0


def null_at(col: dict[str, Any], effect: str, m: int) -> tuple[float, float] | None:
    """``(mean, sd)`` of ``log(effect)`` under no drift for a window of ``m`` values."""
    curves = col.get("null")
    if not curves:  # a profile fitted before the curves existed: simulate now, keep them
        curves = col["null"] = null_curves(col)
    if effect not in curves:
        return None
    x = np.log(np.asarray(curves["sizes"], dtype=float))
    at = np.log(max(effective_size(m, int(col.get("n", 0))), 1.0))
    mu, sd = curves[effect]
    return float(np.interp(at, x, mu)), float(np.interp(at, x, sd))


def auto_threshold(col: dict[str, Any], effect: str, m: int, alpha: float) -> float | None:
    """The floor plus the effect the reference's noise reaches in a share ``alpha`` of windows."""
    from scipy.stats import norm

    null = null_at(col, effect, m)
    if null is None:
        return None
    mu, sd = null
    return FLOORS.get(effect, 0.0) + float(np.exp(mu + norm.isf(alpha) * sd))


def standardised(col: dict[str, Any], effect: str, value: float, m: int) -> float | None:
    """``z = (log(effect - floor) - mean) / sd``: about N(0, 1) with no drift (capped at ±8)."""
    null = null_at(col, effect, m)
    if null is None:
        return None
    mu, sd = null
    excess = max(value - FLOORS.get(effect, 0.0), _TINY)
    return float(np.clip((np.log(excess) - mu) / sd, -8.0, 8.0))
