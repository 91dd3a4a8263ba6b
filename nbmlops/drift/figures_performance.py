"""Performance over time: realised (with labels) and estimated (CBPE, without) per window.

A pure builder like :mod:`nbmlops.drift.figures`: report in, plotly figure out.
Each window shows the realised metric with its 95% interval (error bars),
the label-free CBPE estimate with its interval (a shaded band) when the model
outputs probabilities, the reference level (dashed) and the tolerance band of
the performance verdict; windows judged ``degraded`` are marked.
"""

from __future__ import annotations

from typing import Any

from nbmlops.drift.figures import COLOURS, CUR_COLOUR, REF_COLOUR, base_figure, empty, short_key
from nbmlops.drift.performance import HIGHER_BETTER
from nbmlops.drift.text import PERF_KEYS

EST_COLOUR = "#7b1fa2"


def metric_options(report: Any) -> tuple[str, ...]:
    """The metrics of the report's task (binary: fpr first, the incident's metric)."""
    task = (report.performance or {}).get("task") or "binary"
    keys = PERF_KEYS.get(task, PERF_KEYS["binary"])
    return ("fpr", *[k for k in keys if k != "fpr"]) if task == "binary" else keys


def _series(windows: list[Any], prefix: str, metric: str) -> tuple[list[Any], ...]:
    xs, ys, lo, hi = [], [], [], []
    for w in windows:
        m = w.performance or {}
        if m.get(prefix + metric) is None:
            continue
        xs.append(short_key(w.key))
        ys.append(m[prefix + metric])
        lo.append(m.get(f"{prefix}{metric}_lo"))
        hi.append(m.get(f"{prefix}{metric}_hi"))
    return xs, ys, lo, hi


def performance_figure(report: Any, metric: str = "fpr") -> Any:
    """Realised and estimated ``metric`` per window with intervals, reference and tolerance."""
    perf = report.performance or {}
    fig = base_figure(f"{metric} per window: realised (labels) and estimated (CBPE)")
    windows = list(report.windows)
    rx, ry, rlo, rhi = _series(windows, "", metric)
    ex, ey, elo, ehi = _series(windows, "est_", metric)
    if not rx and not ex:
        return empty(fig, "no labels in the current data and no probability scores: no "
                          "performance over time")
    if rx:
        fig.add_scatter(x=rx, y=ry, mode="lines+markers", name="realised",
                        line_color=CUR_COLOUR,
                        error_y={"type": "data", "symmetric": False,
                                 "array": [h - y if h is not None else 0
                                           for y, h in zip(ry, rhi, strict=True)],
                                 "arrayminus": [y - lo if lo is not None else 0
                                                for y, lo in zip(ry, rlo, strict=True)]})
    _reference(fig, perf, metric, rx or ex)
    if ex:
        if all(v is not None for v in elo + ehi):
            fig.add_scatter(x=ex + ex[::-1], y=ehi + elo[::-1], fill="toself", mode="lines",
                            line={"width": 0}, fillcolor="rgba(123,31,162,0.15)",
                            name="estimate 95%", hoverinfo="skip")
        fig.add_scatter(x=ex, y=ey, mode="lines+markers", name="estimated (CBPE)",
                        line={"color": EST_COLOUR, "dash": "dot"})
    if not rx:
        fig.add_annotation(text="no labels in the current data yet: estimated (CBPE) only",
                           xref="paper", yref="paper", x=0.5, y=1.0, showarrow=False,
                           font={"color": COLOURS["muted"]})
    bad = set(perf.get("windows") or [])
    marks = [(short_key(w.key), (w.performance or {}).get(metric)) for w in windows
             if w.key in bad and (w.performance or {}).get(metric) is not None]
    if marks:
        fig.add_scatter(x=[m[0] for m in marks], y=[m[1] for m in marks], mode="markers",
                        name="degraded", marker={"color": COLOURS["drift"], "size": 12,
                                                 "symbol": "x"})
    fig.update_xaxes(type="category")
    return fig


def _reference(fig: Any, perf: dict[str, Any], metric: str, keys: list[str]) -> None:
    ref = (perf.get("reference") or {}).get(metric)
    if ref is None or not keys:
        return
    fig.add_scatter(x=[keys[0], keys[-1]], y=[ref] * 2, mode="lines",
                    name=f"reference {ref:.3f}", line={"color": REF_COLOUR, "dash": "dash"})
    tol = float(perf.get("tolerance") or 0.0)
    if tol > 0:
        relative = metric in ("mae", "rmse")
        edge = (ref - tol if HIGHER_BETTER.get(metric, True)
                else ref * (1 + tol) if relative else ref + tol)
        fig.add_scatter(x=[keys[0], keys[-1]], y=[edge] * 2, mode="lines",
                        name=f"tolerance {edge:.3f}",
                        line={"color": COLOURS["warn"], "dash": "dot", "width": 1})


def note_html(report: Any) -> str:
    """One line: the performance verdict, the task and the calibration warning (HTML)."""
    from html import escape

    perf = report.performance or {}
    if not perf.get("verdict"):
        return ""
    colour = COLOURS["drift"] if perf["verdict"] == "degraded" else COLOURS["ok"]
    text = (f'<b>performance:</b> <span style="color:{colour}">{escape(perf["verdict"])}'
            f'</span> ({escape(str(perf.get("task")))}, tolerance {perf.get("tolerance")})')
    warning = (perf.get("calibration") or {}).get("warning")
    if warning:
        text += f' · <span style="color:{COLOURS["warn"]}">{escape(warning)}</span>'
    return text
