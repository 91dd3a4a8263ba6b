"""A tiny fraud world for the loop tests: generated traffic, a champion, late labels.

``amount`` and ``count`` drive fraud; in the *ramp* regime amounts climb and
fraud moves to small amounts and few items — the champion (trained on the
old regime) loses, a model retrained on recent rows wins.
"""

from __future__ import annotations

import datetime as _dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

START = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)
ROWS_PER_HOUR = 20
LOOP_YAML = """\
model: fraud
monitor: {log: logs/predictions, labels: logs/labels, reference: train@1, window: 1D}
trigger: {on: [drift]}
train: {notebook: notebooks/train.ipynb, data_window: 5D, params: {C: 1.0}}
validate: {holdout_window: 2D, target: is_fraud, slices: [merchant],
           rules: {roc_auc: {min_absolute_change: 0.0}}}
promote: {alias: champion, require_approval: true}
"""


def make_model(c: float = 1.0) -> Any:
    """One-hot merchant + numeric features -> logistic regression (extra columns dropped)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    cols = ColumnTransformer([("num", StandardScaler(), ["amount", "count"]),
                              ("cat", OneHotEncoder(handle_unknown="ignore"), ["merchant"])])
    return make_pipeline(cols, LogisticRegression(C=c, max_iter=500))


def rows(n: int, seed: int, ramp: float = 0.0) -> pd.DataFrame:
    """``n`` rows; ``ramp`` in [0, 1] shifts amounts up and reverses what fraud looks like."""
    rng = np.random.default_rng(seed)
    merchant = rng.choice(["x", "y", "z"], size=n, p=[0.45, 0.35, 0.20])
    amount = rng.normal(50 + 60 * ramp, 15, size=n)
    count = rng.poisson(3, size=n)
    old = 0.06 * (amount - 50) + 0.4 * (count - 3)
    new = -0.08 * (amount - 80) - 0.5 * (count - 3)
    logit = -1.5 + (1 - ramp) * old + ramp * new
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"amount": amount, "count": count.astype("int64"),
                         "merchant": merchant, "is_fraud": y})


def champion(project: Path, name: str = "fraud") -> str:
    """Snapshot ``train@1``, train + register + promote the champion; return its version."""
    import nbmlops
    from nbmlops.config import load_config
    from nbmlops.registry import promote, register

    cfg = load_config()
    train = rows(3000, 1)
    nbmlops.snapshot(train, "train", config=cfg)
    ns: dict[str, Any] = {"train": train, "make_model": make_model}
    result = nbmlops.capture_run("model = make_model().fit(train.drop(columns=['is_fraud']), "
                                 "train['is_fraud'])", ns, config=cfg, name="champion",
                                 autolog=False)
    info = register(name, result, model=ns["model"],
                    input_example=train.drop(columns=["is_fraud"]).head(3), config=cfg)
    promote(name, info.version, to="champion", approver="risk-lead", reason="launch",
            config=cfg)
    (project / "mlops.yaml").write_text(LOOP_YAML.replace("model: fraud", f"model: {name}"))
    (project / "notebooks").mkdir(exist_ok=True)
    shutil.copy(Path(__file__).with_name("train.ipynb"), project / "notebooks" / "train.ipynb")
    return info.version


def traffic(log: Path, model: Any, start_hour: int, hours: int, ramp_from: int | None = None,
            labels: bool = True) -> None:
    """Log ``hours`` hours of scored traffic from hour ``start_hour`` (+ labels).

    From hour ``ramp_from`` on, the ramp grows to 1 over 48 hours.
    """
    from nbmlops.serving import LabelLog, PredictionLogger

    lab = LabelLog(log.parent / "labels")
    with PredictionLogger(log, model="fraud", version="1", alias="champion") as logger:
        for h in range(start_hour, start_hour + hours):
            ramp = 0.0 if ramp_from is None or h < ramp_from else min(1.0, (h - ramp_from) / 48)
            frame = rows(ROWS_PER_HOUR, 1000 + h, ramp)
            x = frame.drop(columns=["is_fraud"])
            rid = logger.log(x, model.predict_proba(x)[:, 1],
                             timestamp=START + _dt.timedelta(hours=h, minutes=1))
            if labels:
                lab.add([{"request_id": rid, "row": i, "label": int(v)}
                         for i, v in enumerate(frame["is_fraud"])])
    lab.writer.close()


def at_hour(h: int) -> _dt.datetime:
    """The world's time at hour ``h``."""
    return START + _dt.timedelta(hours=h)
