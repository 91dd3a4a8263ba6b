"""Plotly figures of a drift report: pure functions, report objects in, figures out.

Every builder takes :mod:`nbmlops.drift.report` objects (never raw rows) and
returns a ``plotly.graph_objects.Figure`` sized for a notebook panel. The
panel copies them into its long-lived ``FigureWidget``s
(:func:`nbmlops.widgets.figure_widget.update_in_place`); the tests assert on
their traces.
"""

from __future__ import annotations

from typing import Any

#: status -> colour (badges, timeline markers)
COLOURS = {"ok": "#2e7d32", "warn": "#ef6c00", "drift": "#c62828", "skipped": "#757575",
           "error": "#6a1b9a"}
REF_COLOUR, CUR_COLOUR = "#1f77b4", "#d62728"
_HEIGHT = 260


def _figure(title: str, **layout: Any) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=_HEIGHT,
                      margin={"l": 45, "r": 10, "t": 35, "b": 35}, template="none",
                      plot_bgcolor="white", paper_bgcolor="white", font={"size": 11},
                      legend={"orientation": "h", "y": -0.25}, **layout)
    return fig


def _shares(counts: list[int]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def _empty(fig: Any, text: str) -> Any:
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def distribution_figure(feature: Any) -> Any:
    """Reference vs current shares on the reference bins (or per category)."""
    fig = _figure(f"{feature.name}: reference vs current", barmode="overlay")
    bins = feature.bins
    if bins is None or not bins.labels:
        return _empty(fig, feature.reason or "no bin data for this feature")
    fig.add_bar(x=bins.labels, y=_shares(bins.ref_counts), name="reference",
                marker_color=REF_COLOUR, opacity=0.55)
    fig.add_bar(x=bins.labels, y=_shares(bins.cur_counts), name="current",
                marker_color=CUR_COLOUR, opacity=0.55)
    fig.update_yaxes(title_text="share", tickformat=".0%")
    return fig


def ks_distance(ecdf: dict[str, list[float]]) -> tuple[float, float, float, float]:
    """``(D, x, ref, cur)``: the largest ECDF gap and where it is."""
    best = (0.0, 0.0, 0.0, 0.0)
    for x, r, c in zip(ecdf["x"], ecdf["ref"], ecdf["cur"], strict=False):
        if abs(r - c) > best[0]:
            best = (abs(r - c), x, r, c)
    return best


def ecdf_figure(feature: Any) -> Any:
    """Both ECDFs with the KS distance drawn where the gap is largest."""
    fig = _figure(f"{feature.name}: ECDF")
    ecdf = feature.ecdf
    if not ecdf or not ecdf.get("x"):
        return _empty(fig, "ECDF only for numeric features")
    d, x, r, c = ks_distance(ecdf)
    ecdf = thin(ecdf)
    fig.add_scatter(x=ecdf["x"], y=ecdf["ref"], name="reference", line_shape="hv",
                    line_color=REF_COLOUR)
    fig.add_scatter(x=ecdf["x"], y=ecdf["cur"], name="current", line_shape="hv",
                    line_color=CUR_COLOUR)
    fig.add_scatter(x=[x, x], y=[r, c], name=f"KS D = {d:.3f}", mode="lines+markers",
                    line={"color": "black", "dash": "dot", "width": 2})
    fig.update_yaxes(range=[0, 1.02])
    return fig


def psi_figure(feature: Any) -> Any:
    """Per-bin PSI contributions (their sum is the PSI)."""
    fig = _figure(f"{feature.name}: PSI contribution per bin")
    bins = feature.bins
    if bins is None or not bins.psi_contrib:
        return _empty(fig, "no bin data for this feature")
    total = sum(bins.psi_contrib)
    fig.add_bar(x=bins.labels, y=bins.psi_contrib, name=f"PSI = {total:.3f}",
                marker_color=[CUR_COLOUR if v > 0.01 else "#9e9e9e" for v in bins.psi_contrib],
                showlegend=True)
    return fig


def short_key(key: str) -> str:
    """``2026-03-01`` for a window starting at midnight UTC, else the key itself."""
    return key[:10] if key.endswith("T00:00:00+00:00") else key


def series(report: Any, name: str) -> tuple[list[str], list[float | None], list[str]]:
    """Window keys, the feature's effect size per window and its status per window."""
    keys, values, statuses = [], [], []
    for w in report.windows:
        f = w.features.get(name)
        if f is None and report.prediction is not None and report.prediction.name == name:
            f = w.prediction
        keys.append(short_key(w.key))
        values.append(None if f is None else f.effect)
        statuses.append("skipped" if f is None else f.status)
    return keys, values, statuses


def timeline_figure(report: Any, name: str) -> Any:
    """The feature's effect size per window with its threshold line."""
    feature = report.features.get(name)
    if feature is None and report.prediction is not None and report.prediction.name == name:
        feature = report.prediction
    effect = (feature.effect_name or "effect") if feature else "effect"
    fig = _figure(f"{name}: {effect} per window")
    keys, values, statuses = series(report, name)
    if not keys:
        return _empty(fig, "a single window: nothing to plot over time")
    fig.add_scatter(x=keys, y=values, mode="lines+markers", name=effect,
                    marker={"color": [COLOURS.get(s, "#757575") for s in statuses], "size": 9},
                    line_color="#455a64", text=statuses,
                    hovertemplate="%{x}: %{y:.4f} (%{text})<extra></extra>")
    if feature is not None and isinstance(feature.threshold, int | float):
        fig.add_scatter(x=[keys[0], keys[-1]], y=[feature.threshold] * 2, mode="lines",
                        name=f"threshold {feature.threshold:g}",
                        line={"color": COLOURS["drift"], "dash": "dash"})
    fig.update_xaxes(type="category")
    return fig


def performance_figure(report: Any, metric: str = "fpr") -> Any:
    """A performance metric per window against the reference level."""
    fig = _figure(f"{metric} per window (dashed: reference)")
    keys = [short_key(w.key) for w in report.windows if w.performance]
    values = [w.performance.get(metric) for w in report.windows if w.performance]
    if not keys:
        return _empty(fig, "no labels in the current data: no performance over time")
    fig.add_scatter(x=keys, y=values, mode="lines+markers", name=metric, line_color=CUR_COLOUR)
    ref = (report.performance or {}).get("reference") or {}
    if ref.get(metric) is not None:
        fig.add_scatter(x=[keys[0], keys[-1]], y=[ref[metric]] * 2, mode="lines",
                        name=f"reference {ref[metric]:.3f}",
                        line={"color": REF_COLOUR, "dash": "dash"})
    fig.update_xaxes(type="category")
    return fig


def has_labels(report: Any) -> bool:
    """True when some window has performance metrics (the current data had labels)."""
    return any(w.performance for w in report.windows) or bool(
        (report.performance or {}).get("current"))


def sparkline_svg(values: list[float | None], threshold: float | None = None,
                  width: int = 90, height: int = 20) -> str:
    """A tiny inline SVG line of ``values`` (no JavaScript; ~300 bytes)."""
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    top = max([v for _, v in pts] + ([threshold] if threshold else [])) or 1.0
    n = max(len(values) - 1, 1)

    def xy(i: float, v: float) -> str:
        return f"{i * (width - 2) / n + 1:.1f},{height - 1 - v / top * (height - 2):.1f}"

    line = " ".join(xy(i, v) for i, v in pts)
    thr = ""
    if threshold:
        y = xy(0, threshold).split(",")[1]
        thr = (f'<line x1="0" x2="{width}" y1="{y}" y2="{y}" stroke="{COLOURS["drift"]}" '
               'stroke-dasharray="2,2" stroke-width="1"/>')
    return (f'<svg width="{width}" height="{height}" class="nbmlops-spark">{thr}'
            f'<polyline fill="none" stroke="#455a64" stroke-width="1.5" points="{line}"/></svg>')


def _round(obj: Any, digits: int = 5) -> Any:
    """Floats to ``digits`` significant digits (keeps saved notebooks small)."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, list):
        return [_round(v, digits) for v in obj]
    if isinstance(obj, dict):
        return {k: _round(v, digits) for k, v in obj.items()}
    return obj


def thin(ecdf: dict[str, list[float]], most: int = 250) -> dict[str, list[float]]:
    """At most ``most`` ECDF points, keeping the point of the KS distance."""
    n = len(ecdf["x"])
    if n <= most:
        return ecdf
    step = -(-n // most)
    keep = set(range(0, n, step)) | {n - 1}
    gaps = [abs(r - c) for r, c in zip(ecdf["ref"], ecdf["cur"], strict=False)]
    keep.add(max(range(n), key=gaps.__getitem__))
    idx = sorted(keep)
    return {k: [ecdf[k][i] for i in idx] for k in ("x", "ref", "cur")}
