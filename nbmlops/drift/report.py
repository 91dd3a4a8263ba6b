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
- :class:`~nbmlops.drift.results.FeatureResult` and
  :class:`~nbmlops.drift.results.WindowResult` (:mod:`nbmlops.drift.results`)
  hold the per-feature and per-window verdicts, statistics and drill-down data.
- ``report.with_config(cfg)`` re-derives every statistic and verdict from the
  cached summaries under new rules (thresholds, tests, alpha, correction) —
  no raw data, cheap enough for live slider controls.
- ``report.select_windows(keys)`` re-computes the whole-period result over a
  subset of windows (summaries are mergeable), e.g. for a window range slider;
  ``report.window(key)`` is one window's cached result as a report (no
  statistics recomputed), what the panel's window selector shows.
- ``to_dict``/``to_json``/``from_json`` round-trip everything (summaries
  included); ``to_markdown``, ``to_html(path)``, ``summary()`` render.

Statuses: ``ok``, ``warn`` (significant, effect between ``warn_ratio`` ×
threshold and threshold), ``drift`` (significant **and** effect ≥ threshold),
``skipped`` (free text, configured skip, absent column...), ``error``
(the column cannot be judged; ``reason`` says why).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.drift import evaluate, page, quality, text
from nbmlops.drift.config import DriftConfig
from nbmlops.drift.profile_data import profile_of
from nbmlops.drift.results import FeatureResult, WindowResult, clean
from nbmlops.fileio import atomic_write
from nbmlops.gates import exit_code as gate_exit_code

#: severity of the verdicts that can fail the CI gate (``fail_on``)
FAIL_LEVELS = {"warn": 1, "drift": 2}
#: what ``fail_on`` may list: drift levels, a degraded performance, a data-quality failure
FAIL_ON = ("warn", "drift", "performance", "quality")
DEFAULT_FAIL_ON = ("drift", "quality")


def parse_fail_on(fail_on: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """``"drift,performance"`` (or a list) as a tuple of :data:`FAIL_ON` kinds.

    ``warn`` and ``drift`` imply ``quality``: a column that went missing, changed
    dtype or holds only NaN/inf fails every gate that fails on drift.
    """
    from nbmlops.exceptions import DriftError

    if fail_on is None:
        return DEFAULT_FAIL_ON
    items = fail_on.split(",") if isinstance(fail_on, str) else list(fail_on)
    out = [i.strip() for part in items for i in str(part).split(",") if i.strip()]
    bad = [i for i in out if i not in FAIL_ON]
    if bad or not out:
        raise DriftError(f"--fail-on takes {', '.join(FAIL_ON)} (comma-separated), got "
                         f"{fail_on!r}.", parameter="fail_on")
    if ("warn" in out or "drift" in out) and "quality" not in out:
        out.append("quality")
    return tuple(dict.fromkeys(out))


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
    performance: dict[str, dict[str, float | None] | None] | None = None
    ranking: list[str] = field(default_factory=list)
    ranking_importance: list[str] | None = None
    sources: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    state: dict[str, Any] = field(default_factory=dict, repr=False)
    quality: dict[str, Any] = field(default_factory=dict)

    # -- queries ---------------------------------------------------------------
    @property
    def drifted(self) -> list[str]:
        """Drifted feature names, most drifted first."""
        return [n for n in self.ranking if self.features[n].status == "drift"]

    @property
    def warned(self) -> list[str]:
        """Features with status ``warn``."""
        return [n for n in self.ranking if self.features[n].status == "warn"]

    @property
    def fired(self) -> list[str]:
        """Kinds that fired: data drift, prediction drift, performance, data quality."""
        return quality.fired(self)

    def exit_code(self, fail_on: str | list[str] | tuple[str, ...] | None = "drift") -> int:
        """CLI gate exit code: 0 pass, 1 fail, 2 error (see :func:`parse_fail_on`)."""
        kinds = parse_fail_on(fail_on)
        if self.verdict == "error":
            return gate_exit_code(self.verdict, "drift", FAIL_LEVELS)
        levels = [k for k in kinds if k in FAIL_LEVELS]
        if levels and gate_exit_code(self.verdict, min(levels, key=FAIL_LEVELS.__getitem__),
                                     FAIL_LEVELS):
            return 1
        fired = self.fired
        if ("performance" in kinds and "performance" in fired) or \
                ("quality" in kinds and "data quality" in fired):
            return 1
        return 0

    # -- re-derivation (no raw data) ------------------------------------------
    @classmethod
    def from_state(cls, state: dict[str, Any], config: DriftConfig,
                   keys: list[str] | None = None) -> DriftReport:
        """Judge the summaries ``state`` under ``config`` (``keys``: windows of the period)."""
        return quality.attach(cls(**evaluate.evaluate_state(state, config, keys)))

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
        return DriftReport.from_state(self.state, DriftConfig.coerce(config),
                                      keys=self.state.get("selected"))

    def select_windows(self, keys: list[str] | None) -> DriftReport:
        """A report whose whole-period results cover only windows ``keys`` (None: all)."""
        return DriftReport.from_state(self.state, self.config, keys=keys)

    def window(self, key: str) -> DriftReport:
        """Window ``key`` as a report, from its cached :class:`WindowResult` (no statistics).

        ``"all"`` (or an unknown key) gives this report. The window's features,
        verdict, prediction and performance are shown with this report's
        windows, config and state, so the result can be re-derived further.
        """
        w = next((wr for wr in self.windows if wr.key == key), None)
        if w is None:
            return self
        _, reason = evaluate.dataset_verdict(w.features, w.prediction, self.config)
        importances = profile_of(self.state).importances or self.state.get("importances")
        ranking, by_importance = evaluate.rank(w.features, importances)
        reference = (self.performance or {}).get("reference")
        return DriftReport(
            verdict=w.verdict, reason=reason, features=w.features, windows=self.windows,
            config=self.config, n_ref=self.n_ref, n_cur=w.n_rows, period=(w.start, w.end),
            window_spec=self.window_spec, time_column=self.time_column, prediction=w.prediction,
            performance={**(self.performance or {}), "reference": reference,
                         "current": w.performance} if reference is not None else None,
            ranking=ranking, ranking_importance=by_importance, sources=self.sources,
            created=self.created, state=self.state, quality=self.quality)

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
            "performance": clean(self.performance),
            "windows": [w.to_dict() for w in self.windows],
            "sources": clean(self.sources),
            "quality": clean(self.quality),
            "fired": self.fired,
        }
        if include_state:
            d["state"] = _state_jsonable(self.state)
        return d

    def to_json(self, path: str | os.PathLike[str] | None = None, indent: int | None = None,
                include_state: bool = True) -> str:
        """JSON text; also written atomically to ``path`` when given."""
        out = json.dumps(self.to_dict(include_state), indent=indent, allow_nan=False)
        if path is not None:
            atomic_write(Path(path), out)
        return out

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
            quality=d.get("quality") or {},
        )

    @classmethod
    def from_json(cls, text_or_path: str | os.PathLike[str]) -> DriftReport:
        """Load from JSON text or a path to a JSON file."""
        raw = str(text_or_path)
        if not raw.lstrip().startswith("{"):
            raw = Path(text_or_path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(raw))

    # -- rendering -------------------------------------------------------------
    def summary(self) -> str:
        """A few lines of text: verdict, drifted features ranked, window table."""
        return text.summary_text(self)

    def to_markdown(self) -> str:
        """Markdown (for CI logs and pull-request comments)."""
        return text.markdown(self)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """One standalone offline HTML page (plotly.js inlined once); written to ``path``."""
        html = page.report_html(self)
        if path is not None:
            atomic_write(Path(path), html)
        return html

    def __repr__(self) -> str:
        return (f"DriftReport(verdict={self.verdict!r}, features={len(self.features)}, "
                f"drifted={self.drifted}, windows={len(self.windows)})")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.summary(), "text/markdown": text.markdown(self)}


def _state_jsonable(state: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in state.items() if not k.startswith("_")}
    prof = out.get("profile")
    if prof is not None and hasattr(prof, "to_dict"):
        out["profile"] = prof.to_dict()
    return clean(out)
