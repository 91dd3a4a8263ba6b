"""Register the test model ``fraud`` (versions 1 and 2, aliases champion/challenger) in a store.

Run as ``python -m tests.serving._model FOLDER``: the store is ``FOLDER/mlflow.db``, artifacts
under ``FOLDER/mlruns``, the training data ``FOLDER/train.parquet``. A subprocess keeps MLflow's
fluent state (tracking URI, active run) out of the test process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Seeded inputs of the test model: amount (double), count (long), merchant (string)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"amount": rng.normal(50 + shift, 10, n),
                         "count": rng.integers(0, 10, n).astype("int64"),
                         "merchant": rng.choice(["fuel", "food", "travel"], n).astype(object)})


def fit(x: pd.DataFrame, y: np.ndarray) -> object:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    enc = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["merchant"]),
                                  remainder="passthrough")
    return make_pipeline(enc, LogisticRegression(max_iter=500)).fit(x, y)


def main(folder: Path) -> None:
    from nbmlops.mlflow_gateway import client_for, ensure_experiment, scoring

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = client_for(uri)
    exp = ensure_experiment(client, "serving-tests", str(folder / "mlruns"))
    import os

    os.environ["MLFLOW_EXPERIMENT_ID"] = exp
    X = frame(400, 0)
    X.to_parquet(folder / "train.parquet")
    v1 = scoring.register_sklearn(uri, "fraud", fit(X, (X.amount > 50).to_numpy(int)), X.head(20),
                                  alias="champion")
    # version 2 answers differently: class 1 below 50 instead of above
    v2 = scoring.register_sklearn(uri, "fraud", fit(X, (X.amount < 50).to_numpy(int)), X.head(20),
                                  alias="challenger")
    print(v1, v2)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
