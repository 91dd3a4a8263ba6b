"""Text and Markdown renderings of a :class:`~nbmlops.drift.report.DriftReport`."""

from __future__ import annotations

from typing import Any

from nbmlops._html import fmt

_ICON = {"ok": "ok", "warn": "WARN", "drift": "DRIFT", "skipped": "skipped", "error": "ERROR"}
PERF_KEYS = {"binary": ("auc", "accuracy", "precision", "recall", "fpr"),
             "multiclass": ("accuracy", "macro_recall"), "regression": ("mae", "rmse")}


def _ci(m: dict[str, Any] | None, k: str) -> str:
    """``0.812 [0.80, 0.83]`` (or ``-``)."""
    if not m or m.get(k) is None:
        return "-"
    lo, hi = m.get(f"{k}_lo"), m.get(f"{k}_hi")
    return f"{fmt(m[k])} [{fmt(lo)}, {fmt(hi)}]" if lo is not None else fmt(m[k])


def _also(report: Any) -> str:
    """`` · PERFORMANCE DEGRADED · DATA QUALITY FAIL`` when those fired (else empty)."""
    names = {"performance": "PERFORMANCE DEGRADED", "data quality": "DATA QUALITY FAIL"}
    return "".join(f" · {names[k]}" for k in report.fired if k in names)


def signal_lines(report: Any) -> list[str]:
    """What fired, data-quality problems, the performance verdict and the calibration warning."""
    fired = report.fired
    lines = [f"fired: {', '.join(fired) if fired else 'nothing'}"]
    q = getattr(report, "quality", None) or {}
    for col, what in (q.get("problems") or {}).items():
        lines.append(f"data quality FAIL: {col}: {what}")
    perf = report.performance or {}
    if perf.get("verdict"):
        why = "; ".join(perf.get("reasons") or [])[:400]
        lines.append(f"performance: {perf['verdict']}" + (f" ({why})" if why else "")
                     + f" [tolerance {perf.get('tolerance')}]")
    warning = (perf.get("calibration") or {}).get("warning")
    if warning:
        lines.append(f"calibration warning: {warning}")
    return lines


def performance_rows(report: Any) -> list[list[str]]:
    """metric, reference, realised [95% interval], estimated (CBPE) [interval]."""
    perf = report.performance or {}
    ref, cur, est = perf.get("reference") or {}, perf.get("current") or {}, \
        perf.get("estimated") or {}
    keys = PERF_KEYS.get(perf.get("task") or "binary", PERF_KEYS["binary"])
    return [[k, fmt(ref.get(k)), _ci(cur, k),
             _ci({kk[4:]: v for kk, v in est.items()} if est else None, k)] for k in keys]


def feature_rows(report: Any) -> list[list[str]]:
    """One row per feature, ranked: name, kind, status, test, p adj, effect, threshold, reason."""
    rows = []
    for name in report.ranking:
        f = report.features[name]
        rows.append([name, f.kind, _ICON.get(f.status, f.status), f.test or "-",
                     fmt(f.p_adjusted),
                     f"{f.effect_name}={fmt(f.effect)}" if f.effect_name else "-",
                     fmt(f.threshold), f.reason])
    return rows


def _time_column(report: Any) -> str | None:
    """The time column in force: the report's, else the one its profile left out."""
    profile = (getattr(report, "state", None) or {}).get("profile")
    options = getattr(profile, "options", None) or {}
    return report.time_column or options.get("time_column")


def _time_note(column: str | None) -> str:
    return (f"Time column: {column} (not judged as a feature; --time-column / time_column= "
            "picks another)")


def summary_text(report: Any) -> str:
    """Plain-text summary."""
    lines = [f"Drift verdict: {report.verdict.upper()}{_also(report)} — {report.reason}",
             f"reference rows: {report.n_ref}, current rows: {report.n_cur}"
             + (f", period {report.period[0]} .. {report.period[1]}" if report.period[0] else "")]
    if report.drifted:
        lines.append("drifted (most first): " + ", ".join(report.drifted))
    if _time_column(report):
        lines.append(_time_note(_time_column(report)))
    if report.ranking_importance:
        lines.append("by drift × importance: " + ", ".join(report.ranking_importance[:10]))
    head = ["feature", "kind", "status", "test", "p adj", "effect", "threshold", "reason"]
    rows = feature_rows(report)
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
    if report.prediction is not None:
        p = report.prediction
        lines.append(f"prediction {p.name}: {p.status} ({p.effect_name}={fmt(p.effect)})")
    lines[1:1] = signal_lines(report)
    if report.performance and report.performance.get("reference"):
        lines.append("performance: metric  reference  realised [95%]  estimated (CBPE) [95%]")
        lines += ["  " + "  ".join(r) for r in performance_rows(report)]
    if report.windows:
        lines.append(f"windows ({report.window_spec}):")
        for w in report.windows:
            extra = f" drifted: {', '.join(w.drifted)}" if w.drifted else ""
            perf = ""
            if w.performance and w.performance.get("fpr") is not None:
                perf = f" fpr={fmt(w.performance['fpr'])}"
            lines.append(f"  {w.key}  rows={w.n_rows}  {w.verdict}{perf}{extra}")
    return "\n".join(lines)


def markdown(report: Any) -> str:
    """Markdown report (CI logs, pull-request comments)."""
    out = [f"## Drift report: **{report.verdict.upper()}**{_also(report)}", "", report.reason, "",
           f"Reference rows: {report.n_ref} · current rows: {report.n_cur}"
           + (f" · period {report.period[0]} – {report.period[1]}" if report.period[0] else ""),
           "", "| feature | kind | status | test | p (adj.) | effect | threshold | note |",
           "|---|---|---|---|---|---|---|---|"]
    for r in feature_rows(report):
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    if report.prediction is not None:
        p = report.prediction
        out += ["", f"Prediction `{p.name}`: {p.status} ({p.effect_name} = {fmt(p.effect)})"]
    out[4:4] = [f"- {line}" for line in signal_lines(report)] + [""]
    if report.performance and report.performance.get("reference"):
        out += ["", "| metric | reference | realised [95%] | estimated (CBPE) [95%] |",
                "|---|---|---|---|"]
        out += ["| " + " | ".join(r) + " |" for r in performance_rows(report)]
    if report.windows:
        perf = report.performance or {}
        metric = PERF_KEYS.get(perf.get("task") or "binary", ("auc",))[0]
        bad = set(perf.get("windows") or [])
        out += ["", f"### Windows ({report.window_spec})", "",
                f"| window | rows | verdict | drifted | {metric}: realised · estimated |",
                "|---|---|---|---|---|"]
        for w in report.windows:
            m = w.performance or {}
            est = {k[4:]: v for k, v in m.items() if k.startswith("est_")}
            cell = f"{_ci(m, metric)} · {_ci(est, metric)}" + (" DEGRADED" if w.key in bad
                                                                  else "")
            out.append(f"| {w.key} | {w.n_rows} | {w.verdict} | {', '.join(w.drifted)} | "
                       f"{cell} |")
    if _time_column(report):
        out += ["", _time_note(_time_column(report))]
    cfg = report.config
    out += ["", f"Rule: {cfg.multiple_testing} at alpha={cfg.alpha}, drift = significant and "
            "effect ≥ threshold."]
    return "\n".join(out) + "\n"
