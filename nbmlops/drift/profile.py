"""Reference profiles: fit once from the reference data, save small, compare many times.

:func:`fit_reference` builds a :class:`ReferenceProfile`: the column profiles
of :mod:`nbmlops.drift.profile_data` plus saving, loading and :meth:`compare`.
Comparing never re-reads the reference data: everything a statistic needs is
in the profile.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from nbmlops.drift import kinds, multivariate
from nbmlops.drift.calibration import add_null_curves, calibrate_profile
from nbmlops.drift.engine import compare
from nbmlops.drift.performance import fit_performance
from nbmlops.drift.profile_data import ProfileData, json_default
from nbmlops.drift.sources import load_frame
from nbmlops.drift.summaries import categorical_summary, numeric_summary
from nbmlops.exceptions import DriftError
from nbmlops.fileio import atomic_write


class ReferenceProfile(ProfileData):
    """A fitted reference (:mod:`nbmlops.drift.profile_data`); build with :func:`fit_reference`."""

    def compare(self, current: Any, **kwargs: Any) -> Any:
        """Compare ``current`` with this reference (:func:`nbmlops.drift.engine.compare`)."""
        return compare(self, current, **kwargs)

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the profile as JSON (atomically); return the path.

        Without ``path``, a profile fitted from a snapshot is saved beside it:
        ``<snapshot_dir>/<name>.v<version>.drift.json``.
        """
        p = Path(path) if path is not None else self._default_path()
        atomic_write(p, json.dumps(self.to_dict(), allow_nan=False, default=json_default))
        return p

    def _default_path(self) -> Path:
        src = self.source
        if src.get("kind") != "snapshot" or not src.get("path"):
            raise DriftError("save() needs a path (only profiles fitted from a snapshot have "
                             "a default place).", parameter="path")
        from nbmlops.config import load_config

        data = load_config().project_root / src["path"]
        name = str(src["name"]).split("@")[0]
        return data.parent / f"{name}.v{src.get('version')}.drift.json"

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read a profile saved by :meth:`save`."""
        return load_profile(path)


def load_profile(path: str | os.PathLike[str]) -> ReferenceProfile:
    """Load a saved profile JSON; a clear :class:`DriftError` when it is not one."""
    profile: ReferenceProfile = ReferenceProfile.read(path)
    return profile


def fit_reference(
    data: Any,
    target: str | None = None,
    prediction: str | None = None,
    *,
    columns: list[str] | None = None,
    exclude: list[str] | None = None,
    time_column: str | None = None,
    n_bins: int = 10,
    grid_size: int = 500,
    exact_max: int = 2000,
    calibrate: bool = False,
    n_chunks: int = 10,
    importances: dict[str, float] | Any | None = None,
) -> ReferenceProfile:
    """Fit a reference profile from a DataFrame (or a path, glob or snapshot name).

    Parameters
    ----------
    data
        pandas DataFrame, a Parquet/CSV/JSONL file, folder or glob, or a
        snapshot name such as ``"train@3"``.
    target, prediction
        Label and model-output columns (performance per window; the
        prediction is also checked for drift).
    columns, exclude
        Restrict or drop feature columns. ``time_column`` is always excluded.
    n_bins
        Reference-quantile bins for PSI, JS, Hellinger and binned chi-square.
    grid_size, exact_max
        Numeric columns with at most ``exact_max`` distinct values keep them
        all (exact KS); others keep ``grid_size`` quantiles.
    calibrate
        Also compute per-feature thresholds from ``n_chunks`` chunks of the
        reference (mean + 3 sd of each effect size), used by ``threshold: calibrated``.
    importances
        ``{feature: importance}`` or a fitted model with ``feature_importances_``
        (and ``feature_names_in_``), for ranking by drift × importance.

    Returns
    -------
    ReferenceProfile
    """
    df, source = load_frame(data, role="reference")
    if len(df) == 0:
        raise DriftError("The reference data has no rows.", parameter="reference")
    names = [str(c) for c in df.columns]
    for col, role in ((target, "target"), (prediction, "prediction"), (time_column, "time")):
        if col is not None and col not in names:
            raise DriftError(f"{role} column {col!r} is not in the reference data "
                             f"(columns: {names[:20]}).", column=col)
    dups = {n for n in names if names.count(n) > 1}
    wanted = columns if columns is not None else names
    skip = set(exclude or ()) | ({time_column} if time_column else set())
    cols: dict[str, dict[str, Any]] = {}
    for name in dict.fromkeys(wanted):
        if name in skip:
            continue
        if name not in names:
            raise DriftError(f"Column {name!r} is not in the reference data.", column=name)
        role = "target" if name == target else "prediction" if name == prediction else "feature"
        if name in dups:
            cols[name] = {"name": name, "kind": "unknown", "role": role, "status": "error",
                          "reason": "duplicate column name in the reference"}
            continue
        cols[name] = profile_column(df[name], name, role, n_bins, grid_size, exact_max)
    profile = ReferenceProfile(
        columns=cols, n_rows=len(df), target=target, prediction=prediction,
        importances=_importances(importances), source=source,
        options={"n_bins": n_bins, "grid_size": grid_size, "exact_max": exact_max,
                 "time_column": time_column},
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    )
    if target is not None and prediction is not None:
        profile.performance = fit_performance(df[target], df[prediction])
    if calibrate:
        calibrate_profile(profile, df, n_chunks=n_chunks)
    add_null_curves(profile)
    profile.multivariate = multivariate.fit(df, cols)
    return profile


def profile_column(s: Any, name: str, role: str, n_bins: int, grid_size: int,
                   exact_max: int) -> dict[str, Any]:
    """Profile one reference column (never raises: bad columns get a status)."""
    base: dict[str, Any] = {"name": name, "role": role, "dtype": str(s.dtype), "n_total": len(s)}
    try:
        kind, reason = kinds.detect_kind(s)
    except DriftError:  # lists in an object column ...: one clear error, not a column status
        raise
    except Exception as exc:
        return {**base, "kind": "unknown", "status": "error", "reason": f"cannot read: {exc}"}
    base["kind"] = kind
    if kind == "text":
        return {**base, "status": "skipped", "reason": reason}
    try:
        if kind in ("numeric", "datetime"):
            return {**base, **_numeric_profile(s, kind, name, n_bins, grid_size, exact_max)}
        return {**base, **_categorical_profile(s, kind)}
    except kinds.KindMismatchError as exc:
        return {**base, "status": "error", "reason": str(exc)}


def _numeric_profile(s: Any, kind: str, name: str, n_bins: int, grid_size: int,
                     exact_max: int) -> dict[str, Any]:
    vals, n_missing = kinds.numeric_values(s, kind, name)
    finite = vals[np.isfinite(vals)]
    n_inf = int(len(vals) - len(finite) - n_missing)
    out: dict[str, Any] = {"n": len(finite), "n_missing": n_missing, "n_inf": n_inf}
    if len(finite) == 0:
        return {**out, "status": "skipped", "reason": "no finite values in the reference"}
    x = np.sort(finite)
    uniq = x[np.concatenate([[True], x[1:] != x[:-1]])]
    exact = len(uniq) <= exact_max
    if exact:
        grid = uniq
    else:
        qs = np.linspace(0.0, 1.0, grid_size)
        grid = np.unique(np.quantile(x, qs, method="inverted_cdf"))
    ref = numeric_summary(grid, x, 0)
    edges = np.quantile(x, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
    edges_idx = sorted(set(np.searchsorted(grid, edges).tolist()) - {len(grid) - 1})
    return {**out, "mean": float(x.mean()), "std": float(x.std(ddof=1)) if len(x) > 1 else 0.0,
            "min": float(x[0]), "max": float(x[-1]), "exact": bool(exact), "grid": grid,
            "cells": ref["cells"], "edges_idx": edges_idx, "calibrated": {}}


def _categorical_profile(s: Any, kind: str) -> dict[str, Any]:
    vt = kinds.value_type(s, kind)
    counts, n_missing = kinds.category_counts(s, kind, vt)
    summ = categorical_summary(counts, n_missing, set())
    counts = dict(sorted(summ["new"].items(), key=lambda kv: (-kv[1], kv[0])))
    out = {"n": summ["n"], "n_missing": n_missing, "value_type": vt, "counts": counts,
           "calibrated": {}}
    if summ["n"] == 0:
        return {**out, "status": "skipped", "reason": "no values in the reference"}
    return out


def _importances(imp: Any) -> dict[str, float] | None:
    if imp is None:
        return None
    if isinstance(imp, dict):
        return {str(k): float(v) for k, v in imp.items()}
    values = getattr(imp, "feature_importances_", None)
    if values is None:
        values = getattr(imp, "coef_", None)
        if values is not None:
            values = np.abs(np.ravel(values))
    names = getattr(imp, "feature_names_in_", None)
    if values is None or names is None:
        raise DriftError("importances must be a {feature: value} dict or a fitted model with "
                         "feature_importances_ (or coef_) and feature_names_in_.",
                         parameter="importances")
    return {str(n): float(v) for n, v in zip(names, values, strict=True)}
