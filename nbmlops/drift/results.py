"""Per-feature and per-window drift results: plain, JSON-able data.

:class:`FeatureResult` has the verdict (``status`` + ``reason``), the test
(``test``, ``p_value``, ``p_adjusted``), the effect (``effect_name``,
``effect``, ``threshold``), every statistic in ``stats``, missing shares,
new/vanished categories, and drill-down data: ``bins`` (:class:`BinData`:
labels, numeric edges, reference and current counts, per-bin PSI
contributions) and ``ecdf`` (``{"x", "ref", "cur"}`` points, numeric only).
:class:`WindowResult` holds one window's results. The whole report is
:class:`~nbmlops.drift.report.DriftReport`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

STATUSES = ("ok", "warn", "drift", "skipped", "error")


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
    z: float | None = None  # standardised effect: ~N(0, 1) with no drift (sequential rule)
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
        return clean(asdict(self))

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
    #: sequential evidence ``S_t`` per stream (:mod:`nbmlops.drift.sequential`)
    evidence: dict[str, float] = field(default_factory=dict)
    #: the multivariate signal (:func:`nbmlops.drift.multivariate.judge`) or None
    multivariate: dict[str, Any] | None = None
    #: multivariate and sequential rules that fired in this window
    signals: list[str] = field(default_factory=list)

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
            "performance": clean(self.performance),
            "evidence": clean(self.evidence), "multivariate": clean(self.multivariate),
            "signals": list(self.signals),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WindowResult:
        """Inverse of :meth:`to_dict`."""
        return cls(
            key=d["key"], start=d.get("start"), end=d.get("end"), n_rows=d["n_rows"],
            verdict=d["verdict"],
            features={k: FeatureResult.from_dict(v) for k, v in d["features"].items()},
            prediction=FeatureResult.from_dict(d["prediction"]) if d.get("prediction") else None,
            performance=d.get("performance"), evidence=d.get("evidence") or {},
            multivariate=d.get("multivariate"), signals=d.get("signals") or [],
        )


def clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf floats become None, numpy scalars become Python."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "ndim") and obj.ndim > 0:
        return clean(obj.tolist())
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        try:
            obj = obj.item()
        except (ValueError, AttributeError):
            return obj
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
