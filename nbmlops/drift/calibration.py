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
