"""Seeded data for the performance, labels and CBPE tests: a logistic model with request ids."""

from __future__ import annotations

import numpy as np
import pandas as pd


def scored(n: int, seed: int, shift: float = 0.0, concept: bool = False,
           start: str = "2026-03-01") -> pd.DataFrame:
    """Features x, z; label y from a logistic model; score = the model's probability.

    ``shift`` moves x (covariate shift: P(y|x) unchanged); ``concept`` flips the
    relation of y to x (the score is no longer right).
    """
    rng = np.random.default_rng(seed)
    x, z = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    truth = (-1.5 if concept else 1.5) * x + z
    y = (rng.random(n) < 1 / (1 + np.exp(-truth))).astype(int)
    return pd.DataFrame({
        "request_id": [f"r{seed}-{i}" for i in range(n)],
        "ts": pd.date_range(start, periods=n, freq="30s", tz="UTC"),
        "x": x, "z": z, "y": y, "score": 1 / (1 + np.exp(-(1.5 * x + z))),
    })
