"""Drift results: what the engine returns and what the drift panel renders.

Contract for the panel (issue 6) — everything here is plain data, JSON-able,
and needs no raw rows:

- :class:`DriftReport` ``.verdict`` (``ok``/``warn``/``drift``/``error``),
  ``.features`` (whole period, name -> :class:`FeatureResult`),
  ``.windows`` (list of :class:`WindowResult`, time order, each with its own
  ``features``, ``verdict``, ``n_rows``, ``performance`` and ``prediction``),
  ``.prediction``, ``.performance`` (``{"reference": {...}, "current": {...}}``),
  ``.ranking`` (feature names, most drifted first), ``.config`` (the
  :class:`~nbmlops.drift.config.DriftConfig` in force), ``.n_ref``/``.n_cur``,
  ``.period`` (``(start, end)`` ISO strings or ``None``).
- :class:`FeatureResult` has the verdict (``status`` + ``reason``), the test
  (``test``, ``p_value``, ``p_adjusted``), the effect (``effect_name``,
  ``effect``, ``threshold``), every statistic in ``stats``, missing shares,
  new/vanished categories, and drill-down data: ``bins`` (:class:`BinData`:
  labels, numeric edges, reference and current counts, per-bin PSI
  contributions) and ``ecdf`` (``{"x", "ref", "cur"}`` points, numeric only).
- ``report.with_config(cfg)`` re-derives every statistic and verdict from the
  cached summaries under new rules (thresholds, tests, alpha, correction) —
  no raw data, cheap enough for live slider controls.
- ``report.select_windows(keys)`` re-computes the whole-period result over a
  subset of windows (summaries are mergeable), e.g. for a window range slider.
- ``to_dict``/``to_json``/``from_json`` round-trip everything (summaries
  included); ``to_markdown``, ``to_html(path)``, ``summary()`` render.

Statuses: ``ok``, ``warn`` (significant, effect between ``warn_ratio`` ×
threshold and threshold), ``drift`` (significant **and** effect ≥ threshold),
``skipped`` (free text, configured skip, absent column...), ``error``
(the column cannot be judged; ``reason`` says why).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from nbmlops.drift.config import DriftConfig
from nbmlops.fileio import atomic_write

STATUSES = ("ok", "warn", "drift", "skipped", "error")
_SEVERITY = {"ok": 0, "skipped": 0, "error": 0, "warn": 1, "drift": 2}


@dataclass
class BinData:
    """Per-bin drill-down data of one feature.

    Attributes
    ----------
    labels
        One label per bin (``"(-inf, 1.2]"`` or a category; ``"<unseen>"``
        holds current categories absent from the reference).
    edges
        Interior numeric bin edges (``len(labels) - 1`` values: bin 0 is
        ``(-inf, edges[0]]``, the last ``(edges[-1], inf)``), or ``None`` for
        categories.
    ref_counts, cur_counts
        Counts per bin (missing values excluded).
    psi_contrib
        Per-bin PSI terms ``(q - p) * ln(q / p)`` (after empty-bin flooring).
    """

    labels: list[str]
    edges: list[float] | None
    ref_counts: list[int]
    cur_counts: list[int]
    psi_contrib: list[float]


@dataclass
class FeatureResult:
    """The verdict and statistics of one column over one window (or the period)."""

    name: str
    kind: str  # numeric | categorical | datetime | boolean | text | unknown
    role: str = "feature"  # feature | prediction | target
    status: str = "ok"
    reason: str = ""
    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    effect_name: str | None = None
    effect: float | None = None
    threshold: float | None = None
    score: float | None = None  # effect / threshold (ranking key)
    importance: float | None = None
    stats: dict[str, float | None] = field(default_factory=dict)
    n_ref: int = 0
    n_cur: int = 0
    missing_ref: float = 0.0
    missing_cur: float = 0.0
    inf_cur: int = 0
    new_categories: dict[str, int] = field(default_factory=dict)
    vanished_categories: list[str] = field(default_factory=list)
    bins: BinData | None = None
    ecdf: dict[str, list[float]] | None = None

    @property
    def drifted(self) -> bool:
        """True when the status is ``drift``."""
        return self.status == "drift"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureResult:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        if d.get("bins") is not None:
            d["bins"] = BinData(**d["bins"])
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class WindowResult:
    """Results of one time (or row-count) window."""

    key: str
    start: str | None
    end: str | None
    n_rows: int
    verdict: str
    features: dict[str, FeatureResult] = field(default_factory=dict)
    prediction: FeatureResult | None = None
    performance: dict[str, float | None] | None = None

    @property
    def drifted(self) -> list[str]:
        """Names of drifted features in this window."""
        return [n for n, f in self.features.items() if f.status == "drift"]

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return {
            "key": self.key, "start": self.start, "end": self.end, "n_rows": self.n_rows,
            "verdict": self.verdict,
            "features": {k: v.to_dict() for k, v in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "performance": _clean(self.performance),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WindowResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            key=d["key"], start=d.get("start"), end=d.get("end"), n_rows=d["n_rows"],
            verdict=d["verdict"],
            features={k: FeatureResult.from_dict(v) for k, v in d["features"].items()},
            prediction=FeatureResult.from_dict(d["prediction"]) if d.get("prediction") else None,
            performance=d.get("performance"),
        )


@dataclass
class DriftReport:
    """A drift report: dataset verdict, per-feature and per-window results.

    ``state`` holds the mergeable summaries (reference profile columns and the
    current summaries per window) the report was derived from; it is what
    :meth:`with_config` and :meth:`select_windows` recompute from.
    """

    verdict: str
    reason: str
    features: dict[str, FeatureResult]
    windows: list[WindowResult]
    config: DriftConfig
    n_ref: int
    n_cur: int
    period: tuple[str | None, str | None] = (None, None)
    window_spec: str | None = None
    time_column: str | None = None
    prediction: FeatureResult | None = None
    performance: dict[str, dict[str, float | None]] | None = None
    ranking: list[str] = field(default_factory=list)
    ranking_importance: list[str] | None = None
    sources: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    state: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- queries ---------------------------------------------------------------
    @property
    def drifted(self) -> list[str]:
        """Drifted feature names, most drifted first."""
        return [n for n in self.ranking if self.features[n].status == "drift"]

    @property
    def warned(self) -> list[str]:
        """Features with status ``warn``."""
        return [n for n in self.ranking if self.features[n].status == "warn"]

    def exit_code(self, fail_on: str = "drift") -> int:
        """CLI gate exit code: 0 pass, 1 fail (drift, or warn with ``fail_on='warn'``), 2 error."""
        if self.verdict == "error":
            return 2
        level = _SEVERITY.get(self.verdict, 0)
        return 1 if level >= (1 if fail_on == "warn" else 2) else 0

    # -- re-derivation (no raw data) ------------------------------------------
    def with_config(self, config: DriftConfig | dict[str, Any] | str | os.PathLike[str]
                    ) -> DriftReport:
        """Recompute statistics and verdicts from the cached summaries under ``config``.

        Parameters
        ----------
        config
            A :class:`DriftConfig`, its dict form, or a YAML path.

        Returns
        -------
        DriftReport
            A new report; this one is unchanged.
        """
        from nbmlops.drift.evaluate import evaluate_state

        return evaluate_state(self.state, _as_config(config), keys=self.state.get("selected"))

    def select_windows(self, keys: list[str] | None) -> DriftReport:
        """A report whose whole-period results cover only windows ``keys`` (None: all)."""
        from nbmlops.drift.evaluate import evaluate_state

        return evaluate_state(self.state, self.config, keys=keys)

    # -- serialisation ---------------------------------------------------------
    def to_dict(self, include_state: bool = True) -> dict[str, Any]:
        """Plain dict (``include_state=False`` drops the summaries)."""
        d: dict[str, Any] = {
            "format": "nbmlops.drift.report/1",
            "verdict": self.verdict,
            "reason": self.reason,
            "created": self.created,
            "n_ref": self.n_ref,
            "n_cur": self.n_cur,
            "period": list(self.period),
            "window_spec": self.window_spec,
            "time_column": self.time_column,
            "config": self.config.to_dict(),
            "ranking": self.ranking,
            "ranking_importance": self.ranking_importance,
            "features": {k: v.to_dict() for k, v in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
            "performance": _clean(self.performance),
            "windows": [w.to_dict() for w in self.windows],
            "sources": _clean(self.sources),
        }
        if include_state:
            d["state"] = _state_jsonable(self.state)
        return d

    def to_json(self, path: str | os.PathLike[str] | None = None, indent: int | None = None,
                include_state: bool = True) -> str:
        """JSON text; also written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(include_state), indent=indent, allow_nan=False)
        if path is not None:
            atomic_write(Path(path), text)
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DriftReport:
        """Inverse of :meth:`to_dict`."""
        return cls(
            verdict=d["verdict"], reason=d.get("reason", ""),
            features={k: FeatureResult.from_dict(v) for k, v in d["features"].items()},
            windows=[WindowResult.from_dict(w) for w in d.get("windows", [])],
            config=DriftConfig.from_dict(d.get("config")),
            n_ref=d["n_ref"], n_cur=d["n_cur"], period=tuple(d.get("period") or (None, None)),
            window_spec=d.get("window_spec"), time_column=d.get("time_column"),
            prediction=FeatureResult.from_dict(d["prediction"]) if d.get("prediction") else None,
            performance=d.get("performance"), ranking=d.get("ranking", []),
            ranking_importance=d.get("ranking_importance"), sources=d.get("sources", {}),
            created=d.get("created", ""), state=d.get("state", {}),
        )

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> DriftReport:
        """Load from JSON text or a path to a JSON file."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    # -- rendering -------------------------------------------------------------
    def summary(self) -> str:
        """A few lines of text: verdict, drifted features ranked, window table."""
        from nbmlops.drift.render import summary_text

        return summary_text(self)

    def to_markdown(self) -> str:
        """Markdown (for CI logs and pull-request comments)."""
        from nbmlops.drift.render import markdown

        return markdown(self)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """One standalone offline HTML page (plotly.js inlined once); written to ``path``."""
        from nbmlops.drift.html import report_html

        text = report_html(self)
        if path is not None:
            atomic_write(Path(path), text)
        return text

    def __repr__(self) -> str:
        return (f"DriftReport(verdict={self.verdict!r}, features={len(self.features)}, "
                f"drifted={self.drifted}, windows={len(self.windows)})")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nbmlops.drift.render import markdown

        return {"text/plain": self.summary(), "text/markdown": markdown(self)}


def _as_config(config: Any) -> DriftConfig:
    if isinstance(config, DriftConfig):
        return config
    if isinstance(config, dict):
        return DriftConfig.from_dict(config)
    return DriftConfig.load(config)


def _state_jsonable(state: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in state.items() if not k.startswith("_")}
    prof = out.get("profile")
    if prof is not None and hasattr(prof, "to_dict"):
        out["profile"] = prof.to_dict()
    return _clean(out)


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf floats become None, numpy scalars become Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "ndim") and obj.ndim > 0:
        return _clean(obj.tolist())
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        try:
            obj = obj.item()
        except (ValueError, AttributeError):
            return obj
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
