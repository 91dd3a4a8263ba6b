"""The data-quality, performance and label-free verdicts added to a judged report.

:func:`attach` runs after the drift rule (:mod:`nbmlops.drift.evaluate`) on
the same summaries, and fills:

- ``report.quality``: ``{"verdict": "ok"|"fail", "problems": {column: what}}``.
  A column the reference profiled fails when it is missing from the current
  data, its dtype changed, its name is duplicated, or every current value is
  missing or infinite (100% NaN/inf). The CI gate fails on it by default;
- ``report.performance["verdict"]``: ``ok``, ``degraded`` or ``n/a`` (no
  labels), with ``reasons`` and the degraded ``windows``
  (:func:`nbmlops.drift.performance.judge` per window and for the period);
- ``report.performance["estimated"]`` and each window's ``est_*`` metrics:
  the label-free CBPE estimate (:mod:`nbmlops.drift.cbpe`) for probabilistic
  binary classifiers, plus the reference's ``calibration`` check.
"""

from __future__ import annotations

from typing import Any

from nbmlops.drift import cbpe
from nbmlops.drift import performance as perf
from nbmlops.drift.profile_data import profile_of

#: kinds of signal a report can fire, in the order they are reported
KINDS = ("data drift", "prediction drift", "performance", "data quality")
_QUALITY_ERRORS = ("column missing", "dtype changed", "duplicate column")


def quality(features: dict[str, Any], prediction: Any) -> dict[str, Any]:
    """The data-quality verdict of judged features (see module docstring)."""
    problems: dict[str, str] = {}
    for f in [*features.values(), *([prediction] if prediction is not None else [])]:
        if f.status == "error" and any(k in f.reason for k in _QUALITY_ERRORS):
            problems[f.name] = f.reason
        elif f.status == "skipped" and f.n_cur == 0 and (f.missing_cur >= 1.0 or f.inf_cur):
            problems[f.name] = ("every current value is infinite" if f.inf_cur and
                                f.missing_cur == 0 else "every current value is missing or "
                                "infinite")
    return {"verdict": "fail" if problems else "ok", "problems": problems}


def attach(report: Any) -> Any:
    """Fill ``report.quality`` and the performance verdict and estimates; return ``report``."""
    report.quality = quality(report.features, report.prediction)
    profile = profile_of(report.state)
    ref = profile.performance or {}
    if "metrics" not in ref:
        return report
    spec, cfg = ref.get("spec", {}), report.config
    tol, names = _rule(cfg)
    by_key = {w["key"]: w.get("perf") for w in report.state.get("windows", [])}
    selected = report.state.get("selected")
    period = None
    degraded: dict[str, list[str]] = {}
    for w in report.windows:
        est = cbpe.estimate(ref, by_key.get(w.key))
        if est:
            w.performance = {**(w.performance or {}), **est}
        if selected is None or w.key in selected:
            period = perf.merge_perf(period, by_key.get(w.key))
        status, why = perf.judge(ref["metrics"], w.performance, spec.get("task", "binary"),
                                 tol, names)
        if status == "degraded":
            degraded[w.key] = why
    if not report.windows:
        period = perf.merge_perf(None, by_key.get("all"))
    current = (report.performance or {}).get("current")
    if current is not None and not current.get("n"):
        current = None  # scores but no labels yet: nothing realised
    status, reasons = perf.judge(ref["metrics"], current, spec.get("task", "binary"), tol, names)
    if degraded:
        status = "degraded"
        reasons = reasons + [f"window {k}: {'; '.join(v)}" for k, v in degraded.items()]
    elif status == "n/a" and any((w.performance or {}).get("n") for w in report.windows):
        status = "ok"
    report.performance = {**(report.performance or {}), "current": current,
                          "task": spec.get("task", "binary"),
                          "verdict": status, "reasons": reasons, "windows": sorted(degraded),
                          "tolerance": tol, "estimated": cbpe.estimate(ref, period),
                          "calibration": ref.get("calibration")}
    return report


def _rule(cfg: Any) -> tuple[float, list[str] | None]:
    rule = getattr(cfg, "performance", None) or {}
    return float(rule.get("tolerance", 0.05)), rule.get("metrics")


def fired(report: Any) -> list[str]:
    """The kinds of signal (:data:`KINDS`) that fired in ``report``."""
    out = []
    pool = report.features.values()
    if any(f.status == "drift" for f in pool) and report.verdict == "drift":
        out.append("data drift")
    if report.prediction is not None and report.prediction.status == "drift":
        out.append("prediction drift")
    if (report.performance or {}).get("verdict") == "degraded":
        out.append("performance")
    if (getattr(report, "quality", None) or {}).get("verdict") == "fail":
        out.append("data quality")
    return out
