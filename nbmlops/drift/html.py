"""One standalone, offline HTML page for a drift report (plotly.js inlined once).

:func:`report_html` is what :meth:`DriftReport.to_html` writes. The figure
builders (:func:`feature_figure`, :func:`window_heatmap`) take report
objects only and may be reused by the drift panel.
"""

from __future__ import annotations

import html as _html
from typing import Any

from nbmlops.drift.render import _fmt, feature_rows

MAX_FEATURE_FIGURES = 20
#: the page stays under this many bytes (plotly.js alone is ~4.8 MB)
MAX_BYTES = 5_000_000
_COLORS = {"ok": "#2e7d32", "warn": "#ef6c00", "drift": "#c62828", "skipped": "#757575",
           "error": "#6a1b9a"}


def feature_figure(f: Any) -> Any:
    """Plotly figure: reference vs current bin shares (+ ECDF for numeric features)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    numeric = f.ecdf is not None
    fig = make_subplots(rows=1, cols=2 if numeric else 1,
                        subplot_titles=("share per bin", "ECDF") if numeric else ("share per bin",))
    if f.bins is not None:
        rt, ct = max(1, sum(f.bins.ref_counts)), max(1, sum(f.bins.cur_counts))
        fig.add_bar(x=f.bins.labels, y=[c / rt for c in f.bins.ref_counts], name="reference",
                    marker_color="#90a4ae", row=1, col=1)
        fig.add_bar(x=f.bins.labels, y=[c / ct for c in f.bins.cur_counts], name="current",
                    marker_color=_COLORS.get(f.status, "#1565c0"), row=1, col=1,
                    customdata=f.bins.psi_contrib,
                    hovertemplate="%{x}: %{y:.3f} (PSI term %{customdata:.4f})<extra></extra>")
    if numeric:
        fig.add_trace(go.Scatter(x=f.ecdf["x"], y=f.ecdf["ref"], name="reference ECDF",
                                 line={"color": "#90a4ae", "shape": "hv"}), row=1, col=2)
        fig.add_trace(go.Scatter(x=f.ecdf["x"], y=f.ecdf["cur"], name="current ECDF",
                                 line={"color": _COLORS.get(f.status, "#1565c0"), "shape": "hv"}),
                      row=1, col=2)
    fig.update_layout(height=300, margin={"l": 40, "r": 10, "t": 40, "b": 60},
                      barmode="group", showlegend=False,
                      title=f"{f.name} — {f.status} ({f.effect_name}={_fmt(f.effect)})")
    return fig


def window_heatmap(report: Any) -> Any | None:
    """Plotly heatmap: effect / threshold per feature (rows) and window (columns)."""
    if not report.windows:
        return None
    import plotly.graph_objects as go

    names = report.ranking
    z = [[(w.features[n].score if n in w.features and w.features[n].score is not None
           else None) for w in report.windows] for n in names]
    text = [[(w.features[n].status if n in w.features else "") for w in report.windows]
            for n in names]
    fig = go.Figure(go.Heatmap(z=z, x=[w.key for w in report.windows], y=names, text=text,
                               colorscale="Reds", zmin=0, zmax=2,
                               colorbar={"title": "effect/threshold"},
                               hovertemplate="%{y} @ %{x}: %{z:.2f} (%{text})<extra></extra>"))
    fig.update_layout(height=max(250, 22 * len(names) + 120),
                      margin={"l": 120, "r": 10, "t": 30, "b": 80}, title="drift per window")
    return fig


def report_html(report: Any) -> str:
    """The whole page as a string."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    def div(fig: Any) -> str:
        return pio.to_html(fig, include_plotlyjs=False, full_html=False,
                           config={"displaylogo": False})

    esc = _html.escape
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in r) + "</tr>"
        for r in feature_rows(report))
    parts = [
        f"<h1>Drift report: <span style='color:{_COLORS.get(report.verdict, '#000')}'>"
        f"{esc(report.verdict.upper())}</span></h1>",
        f"<p>{esc(report.reason)}</p>",
        f"<p>reference rows {report.n_ref} · current rows {report.n_cur}"
        + (f" · period {esc(str(report.period[0]))} – {esc(str(report.period[1]))}"
           if report.period[0] else "") + "</p>",
        "<table><tr><th>feature</th><th>kind</th><th>status</th><th>test</th><th>p adj.</th>"
        f"<th>effect</th><th>threshold</th><th>note</th></tr>{rows}</table>",
    ]
    if report.performance and report.performance.get("current"):
        ref, cur = report.performance["reference"], report.performance["current"]
        prow = "".join(f"<tr><td>{k}</td><td>{_fmt(ref.get(k))}</td><td>{_fmt(cur.get(k))}</td>"
                       "</tr>" for k in ("accuracy", "precision", "recall", "fpr", "auc"))
        parts.append(f"<h2>Performance</h2><table><tr><th>metric</th><th>reference</th>"
                     f"<th>current</th></tr>{prow}</table>")
    heat = window_heatmap(report)
    if heat is not None:
        parts.append("<h2>Windows</h2>" + div(heat))
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
