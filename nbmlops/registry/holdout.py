"""The holdout both models predict on: loading it, checking it, scoring it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nbmlops.config import NbmlopsConfig
from nbmlops.exceptions import UsageArgumentError
from nbmlops.mlflow_gateway import models as gm
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry.metrics import detect_task
from nbmlops.registry.refs import RegistryError, label

_NUMERIC = {"double", "float", "long", "integer"}


@dataclass
class Holdout:
    """A pandas holdout, its label for the record and its target column."""

    frame: Any
    label: str
    target: str


def load_holdout(data: Any, target: str | None, name: str | None,
                 cfg: NbmlopsConfig) -> Holdout:
    """A DataFrame as is, a Parquet/CSV/JSONL file, or a snapshot (``holdout@2``)."""
    import pandas as pd

    if data is None:
        raise UsageArgumentError("give the holdout: data=DataFrame, a file or a snapshot name "
                                 "(--data).", parameter="data")
    if not target:
        raise UsageArgumentError("give the label column: target=... (--target).",
                                 parameter="target")
    if hasattr(data, "columns"):
        frame = data if isinstance(data, pd.DataFrame) else data.to_pandas()
        from nbmlops.hashing import frame_digest

        lab = name or f"dataframe:{frame_digest(frame)[:12]}"
    elif Path(str(data)).is_file():
        frame, lab = _read_file(Path(str(data))), name or str(data)
    else:
        from nbmlops.versioning.api import load, resolve

        entry = resolve(str(data), config=cfg)
        frame, lab = load(entry.ref, kind="pandas", context="evaluation", config=cfg), entry.ref
    if target not in frame.columns:
        cols = ", ".join(map(str, frame.columns))
        raise UsageArgumentError(f"the holdout {lab} has no target column {target!r} "
                                 f"(columns: {cols}).", column=target)
    return Holdout(frame.reset_index(drop=True), lab, target)


def _read_file(path: Path) -> Any:
    import pandas as pd

    if path.suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix in (".jsonl", ".ndjson"):
        return pd.read_json(path, lines=True)
    return pd.read_csv(path)


def _features(scorer: gm.Scorer, info: gw.VersionInfo, hold: Holdout) -> Any:
    """The columns the model reads, checked against its signature."""
    import pandas as pd

    frame = hold.frame.drop(columns=[hold.target])
    wanted = scorer.input_columns()
    if not wanted:  # no signature: the columns the estimator was fitted on, when it knows them
        names = getattr(scorer.native, "feature_names_in_", None)
        if names is None:
            return frame
        missing = [str(c) for c in names if c not in frame.columns]
        if missing:
            raise RegistryError(f"the holdout has no column {missing[0]!r} that {label(info)} "
                                "was fitted on.", column=missing[0])
        return frame[list(names)]
    for col, kind in wanted:
        if col not in frame.columns:
            raise RegistryError(f"the holdout has no column {col!r} ({kind}) that "
                                f"{label(info)}'s signature needs.", column=col)
        have = frame[col].dtype
        numeric = pd.api.types.is_numeric_dtype(have)
        if (kind in _NUMERIC and not numeric) or (kind == "string" and numeric):
            raise RegistryError(f"column {col!r} is {have} in the holdout but "
                                f"{label(info)}'s signature says {kind}.", column=col)
    return frame[[c for c, _ in wanted]]


def predict(infos: list[gw.VersionInfo], hold: Holdout,
            tracking_uri: str) -> tuple[str, np.ndarray, list[Any]]:
    """``(task, y, [champion scores, candidate scores])``; a failing model is named once."""
    scorers = [gm.load_scorer(i.uri, tracking_uri) for i in infos]
    feats = [_features(s, i, hold) for s, i in zip(scorers, infos, strict=True)]
    raw = []
    for scorer, info, frame in zip(scorers, infos, feats, strict=True):
        try:
            raw.append(gm.predict_scores(scorer, frame))
        except Exception as exc:
            raise RegistryError(f"{label(info)} failed to predict on the holdout: "
                                f"{type(exc).__name__}: {exc}", model=info.name,
                                version=info.version) from exc
    y_raw = hold.frame[hold.target].to_numpy()
    task = detect_task(y_raw, all(s.has_proba for s in scorers))
    if task == "regression":
        return task, y_raw.astype(float), [np.asarray(r, dtype=float).ravel() for r in raw]
    classes = np.asarray(scorers[0].native.classes_)
    if not np.array_equal(classes, np.asarray(scorers[1].native.classes_)):
        raise RegistryError(f"the models know different classes: {list(classes)} vs "
                            f"{list(scorers[1].native.classes_)}.", model=infos[0].name)
    unknown = sorted(set(np.unique(y_raw).tolist()) - set(classes.tolist()), key=str)
    if unknown:
        raise RegistryError(f"target {hold.target!r} has values the models never saw: "
                            f"{unknown[:5]}.", column=hold.target)
    y = np.searchsorted(classes, y_raw).astype(np.int64)
    task = "binary" if len(classes) == 2 else "multiclass"
    if task == "binary":
        return task, y, [np.asarray(r)[:, 1].astype(float) for r in raw]
    return task, y, [np.asarray(r, dtype=float) for r in raw]
