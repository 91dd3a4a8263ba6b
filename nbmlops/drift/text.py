"""Text and Markdown renderings of a :class:`~nbmlops.drift.report.DriftReport`."""

from __future__ import annotations

from typing import Any

from nbmlops._html import fmt

_ICON = {"ok": "ok", "warn": "WARN", "drift": "DRIFT", "skipped": "skipped", "error": "ERROR"}


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
    lines = [f"Drift verdict: {report.verdict.upper()} — {report.reason}",
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
    if report.performance and report.performance.get("current"):
        ref, cur = report.performance["reference"], report.performance["current"]
        lines.append("performance (ref -> cur): " + ", ".join(
            f"{k} {fmt(ref.get(k))}->{fmt(cur.get(k))}"
            for k in ("accuracy", "precision", "recall", "fpr", "auc")))
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
    out = [f"## Drift report: **{report.verdict.upper()}**", "", report.reason, "",
           f"Reference rows: {report.n_ref} · current rows: {report.n_cur}"
           + (f" · period {report.period[0]} – {report.period[1]}" if report.period[0] else ""),
           "", "| feature | kind | status | test | p (adj.) | effect | threshold | note |",
           "|---|---|---|---|---|---|---|---|"]
    for r in feature_rows(report):
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    if report.prediction is not None:
        p = report.prediction
        out += ["", f"Prediction `{p.name}`: {p.status} ({p.effect_name} = {fmt(p.effect)})"]
    if report.performance and report.performance.get("current"):
        ref, cur = report.performance["reference"], report.performance["current"]
        out += ["", "| metric | reference | current |", "|---|---|---|"]
        for k in ("accuracy", "precision", "recall", "fpr", "auc"):
            out.append(f"| {k} | {fmt(ref.get(k))} | {fmt(cur.get(k))} |")
    if report.windows:
        out += ["", f"### Windows ({report.window_spec})", "",
                "| window | rows | verdict | drifted |", "|---|---|---|---|"]
        for w in report.windows:
            out.append(f"| {w.key} | {w.n_rows} | {w.verdict} | {', '.join(w.drifted)} |")
    if _time_column(report):
        out += ["", _time_note(_time_column(report))]
    cfg = report.config
    out += ["", f"Rule: {cfg.multiple_testing} at alpha={cfg.alpha}, drift = significant and "
            "effect ≥ threshold."]
    return "\n".join(out) + "\n"
