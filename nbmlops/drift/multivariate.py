"""One multivariate drift signal per window: PCA reconstruction error (as NannyML does).

At fit time the numeric features of the reference are standardised (missing
values imputed with the reference median) and a PCA keeps the components
explaining :data:`VARIANCE` of the variance, fitted on one half of the
reference; the other half gives the mean ``mu`` and sd ``sigma`` of the
per-row reconstruction error ``e = ||x - P P^T x||^2`` under no drift.

Per window the summary is ``(count, sum e, sum e^2)`` over at most
:data:`SUMMARY_ROWS` rows of each batch (every k-th row, so the signal costs
little on big batches), which merges by addition (batches, files, Spark
partitions, live polls). A window of ``m`` rows
is judged by ``z = (mean e - mu) / (sigma sqrt(1/m + 1/n_half))`` (about
N(0, 1) with no drift): a changed correlation moves the data off the
reference's principal subspace and raises ``e`` even when no marginal moved.
The one-sided p-value ``1 - Phi(z)`` joins the window's multiple-testing family
and ``z`` is one more stream of the sequential rule (:mod:`nbmlops.drift.sequential`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: share of the standardised variance the kept components explain (NannyML's 0.65)
VARIANCE = 0.65
MIN_ROWS = 200
MAX_FIT_ROWS = 100_000
#: rows of each batch (every k-th) that enter a window's summary
SUMMARY_ROWS = 10_000


def fit(df: Any, columns: dict[str, dict[str, Any]], seed: int = 0) -> dict[str, Any] | None:
    """The PCA model of the reference's numeric features (None: fewer than 2 or too few rows)."""
    names = [n for n, c in columns.items() if c.get("kind") == "numeric" and not c.get("status")
             and c.get("role") == "feature" and float(c.get("std") or 0) > 0]
    if len(names) < 2 or len(df) < MIN_ROWS:
        return None
    rng = np.random.default_rng(seed)
    rows = np.arange(len(df))
    if len(df) > MAX_FIT_ROWS:
        rows = np.sort(rng.choice(len(df), MAX_FIT_ROWS, replace=False))
    x = np.column_stack([_column(df[n].iloc[rows]) for n in names])
    x = x[rng.permutation(len(x))]  # fit and error halves both spread over the reference
    med = np.nanmedian(x, axis=0)
    med = np.where(np.isfinite(med), med, 0.0)
    x = np.where(np.isfinite(x), x, med)
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    z = (x - mean) / sd
    half = len(z) // 2
    values, vectors = np.linalg.eigh(z[:half].T @ z[:half])  # ascending eigenvalues
    values, vt = values[::-1], vectors[:, ::-1].T
    share = np.cumsum(values) / np.sum(values)
    k = min(len(names) - 1, int(np.searchsorted(share, VARIANCE)) + 1)
    model = {"columns": names, "median": med.tolist(), "mean": mean.tolist(),
             "sd": sd.tolist(), "components": vt[:k].tolist()}
    err = _errors(model, z[half:], standardised=True)
    model.update(mu=float(err.mean()), sigma=float(max(err.std(ddof=1), 1e-9)), n=len(err))
    return model


def _column(s: Any) -> np.ndarray:
    import pandas as pd

    if s.dtype.kind == "f":
        return s.to_numpy(dtype=float)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _matrix(df: Any, names: list[str]) -> np.ndarray:
    return np.column_stack([_column(df[n]) for n in names])


def _errors(model: dict[str, Any], x: np.ndarray, standardised: bool = False) -> np.ndarray:
    if not standardised:
        med = np.asarray(model["median"])
        x = np.where(np.isfinite(x), x, med)
        x = (x - np.asarray(model["mean"])) / np.asarray(model["sd"])
    comp = np.asarray(model["components"])
    # einsum, not BLAS: BLAS threads spinning after a call would slow down the
    # column summaries running on the accumulator's threads
    proj = np.einsum("ij,kj->ik", x, comp)
    return np.einsum("ij,ij->i", x, x) - np.einsum("ik,ik->i", proj, proj)


def summarise(model: dict[str, Any], df: Any) -> dict[str, float] | None:
    """``{n, sum, sumsq}`` of the reconstruction errors of ``df``'s rows (None: columns missing)."""
    if any(n not in df.columns for n in model["columns"]) or len(df) == 0:
        return None
    if not df.columns.is_unique and any(
            int((df.columns == n).sum()) > 1 for n in model["columns"]):
        return None  # a duplicated column cannot be read (the feature reports the error)
    if len(df) > SUMMARY_ROWS:  # every k-th row: the signal's cost stays small per batch
        df = df.iloc[::-(-len(df) // SUMMARY_ROWS)]
    try:
        e = _errors(model, _matrix(df, model["columns"]))
    except (TypeError, ValueError):
        return None
    return {"n": float(len(e)), "sum": float(e.sum()), "sumsq": float(np.dot(e, e))}


def merge(a: dict[str, float] | None, b: dict[str, float] | None) -> dict[str, float] | None:
    """Sum of two summaries (either may be None)."""
    if a is None or b is None:
        return a if b is None else b
    return {k: a[k] + b[k] for k in ("n", "sum", "sumsq")}


def judge(model: dict[str, Any] | None, summ: dict[str, float] | None) -> dict[str, Any] | None:
    """``{error, reference, z, p, n}`` of one window (None: no model or no rows)."""
    if not model or not summ or summ["n"] < 2:
        return None
    from scipy.stats import norm

    m = summ["n"]
    mean = summ["sum"] / m
    se = model["sigma"] * np.sqrt(1.0 / m + 1.0 / model["n"])
    z = float(np.clip((mean - model["mu"]) / se, -50.0, 50.0))
    return {"error": float(mean), "reference": model["mu"], "z": z, "p": float(norm.sf(z)),
            "n": int(m)}
