"""One standalone, offline HTML page for a drift report (plotly.js inlined once).

:func:`report_html` is what :meth:`DriftReport.to_html` writes; its figures
come from :mod:`nbmlops.drift.figures` (the panel draws with the same builders).
"""

from __future__ import annotations

from typing import Any

from nbmlops._html import esc
from nbmlops.drift.figures import (
    evidence_figure,
    feature_figure,
    multivariate_figure,
    status_colour,
    window_heatmap,
)
from nbmlops.drift.figures_performance import metric_options, performance_figure
from nbmlops.drift.sequential import onsets
from nbmlops.drift.text import feature_rows, performance_rows, signal_lines

MAX_FEATURE_FIGURES = 20
#: the page stays under this many bytes (plotly.js alone is ~4.8 MB)
MAX_BYTES = 5_000_000


def report_html(report: Any) -> str:
    """The whole page as a string."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    def div(fig: Any) -> str:
        return pio.to_html(fig, include_plotlyjs=False, full_html=False,
                           config={"displaylogo": False})

    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>"
        for r in feature_rows(report))
    parts = [
        f"<h1>Drift report: <span style='color:{status_colour(report.verdict)}'>"
        f"{esc(report.verdict.upper())}</span></h1>",
        f"<p>{esc(report.reason)}</p>",
        f"<p>reference rows {report.n_ref} · current rows {report.n_cur}"
        + (f" · period {esc(str(report.period[0]))} – {esc(str(report.period[1]))}"
           if report.period[0] else "") + "</p>",
        "<table><tr><th>feature</th><th>kind</th><th>status</th><th>test</th><th>p adj.</th>"
        f"<th>effect</th><th>threshold</th><th>note</th></tr>{rows}</table>",
    ]
    parts += _performance_parts(report, div)
    heat = window_heatmap(report)
    if heat is not None:
        parts.append("<h2>Windows</h2>" + div(heat))
    if len(report.windows) > 1:
        built = "".join(f"<li>{esc(o['stream'])}: evidence building since "
                        f"{esc(str(o['since']))}, crossed at {esc(str(o['crossed']))}</li>"
                        for o in onsets(report.windows))
        parts.append("<h2>Sequential evidence</h2>" + (f"<ul>{built}</ul>" if built else "")
                     + div(evidence_figure(report)) + div(multivariate_figure(report)))
    parts.append("<h2>Features</h2>")
    shown = [report.features[n] for n in report.ranking if report.features[n].bins is not None]
    if report.prediction is not None and report.prediction.bins is not None:
        shown.insert(0, report.prediction)
    css = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}")
    head = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Drift report</title>"
            f"<style>{css}</style><script type='text/javascript'>{get_plotlyjs()}</script>"
            f"</head><body>")
    tail = "</body></html>"
    budget = MAX_BYTES - 2_000 - len(head.encode()) - len(tail) - sum(
        len(p.encode()) for p in parts)
    for i, f in enumerate(shown[:MAX_FEATURE_FIGURES]):
        piece = div(feature_figure(f))
        if len(piece.encode()) > budget:
            parts.append(f"<p>{len(shown) - i} more features: see the table above.</p>")
            break
        budget -= len(piece.encode())
        parts.append(piece)
    return head + "".join(parts) + tail


def _performance_parts(report: Any, div: Any) -> list[str]:
    """What fired, quality problems, and realised/estimated performance with intervals."""
    out = ["<ul>" + "".join(f"<li>{esc(x)}</li>" for x in signal_lines(report)) + "</ul>"]
    if not (report.performance or {}).get("reference"):
        return out
    rows = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
                   for r in performance_rows(report))
    out.append("<h2>Performance</h2><table><tr><th>metric</th><th>reference</th>"
               "<th>realised [95%]</th><th>estimated (CBPE) [95%]</th></tr>" + rows + "</table>")
    if report.windows:
        out.append(div(performance_figure(report, metric_options(report)[0])))
    return out
