"""Registry fixtures: a holdout where one candidate wins overall but loses on a slice.

The truth: ``logit = 1.5 a + 1.5 b`` for merchants x and y, ``1.5 a - 3 b`` for
merchant z (15 % of rows). Three real logistic regressions:

- ``base`` (columns ``a``): the champion;
- ``bad`` (``a, b``): better overall, worse on ``merchant=z`` (its b weight is positive);
- ``good`` (``a, b, bz``): learns the interaction, better everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

COLUMNS = {"base": ["a"], "bad": ["a", "b"], "good": ["a", "b", "bz"]}


def make_data(n: int, seed: int) -> pd.DataFrame:
    """Features a, b, bz (= b on merchant z), merchant, and the label is_fraud."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    merchant = rng.choice(["x", "y", "z"], size=n, p=[0.45, 0.40, 0.15])
    z = merchant == "z"
    logit = 1.5 * a + np.where(z, -3.0, 1.5) * b
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"a": a, "b": b, "bz": np.where(z, b, 0.0), "merchant": merchant,
                         "is_fraud": y})


def fit(kind: str, train: pd.DataFrame) -> Any:
    """A fitted logistic regression on the kind's columns."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(train[COLUMNS[kind]], train["is_fraud"])


@dataclass
class Registered:
    """Versions registered by :func:`register_kinds`."""

    name: str
    versions: dict[str, str]


def register_kinds(name: str, kinds: list[str], config: Any, train: pd.DataFrame) -> Registered:
    """One ``capture_run`` + ``register`` per kind (real runs, real registry)."""
    import nbmlops
    from nbmlops.registry import register

    out = {}
    for kind in kinds:
        ns: dict[str, Any] = {"train": train, "fit": fit}
        result = nbmlops.capture_run(f"model = fit({kind!r}, train)", ns, config=config,
                                     name=f"{name}-{kind}", autolog=False)
        info = register(name, result, model=ns["model"],
                        input_example=train[COLUMNS[kind]].head(5), config=config)
        out[kind] = info.version
    return Registered(name, out)


@pytest.fixture(scope="session")
def train_frame() -> pd.DataFrame:
    """Training data."""
    return make_data(6000, 1)


@pytest.fixture(scope="session")
def holdout_frame() -> pd.DataFrame:
    """Holdout data (another seed)."""
    return make_data(6000, 2)


class Broken:
    """A 'model' whose predict_proba raises (a model that fails to predict)."""

    classes_ = np.array([0, 1])

    def predict_proba(self, frame: Any) -> Any:
        raise ValueError("feature matrix has NaN in column 'a'")

    def predict(self, frame: Any) -> Any:
        raise ValueError("feature matrix has NaN in column 'a'")
