"""Drift configuration: one YAML file shared by the API, the CLI gate and the panel.

Example ``drift.yaml`` (every key optional; shown with its default)::

    alpha: 0.01                  # family-wise significance level per window
    multiple_testing: bonferroni # bonferroni | holm | bh | none
    drift_share: 0.0             # dataset drifts when share of drifted features > this
    warn_ratio: 0.5              # warn when significant and effect >= warn_ratio * threshold
    include_prediction: false    # count prediction drift in the dataset verdict
    numeric:     {test: ks+chi2, effect: wasserstein, threshold: auto}
    categorical: {test: chi2,    effect: tvd,         threshold: auto}
    sequential: true             # CUSUM across windows on the standardised effects
    sequential_rate: 0.001       # false alarms per window of the sequential rule
    multivariate: true           # PCA reconstruction error per window (when fitted)
    alert: []                    # e.g. [webhook:https://hooks.example/drift]
    features:
      amount:  {effect: psi, threshold: 0.2}
      age:     {threshold: calibrated}   # mean + 3 sd over reference chunks
      score:   {threshold: 0.1}          # a fixed threshold

``threshold: auto`` (the default) is the reference's own noise at each
window's size: a floor of negligible effect plus the effect the reference
reaches in a share ``alpha`` of windows of that size
(:mod:`nbmlops.drift.calibration`).
      user_id: {skip: true}

A feature drifts when its test is significant after the multiple-testing
correction **and** its effect size reaches the threshold (see docs/drift.md).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.exceptions import ConfigError
from nbmlops.fileio import atomic_write

NUMERIC_TESTS = ("ks+chi2", "ks", "chi2", "none")
CATEGORICAL_TESTS = ("chi2", "none")
NUMERIC_EFFECTS = ("wasserstein", "psi", "js", "hellinger", "ks")
CATEGORICAL_EFFECTS = ("tvd", "psi", "js", "hellinger")
CORRECTIONS = ("bonferroni", "holm", "bh", "none")
_TOP_KEYS = {"alpha", "multiple_testing", "drift_share", "warn_ratio", "include_prediction",
             "numeric", "categorical", "features", "sequential", "sequential_rate",
             "multivariate", "alert"}
_TOP_KEYS |= {"performance"}  # {tolerance: 0.05, metrics: [auc, ...]} (docs/drift.md)
PERFORMANCE_METRICS = ("auc", "accuracy", "precision", "recall", "tpr", "fpr", "macro_recall",
                       "mae", "rmse")
_SPEC_KEYS = {"test", "effect", "threshold", "skip"}


@dataclass(frozen=True)
class MethodSpec:
    """How one feature (or a kind of feature) is judged.

    Attributes
    ----------
    test
        Significance test: ``ks+chi2`` (numeric default: the smaller of the KS
        and binned chi-square p-values, doubled), ``ks``, ``chi2`` or ``none``.
    effect
        Effect-size statistic compared with ``threshold``.
    threshold
        A float, ``"auto"`` (default: calibrated to each window's size) or
        ``"calibrated"`` (mean + 3 sd over reference chunks).
    skip
        Leave the feature out (status ``skipped``).
    """

    test: str | None = None
    effect: str | None = None
    threshold: float | str | None = None
    skip: bool = False

    def merged(self, other: MethodSpec) -> MethodSpec:
        """``other``'s set values over this one's."""
        return MethodSpec(
            test=other.test or self.test,
            effect=other.effect or self.effect,
            threshold=other.threshold if other.threshold is not None else self.threshold,
            skip=other.skip or self.skip,
        )

    def to_dict(self) -> dict[str, Any]:
        """Only the keys that are set."""
        d = {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, False)}
        return d


DEFAULT_NUMERIC = MethodSpec(test="ks+chi2", effect="wasserstein", threshold="auto")
DEFAULT_CATEGORICAL = MethodSpec(test="chi2", effect="tvd", threshold="auto")
THRESHOLD_WORDS = ("auto", "calibrated")


@dataclass(frozen=True)
class DriftConfig:
    """Verdict rules in force (see module docstring for the YAML form)."""

    alpha: float = 0.01
    multiple_testing: str = "bonferroni"
    drift_share: float = 0.0
    warn_ratio: float = 0.5
    include_prediction: bool = False
    numeric: MethodSpec = DEFAULT_NUMERIC
    categorical: MethodSpec = DEFAULT_CATEGORICAL
    features: dict[str, MethodSpec] = field(default_factory=dict)
    #: performance verdict: ``tolerance`` (default 0.05) and ``metrics`` (default per task)
    performance: dict[str, Any] = field(default_factory=dict)
    sequential: bool = True
    sequential_rate: float = 0.001
    multivariate: bool = True
    alert: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check(self)
        _check_performance(self.performance)

    # -- lookup -------------------------------------------------------------
    def spec_for(self, name: str, kind: str) -> MethodSpec:
        """The resolved spec of feature ``name`` of ``kind`` (numeric/categorical)."""
        base = self.categorical if kind == "categorical" else self.numeric
        default = DEFAULT_CATEGORICAL if kind == "categorical" else DEFAULT_NUMERIC
        spec = default.merged(base)
        if name in self.features:
            spec = spec.merged(self.features[name])
        return spec

    def replace(self, **changes: Any) -> DriftConfig:
        """A copy with ``changes`` (validated)."""
        return dataclasses.replace(self, **changes)

    def with_feature(self, name: str, **spec: Any) -> DriftConfig:
        """A copy with feature ``name``'s spec updated (e.g. ``threshold=0.2``)."""
        features = dict(self.features)
        old = features.get(name, MethodSpec())
        features[name] = dataclasses.replace(old, **spec)
        return self.replace(features=features)

    def with_setting(self, key: str, value: Any, feature: str | None = None) -> DriftConfig:
        """A copy with the one setting ``key`` changed, every other rule untouched.

        Parameters
        ----------
        key
            ``alpha``, ``drift_share``, ``multiple_testing``, ``<kind>_<field>``
            (``numeric_threshold``, ``categorical_effect``, ...) or
            ``feature_threshold`` (the threshold of ``feature``).
        value
            The new value (thresholds, alpha and drift share are made floats).
        feature
            The feature ``feature_threshold`` applies to (None: no change).

        Returns
        -------
        DriftConfig
            The validated copy (a bad value raises :class:`ConfigError`).
        """
        if key in ("alpha", "drift_share"):
            return self.replace(**{key: float(value)})
        if key == "multiple_testing":
            return self.replace(multiple_testing=value)
        if key == "performance_tolerance":
            return self.replace(performance={**self.performance, "tolerance": float(value)})
        if key == "feature_threshold":
            return self.with_feature(feature, threshold=float(value)) if feature else self
        kind, _, name = key.partition("_")  # numeric_effect, categorical_threshold ...
        if kind not in ("numeric", "categorical") or name not in _SPEC_KEYS:
            raise ConfigError(f"Unknown drift setting {key!r}.", key=key)
        if name == "threshold" and value not in THRESHOLD_WORDS:
            value = float(value)
        return self.replace(**{kind: dataclasses.replace(getattr(self, kind), **{name: value})})

    def settings(self) -> dict[str, Any]:
        """Global settings by :meth:`with_setting` key (a calibrated threshold is None)."""
        n, c = self.spec_for("", "numeric"), self.spec_for("", "categorical")
        out: dict[str, Any] = {"alpha": self.alpha, "drift_share": self.drift_share,
                               "multiple_testing": self.multiple_testing}
        for kind, spec in (("numeric", n), ("categorical", c)):
            out[f"{kind}_test"], out[f"{kind}_effect"] = spec.test, spec.effect
            thr = spec.threshold
            out[f"{kind}_threshold"] = float(thr) if isinstance(thr, int | float) else None
        out["performance_tolerance"] = float(self.performance.get("tolerance", 0.05))
        return out

    @classmethod
    def coerce(cls, config: DriftConfig | dict[str, Any] | str | os.PathLike[str]) -> DriftConfig:
        """``config`` as a :class:`DriftConfig`: itself, from its dict form, or a YAML path."""
        if isinstance(config, DriftConfig):
            return config
        if isinstance(config, dict):
            return cls.from_dict(config)
        return cls.load(config)

    # -- (de)serialisation ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain dict (the YAML form)."""
        return {
            "alpha": self.alpha,
            "multiple_testing": self.multiple_testing,
            "drift_share": self.drift_share,
            "warn_ratio": self.warn_ratio,
            "include_prediction": self.include_prediction,
            "numeric": self.numeric.to_dict(),
            "categorical": self.categorical.to_dict(),
            "features": {k: v.to_dict() for k, v in sorted(self.features.items())},
            **({"performance": dict(self.performance)} if self.performance else {}),
            "sequential": self.sequential, "sequential_rate": self.sequential_rate,
            "multivariate": self.multivariate, "alert": list(self.alert),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, where: str = "drift config") -> DriftConfig:
        """Build from a plain dict; unknown keys raise :class:`ConfigError`."""
        data = dict(data or {})
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise ConfigError(
                f"Unknown key(s) {sorted(unknown)} in {where}; valid: {sorted(_TOP_KEYS)}.",
                key=sorted(unknown)[0],
            )
        kwargs: dict[str, Any] = {k: data[k] for k in
                                  ("alpha", "multiple_testing", "drift_share", "warn_ratio",
                                   "include_prediction", "sequential", "sequential_rate",
                                   "multivariate") if k in data}
        if data.get("alert"):
            raw = data["alert"]
            kwargs["alert"] = (raw,) if isinstance(raw, str) else tuple(str(a) for a in raw)
        for kind in ("numeric", "categorical"):
            if kind in data:
                kwargs[kind] = _spec(data[kind], f"{where}: {kind}")
        feats = data.get("features") or {}
        if not isinstance(feats, dict):
            raise ConfigError(f"'features' in {where} must be a mapping.", key="features")
        kwargs["features"] = {str(k): _spec(v or {}, f"{where}: features.{k}")
                              for k, v in feats.items()}
        if data.get("performance") is not None:
            kwargs["performance"] = data["performance"]
        try:
            return cls(**kwargs)
        except TypeError as exc:  # pragma: no cover - defensive
            raise ConfigError(f"Bad {where}: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DriftConfig:
        """Read a YAML file (a missing file is a :class:`ConfigError`)."""
        import yaml

        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"Drift config {p} does not exist.", path=str(p))
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is not valid YAML: {exc}", path=str(p)) from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{p} must hold a mapping of settings.", path=str(p))
        return cls.from_dict(data, where=str(p))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write YAML atomically; return the path."""
        import yaml

        p = Path(path)
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        atomic_write(p, text)
        return p

    def digest(self) -> str:
        """Stable hash of the rules (for the audit log)."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.blake2b(blob, digest_size=8).hexdigest()


def _spec(raw: Any, where: str) -> MethodSpec:
    if isinstance(raw, MethodSpec):
        return raw
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping with keys {sorted(_SPEC_KEYS)}.")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise ConfigError(f"Unknown key(s) {sorted(unknown)} in {where}; valid: "
                          f"{sorted(_SPEC_KEYS)}.", key=sorted(unknown)[0])
    thr = raw.get("threshold")
    if thr is not None and thr not in THRESHOLD_WORDS:
        try:
            thr = float(thr)
        except (TypeError, ValueError):
            raise ConfigError(f"threshold in {where} must be a number, 'auto' or "
                              f"'calibrated', "
                              f"got {thr!r}.", key="threshold") from None
    return MethodSpec(test=raw.get("test"), effect=raw.get("effect"), threshold=thr,
                      skip=bool(raw.get("skip", False)))


def _check(cfg: DriftConfig) -> None:
    if not 0 < float(cfg.alpha) < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {cfg.alpha!r}.", key="alpha")
    if cfg.multiple_testing not in CORRECTIONS:
        raise ConfigError(f"multiple_testing must be one of {CORRECTIONS}, got "
                          f"{cfg.multiple_testing!r}.", key="multiple_testing")
    if not 0 <= float(cfg.drift_share) < 1:
        raise ConfigError(f"drift_share must be in [0, 1), got {cfg.drift_share!r}.",
                          key="drift_share")
    if not 0 < float(cfg.sequential_rate) < 1:
        raise ConfigError(f"sequential_rate must be in (0, 1), got {cfg.sequential_rate!r}.",
                          key="sequential_rate")
    for spec_ in cfg.alert:
        if not str(spec_).startswith("webhook:"):
            raise ConfigError(f"alert must be 'webhook:URL', got {spec_!r}.", key="alert")
    if not 0 < float(cfg.warn_ratio) <= 1:
        raise ConfigError(f"warn_ratio must be in (0, 1], got {cfg.warn_ratio!r}.",
                          key="warn_ratio")
    specs: list[tuple[str, MethodSpec, str | None]] = [
        ("numeric", cfg.numeric, "numeric"), ("categorical", cfg.categorical, "categorical")]
    specs += [(f"features.{k}", v, None) for k, v in cfg.features.items()]
    for where, spec, kind in specs:
        tests = NUMERIC_TESTS if kind == "numeric" else (
            CATEGORICAL_TESTS if kind == "categorical" else NUMERIC_TESTS)
        effects = NUMERIC_EFFECTS if kind == "numeric" else (
            CATEGORICAL_EFFECTS if kind == "categorical" else (*NUMERIC_EFFECTS, "tvd"))
        if spec.test is not None and spec.test not in tests:
            raise ConfigError(f"{where}.test must be one of {tests}, got {spec.test!r}.",
                              key="test")
        if spec.effect is not None and spec.effect not in effects:
            raise ConfigError(f"{where}.effect must be one of {effects}, got {spec.effect!r}.",
                              key="effect")
        thr = spec.threshold
        if isinstance(thr, float | int) and thr < 0:
            raise ConfigError(f"{where}.threshold must be >= 0.", key="threshold")


def _check_performance(rule: Any) -> None:
    """Validate the ``performance`` mapping: ``tolerance`` >= 0 and known ``metrics``."""
    if not isinstance(rule, dict):
        raise ConfigError("performance must be a mapping {tolerance: 0.05, metrics: [...]}.",
                          key="performance")
    unknown = set(rule) - {"tolerance", "metrics"}
    if unknown:
        raise ConfigError(f"Unknown key(s) {sorted(unknown)} in performance; valid: "
                          "['metrics', 'tolerance'].", key=sorted(unknown)[0])
    tol = rule.get("tolerance", 0.05)
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 <= tol < 10:
        raise ConfigError(f"performance.tolerance must be a number >= 0, got {tol!r}.",
                          key="tolerance")
    metrics = rule.get("metrics")
    if metrics is not None and (not isinstance(metrics, list | tuple) or
                                any(m not in PERFORMANCE_METRICS for m in metrics)):
        raise ConfigError(f"performance.metrics must be a list of {PERFORMANCE_METRICS}, got "
                          f"{metrics!r}.", key="metrics")
