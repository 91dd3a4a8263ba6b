"""Late labels joined to current data by an id column, for every input kind.

Labels usually arrive after the predictions: a DataFrame, a file, a folder
or glob of Parquet/CSV/JSONL files (the serving helper's labels log holds
``request_id`` + ``label`` files beside the prediction log), or a Spark
DataFrame. :func:`prepare` reads them once (an id and a label per row: small
next to the data) and :class:`Labels` joins them to each batch of current
data as it streams (pandas frames, file batches, snapshots), or inside Spark
for a Spark input. The label column is the profile's target; a ``label``
column stands for it when the target's name is absent. An id labelled twice
keeps its last label (a correction). ``labels=`` is never ignored: without
a target in the profile, or without the id column, it is an error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from nbmlops.drift import sources as src
from nbmlops.exceptions import DriftError

LABEL_COLUMN = "label"
DEFAULT_ID = "request_id"
#: the per-row id of the serving logs (``request_id/row``)
SERVING_ID = "prediction_id"


@dataclass
class Labels:
    """Labels by id, ready to join (see module docstring)."""

    frame: Any  # pandas DataFrame [id_column, target], one row per id
    id_column: str
    target: str
    source: dict[str, Any] = field(default_factory=dict)
    rows_seen: int = 0
    rows_labelled: int = 0
    _lookup: Any = field(default=None, repr=False)

    def attach(self, batch: Any) -> Any:
        """``batch`` with the target column set from the labels (NaN where unlabelled)."""
        if self.id_column not in batch.columns:
            raise DriftError(f"id column {self.id_column!r} is not in the current data "
                             f"(columns: {[str(c) for c in batch.columns][:20]}).",
                             column=self.id_column)
        ids = _key(batch[self.id_column])
        if self._lookup is None:
            self._lookup = self.frame.set_index(_key(self.frame[self.id_column]))[self.target]
        lookup = self._lookup
        out = batch.copy(deep=False)
        out[self.target] = ids.map(lookup).to_numpy()
        self.rows_seen += len(out)
        self.rows_labelled += int(out[self.target].notna().sum())
        return out

    def join_spark(self, sdf: Any) -> Any:
        """The Spark frame ``sdf`` left-joined with the labels on the id column (in Spark)."""
        from pyspark.sql import functions as F  # noqa: N812 - pyspark's convention

        if self.id_column not in sdf.columns:
            raise DriftError(f"id column {self.id_column!r} is not in the current data.",
                             column=self.id_column)
        spark = sdf.sparkSession
        lab = spark.createDataFrame(self.frame.assign(
            **{self.id_column: _key(self.frame[self.id_column])}))
        base = sdf.drop(self.target) if self.target in sdf.columns else sdf
        base = base.withColumn("__nbmlops_id", F.col(self.id_column).cast("string"))
        lab = lab.withColumnRenamed(self.id_column, "__nbmlops_id")
        return base.join(lab, on="__nbmlops_id", how="left").drop("__nbmlops_id")

    def describe(self) -> dict[str, Any]:
        """Where the labels came from and how many current rows they labelled (audit)."""
        return {**self.source, "id_column": self.id_column, "labels": len(self.frame),
                "rows_seen": self.rows_seen, "rows_labelled": self.rows_labelled}


def _key(s: Any) -> Any:
    """Ids as strings, so ``7``, ``7.0`` read from CSV and ``"7"`` from Parquet meet."""
    from pandas.api import types as t

    if t.is_float_dtype(s.dtype) and s.dropna().mod(1).eq(0).all():
        s = s.astype("Int64")
    return s.astype("string")


def prepare(labels: Any, id_column: str | None, profile: Any) -> Labels:
    """Read ``labels`` (DataFrame, Spark DataFrame, file, folder, glob) for ``profile``."""
    import pandas as pd

    target = profile.target
    if target is None:
        raise DriftError("labels= needs a reference profile fitted with target= (the label "
                         "column; --target when the reference is data); this profile has no "
                         "target.", parameter="labels")
    frame, source = _read(labels, id_column, target)
    id_col = id_column or _default_id(frame)
    if id_col not in frame.columns:
        hint = "" if id_column else " (pass --id-column / id_column=)"
        raise DriftError(f"id column {id_col!r} is not in the labels (columns: "
                         f"{[str(c) for c in frame.columns][:20]}){hint}.", column=id_col)
    if target not in frame.columns:
        if LABEL_COLUMN not in frame.columns:
            raise DriftError(f"the labels have neither the target column {target!r} nor a "
                             f"{LABEL_COLUMN!r} column.", column=target)
        frame = frame.rename(columns={LABEL_COLUMN: target})
    frame = pd.DataFrame({id_col: frame[id_col], target: frame[target]})
    frame = frame.dropna(subset=[id_col]).drop_duplicates(id_col, keep="last")
    return Labels(frame.reset_index(drop=True), id_col, target, source)


def _default_id(frame: Any) -> str:
    """The id column to join on when none is named.

    ``prediction_id`` when the labels carry it (``nbmlops serve``'s labels log:
    one id per row of a multi-row request), else :data:`DEFAULT_ID`.
    """
    return SERVING_ID if SERVING_ID in frame.columns else DEFAULT_ID


def _read(labels: Any, id_column: str | None, target: str) -> tuple[Any, dict[str, Any]]:
    import pandas as pd

    if src.is_frame(labels):
        return labels, {"kind": "dataframe"}
    if src.is_spark(labels):
        return labels.toPandas(), {"kind": "spark"}
    if isinstance(labels, str | os.PathLike | list | tuple):
        wanted = [id_column or DEFAULT_ID, target, LABEL_COLUMN]
        parts = list(src.iter_batches(labels, columns=wanted))
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        return frame, {"kind": "files", "path": str(labels), "digest": src.files_digest(labels)}
    raise DriftError(f"Cannot read labels from a {type(labels).__name__}: pass a DataFrame, "
                     "a file, folder or glob, or a Spark DataFrame.", parameter="labels")
