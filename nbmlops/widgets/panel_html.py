"""The drift panel's HTML parts: header, feature table and the static fallback.

The panel's header and feature table, and the static fallback put in the
same mimebundle as the widget.

The fallback is what nbconvert's HTML export, VS Code without a widget manager
and GitHub's notebook viewer show: the verdict, the period and thresholds, and
the top features with inline-SVG sparklines. It is a few KB whatever the size
of the data, because a report holds summaries only.
"""

from __future__ import annotations

from typing import Any

from nbmlops._html import esc, num
from nbmlops.drift.figures import series, sparkline_svg, status_colour

_CSS = (
    "<style>.nbmlops-drift{font-family:system-ui,sans-serif;font-size:13px}"
    ".nbmlops-drift table{border-collapse:collapse}"
    ".nbmlops-drift th,.nbmlops-drift td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left;vertical-align:middle}"
    ".nbmlops-badge{color:#fff;border-radius:8px;padding:1px 7px;font-size:11px}</style>"
)


#: badge backgrounds dark enough for white text (WCAG AA, contrast ≥ 4.5:1)
BADGE = {"ok": "#1b5e20", "warn": "#a84300", "drift": "#b71c1c", "skipped": "#545454",
         "error": "#6a1b9a"}
#: the panel's CSS (inside the widget, so trusted): whole tab labels
#: and figures that share their row's width (never wider than the output area)
PANEL_CSS = ("<style>.nbmlops-drift-panel .lm-TabBar-tab,.nbmlops-drift-panel .p-TabBar-tab"
             "{flex:0 0 auto;max-width:none;min-width:fit-content}"
             ".nbmlops-drift-panel{max-width:100%;box-sizing:border-box}"
             ".nbmlops-drift-panel .nbmlops-fig-row{max-width:100%;min-width:0}"
             ".nbmlops-drift-panel .nbmlops-fig{flex:1 1 0;min-width:0;max-width:100%;"
             "overflow:hidden}</style>")


def badge(status: str, reason: str = "") -> str:
    """A status pill, white bold text on a dark colour (inline: survives sanitising)."""
    colour = BADGE.get(status, status_colour(status))
    tip = f' title="{esc(reason)}"' if reason else ""
    text = f" {esc(reason)}" if reason and status in ("error", "skipped") else ""
    return (f'<span class="nbmlops-badge" style="background:{colour};color:#fff;'
            f'font-weight:600;border-radius:8px;padding:1px 7px;font-size:11px"{tip}>'
            f'{esc(status)}</span><small>{text}</small>')


def thresholds_text(config: Any) -> str:
    """One line naming the rules in force."""
    n, c = config.spec_for("", "numeric"), config.spec_for("", "categorical")
    custom = f"; {len(config.features)} per-feature rule(s)" if config.features else ""
    return (f"numeric {n.test} + {n.effect} ≥ {n.threshold}; categorical {c.test} + "
            f"{c.effect} ≥ {c.threshold}; alpha {config.alpha} ({config.multiple_testing}); "
            f"drift share > {config.drift_share}{custom}")


def header_html(report: Any, window: str = "all") -> str:
    """Verdict, period and windows, row counts and thresholds."""
    start, end = report.period or (None, None)
    period = f"{start or '?'} → {end or '?'}" if (start or end) else "whole current data"
    windows = len(report.windows)
    spec = f" of {report.window_spec}" if report.window_spec else ""
    shown = "" if window == "all" else f" — showing window <b>{esc(window)}</b>"
    drifted = ", ".join(esc(n) for n in report.drifted[:5]) or "none"
    return (
        f'<div class="nbmlops-drift nbmlops-header">'
        f'<b style="font-size:15px">Dataset verdict: {badge(report.verdict)}</b> '
        f"<span>{esc(report.reason)}</span><br>"
        f"Period {esc(period)}, {windows} window(s){esc(spec)}{shown}; "
        f"reference {report.n_ref:,} rows, current {report.n_cur:,} rows. "
        f"Drifted: {drifted}<br><small>Thresholds: {esc(thresholds_text(report.config))}"
        "</small></div>"
    )


def _categories(f: Any) -> str:
    parts = []
    if f.new_categories:
        shown = ", ".join(esc(k) for k in list(f.new_categories)[:3])
        more = "…" if len(f.new_categories) > 3 else ""
        parts.append(f"new: {shown}{more}")
    if f.vanished_categories:
        shown = ", ".join(esc(k) for k in f.vanished_categories[:3])
        more = "…" if len(f.vanished_categories) > 3 else ""
        parts.append(f"gone: {shown}{more}")
    return "; ".join(parts)


def _missing(f: Any) -> str:
    delta = (f.missing_cur or 0.0) - (f.missing_ref or 0.0)
    return "–" if abs(delta) < 5e-4 else f"{delta:+.1%}"


def feature_rows(report: Any) -> list[Any]:
    """Features (and the prediction) in severity order."""
    names = [n for n in report.ranking if n in report.features]
    names += [n for n in report.features if n not in names]
    return [report.features[n] for n in names]


def table_html(report: Any, top: int | None = None, selected: str | None = None) -> str:
    """The feature table, ranked by severity (``top`` rows at most)."""
    rows = feature_rows(report)
    more = len(rows) - top if top is not None and len(rows) > top else 0
    rows = rows[:top] if top is not None else rows
    head = ("<tr><th>#</th><th>feature</th><th>status</th><th>method</th><th>statistic</th>"
            "<th>p-value</th><th>effect</th><th>threshold</th><th>over windows</th>"
            "<th>Δ missing</th><th>categories</th></tr>")
    body = []
    for i, f in enumerate(rows, 1):
        _, values, _ = series(report, f.name)
        thr = f.threshold if isinstance(f.threshold, int | float) else None
        style = ' style="background:#fff8e1"' if f.name == selected else ""
        p = f.p_adjusted if f.p_adjusted is not None else f.p_value
        body.append(
            f'<tr data-feature="{esc(f.name)}"{style}><td>{i}</td><td><b>{esc(f.name)}</b> '
            f"<small>{esc(f.kind)}</small></td><td>{badge(f.status, f.reason)}</td>"
            f"<td>{esc(f.test or '–')} / {esc(f.effect_name or '–')}</td>"
            f"<td>{num(f.statistic)}</td><td>{num(p, '.2g')}</td>"
            f"<td>{num(f.effect)}</td><td>{num(thr, 'g')}</td>"
            f"<td>{sparkline_svg(values, thr)}</td><td>{_missing(f)}</td>"
            f"<td>{_categories(f)}</td></tr>"
        )
    note = f"<small>… and {more} more feature(s)</small>" if more else ""
    return (f'<div class="nbmlops-drift"><table class="nbmlops-feature-table">{head}'
            f'{"".join(body)}</table>{note}</div>')


def static_html(report: Any, top: int = 10, panel_id: str = "") -> str:
    """The static fallback: CSS, header and the top ``top`` features (no JavaScript).

    ``panel_id`` marks it (``data-panel``) so the live widget can hide it:
    :func:`hide_fallback_css` is inside the widget, so without a kernel (a
    reopened notebook, nbconvert, GitHub) the fallback shows.
    """
    mark = f' data-panel="{esc(panel_id)}"' if panel_id else ""
    return (f'{_CSS}<div class="nbmlops-drift nbmlops-static nbmlops-static-fallback"{mark}>'
            f"{header_html(report)}"
            f"{table_html(report, top=top)}<small>Static view of an nbmlops drift panel; "
            "open the notebook in Jupyter for the interactive panel.</small></div>")


def hide_fallback_css(panel_id: str) -> str:
    """CSS the live panel carries: its own static fallback is hidden while it is shown."""
    return (f'<style>.nbmlops-static-fallback[data-panel="{esc(panel_id)}"]{{display:none}}'
            "</style>")

