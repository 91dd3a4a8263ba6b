"""The data of a fitted reference profile, with its JSON form (no fitting, no comparing).

:class:`ProfileData` is what every drift computation reads (the accumulator,
the statistics, a report's cached state); :class:`~nbmlops.drift.profile.ReferenceProfile`
adds fitting, saving and ``compare`` on top. A column profile keeps, per column:
the kind, dtype, row and missing counts, and

- numeric/datetime: mean, sd, min, max, the reference *grid* (all distinct
  values when there are at most ``exact_max`` of them — exact mode — else
  ``grid_size`` reference quantiles including min and max), the reference
  counts over the grid's cells (:mod:`nbmlops.drift.summaries`) and the grid
  indexes of the ``n_bins`` reference-quantile bin edges used by PSI/JS/
  Hellinger/binned chi-square;
- categorical/boolean: the category frequencies;
- every judged column: ``null``, the simulated no-drift distribution of each
  effect size over a ladder of window sizes (:mod:`nbmlops.drift.calibration`).

``multivariate`` is the PCA model of :mod:`nbmlops.drift.multivariate` (or None).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nbmlops.drift.summaries import from_jsonable, to_jsonable
from nbmlops.exceptions import DriftError

FORMAT = "nbmlops.drift.profile/1"


@dataclass
class ProfileData:
    """A fitted reference's column profiles, roles and options (see module docstring)."""

    columns: dict[str, dict[str, Any]]
    n_rows: int
    target: str | None = None
    prediction: str | None = None
    performance: dict[str, Any] | None = None
    importances: dict[str, float] | None = None
    multivariate: dict[str, Any] | None = None
    source: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    created: str = ""

    @property
    def features(self) -> list[str]:
        """Columns judged for drift (the prediction column included, target excluded)."""
        return [n for n, c in self.columns.items() if c.get("role") != "target"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict."""
        cols = {}
        for name, col in self.columns.items():
            c = dict(col)
            if "cells" in c:
                c["cells"] = to_jsonable({"cells": c["cells"]})
                c["grid"] = [float(v) for v in c["grid"]]
            cols[name] = c
        return {"format": FORMAT, "n_rows": self.n_rows, "target": self.target,
                "prediction": self.prediction, "performance": self.performance,
                "importances": self.importances, "multivariate": self.multivariate,
                "source": self.source,
                "options": self.options, "created": self.created, "columns": cols}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Any:
        """Inverse of :meth:`to_dict` (an instance of ``cls``)."""
        if d.get("format") != FORMAT:
            raise DriftError(f"Not a drift reference profile (format {d.get('format')!r}).")
        if not isinstance(d.get("columns"), dict) or not isinstance(d.get("n_rows"), int) or \
                not all(isinstance(c, dict) and "kind" in c for c in d["columns"].values()):
            raise DriftError("Corrupt drift reference profile: 'columns' must map each column "
                             "name to its profile and 'n_rows' must be an integer.",
                             parameter="reference")
        cols = {}
        for name, col in d["columns"].items():
            c = dict(col)
            if "cells" in c:
                c["cells"] = (from_jsonable(c["cells"]) or {})["cells"]
                c["grid"] = np.asarray(c["grid"], dtype="float64")
            cols[name] = c
        return cls(columns=cols, n_rows=d["n_rows"], target=d.get("target"),
                   prediction=d.get("prediction"), performance=d.get("performance"),
                   importances=d.get("importances"), multivariate=d.get("multivariate"),
                   source=d.get("source", {}),
                   options=d.get("options", {}), created=d.get("created", ""))

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Any:
        """Read a saved profile JSON; a clear :class:`DriftError` when it is not one."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DriftError(f"Reference profile {p} does not exist.", path=str(p)) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DriftError(f"{p} is not a JSON reference profile: {exc}", path=str(p)) from None
        if not isinstance(data, dict):
            raise DriftError(f"{p} is not a reference profile.", path=str(p))
        return cls.from_dict(data)

    def digest(self) -> str:
        """Stable hash of the profile (audit log)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, default=json_default).encode()
        return hashlib.blake2b(blob, digest_size=16).hexdigest()

    def __repr__(self) -> str:
        kinds_: dict[str, int] = {}
        for c in self.columns.values():
            kinds_[c["kind"]] = kinds_.get(c["kind"], 0) + 1
        return f"{type(self).__name__}(n_rows={self.n_rows}, columns={kinds_})"


def json_default(o: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars and arrays."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def profile_of(state: dict[str, Any]) -> ProfileData:
    """The profile held in a report's ``state`` (decoded once from its JSON form and cached)."""
    prof = state["profile"]
    if isinstance(prof, ProfileData):
        return prof
    cached = state.get("_profile_obj")
    if cached is None:
        cached = ProfileData.from_dict(prof)
        state["_profile_obj"] = cached
    return cached
