"""Every drift figure, in one palette: pure functions, report objects in, figures out.

Each builder takes :mod:`nbmlops.drift.report` objects (never raw rows) and
returns a ``plotly.graph_objects.Figure``. The drift panel copies them into its
long-lived ``FigureWidget``s (:func:`nbmlops.widgets.figure_widget.update_in_place`),
the standalone page (:mod:`nbmlops.drift.page`) embeds them, and the tests
assert on their traces. :data:`COLOURS` is the one palette of statuses and of
the reference/current series; :func:`sparkline_svg` draws the tables' inline
sparklines.
"""

from __future__ import annotations

from typing import Any

#: the one palette: statuses (badges, markers, heat) and the series of every figure
COLOURS = {"ok": "#2e7d32", "warn": "#ef6c00", "drift": "#c62828", "skipped": "#757575",
           "error": "#6a1b9a", "reference": "#1f77b4", "current": "#d62728",
           "muted": "#9e9e9e", "line": "#455a64"}
REF_COLOUR, CUR_COLOUR = COLOURS["reference"], COLOURS["current"]
#: default figure height in pixels (panel figures)
HEIGHT = 260


def status_colour(status: str) -> str:
    """The palette colour of a status (grey for an unknown one)."""
    return COLOURS.get(status, COLOURS["skipped"])


def base_figure(title: str, **layout: Any) -> Any:
    """An empty figure with the panel's layout (title, margins, white background)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_layout(title={"text": title, "font": {"size": 13}}, height=HEIGHT,
                      margin={"l": 45, "r": 10, "t": 35, "b": 35}, template="none",
                      plot_bgcolor="white", paper_bgcolor="white", font={"size": 11},
                      legend={"orientation": "h", "y": -0.25}, **layout)
    return fig


def _shares(counts: list[int]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def empty(fig: Any, text: str) -> Any:
    """``fig`` with its axes hidden and ``text`` in the middle."""
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def distribution_figure(feature: Any) -> Any:
    """Reference vs current shares on the reference bins (or per category)."""
    fig = base_figure(f"{feature.name}: reference vs current", barmode="overlay")
    bins = feature.bins
    if bins is None or not bins.labels:
        return empty(fig, feature.reason or "no bin data for this feature")
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
    fig = base_figure(f"{feature.name}: ECDF")
    ecdf = feature.ecdf
    if not ecdf or not ecdf.get("x"):
        return empty(fig, "ECDF only for numeric features")
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
    fig = base_figure(f"{feature.name}: PSI contribution per bin")
    bins = feature.bins
    if bins is None or not bins.psi_contrib:
        return empty(fig, "no bin data for this feature")
    total = sum(bins.psi_contrib)
    fig.add_bar(x=bins.labels, y=bins.psi_contrib, name=f"PSI = {total:.3f}",
                marker_color=[CUR_COLOUR if v > 0.01 else COLOURS["muted"]
                              for v in bins.psi_contrib],
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
    fig = base_figure(f"{name}: {effect} per window")
    keys, values, statuses = series(report, name)
    if not keys:
        return empty(fig, "a single window: nothing to plot over time")
    fig.add_scatter(x=keys, y=values, mode="lines+markers", name=effect,
                    marker={"color": [status_colour(s) for s in statuses], "size": 9},
                    line_color=COLOURS["line"], text=statuses,
                    hovertemplate="%{x}: %{y:.4f} (%{text})<extra></extra>")
    if feature is not None and isinstance(feature.threshold, int | float):
        fig.add_scatter(x=[keys[0], keys[-1]], y=[feature.threshold] * 2, mode="lines",
                        name=f"threshold {feature.threshold:g}",
                        line={"color": COLOURS["drift"], "dash": "dash"})
    fig.update_xaxes(type="category")
    return fig


def performance_figure(report: Any, metric: str = "fpr") -> Any:
    """A performance metric per window against the reference level."""
    fig = base_figure(f"{metric} per window (dashed: reference)")
    keys = [short_key(w.key) for w in report.windows if w.performance]
    values = [w.performance.get(metric) for w in report.windows if w.performance]
    if not keys:
        return empty(fig, "no labels in the current data: no performance over time")
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
            f'<polyline fill="none" stroke="{COLOURS["line"]}" stroke-width="1.5" '
            f'points="{line}"/></svg>')


def round_floats(obj: Any, digits: int = 5) -> Any:
    """Floats to ``digits`` significant digits (keeps saved notebooks small)."""
    if isinstance(obj, float):
        return float(f"{obj:.{digits}g}")
    if isinstance(obj, list):
        return [round_floats(v, digits) for v in obj]
    if isinstance(obj, dict):
        return {k: round_floats(v, digits) for k, v in obj.items()}
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


def feature_figure(f: Any) -> Any:
    """Reference vs current bin shares (+ both ECDFs for numeric features), side by side."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from nbmlops._html import fmt

    numeric = f.ecdf is not None
    fig = make_subplots(rows=1, cols=2 if numeric else 1,
                        subplot_titles=("share per bin", "ECDF") if numeric else ("share per bin",))
    colour = status_colour(f.status)
    if f.bins is not None:
        fig.add_bar(x=f.bins.labels, y=_shares(f.bins.ref_counts), name="reference",
                    marker_color=REF_COLOUR, row=1, col=1)
        fig.add_bar(x=f.bins.labels, y=_shares(f.bins.cur_counts), name="current",
                    marker_color=colour, row=1, col=1, customdata=f.bins.psi_contrib,
                    hovertemplate="%{x}: %{y:.3f} (PSI term %{customdata:.4f})<extra></extra>")
    if numeric:
        fig.add_trace(go.Scatter(x=f.ecdf["x"], y=f.ecdf["ref"], name="reference ECDF",
                                 line={"color": REF_COLOUR, "shape": "hv"}), row=1, col=2)
        fig.add_trace(go.Scatter(x=f.ecdf["x"], y=f.ecdf["cur"], name="current ECDF",
                                 line={"color": colour, "shape": "hv"}), row=1, col=2)
    fig.update_layout(height=300, margin={"l": 40, "r": 10, "t": 40, "b": 60},
                      barmode="group", showlegend=False,
                      title=f"{f.name} — {f.status} ({f.effect_name}={fmt(f.effect)})")
    return fig


def window_heatmap(report: Any) -> Any | None:
    """Heatmap of effect / threshold per feature (rows) and window (columns); None: no windows."""
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


def panel_heatmap(report: Any) -> Any | None:
    """:func:`window_heatmap` styled for the panel (short window keys, most drifted on top)."""
    fig = window_heatmap(report) if len(report.windows) > 1 else None
    if fig is None:
        return None
    fig.update_layout(template="none", plot_bgcolor="white", font={"size": 11},
                      height=min(fig.layout.height, 500))
    keys = [w.key for w in report.windows]
    fig.update_xaxes(type="category", tickvals=keys, ticktext=[short_key(k) for k in keys])
    fig.update_yaxes(autorange="reversed")  # most drifted on top, as in the table
    return fig


def evidence_figure(report: Any, top: int = 5) -> Any:
    """Sequential evidence ``S_t`` per window of the ``top`` streams, with ``h`` and the onsets.

    A shaded band runs from the window where a stream's evidence started
    building to the window where it crossed ``h`` (:func:`nbmlops.drift.sequential.onsets`).
    """
    from nbmlops.drift.sequential import STREAM_MV, onsets, threshold

    fig = base_figure("sequential evidence per window (dashed: alarm level h)")
    wins = [w for w in report.windows if w.evidence]
    if len(wins) < 2:
        return empty(fig, "fewer than two windows: no evidence over time")
    keys = [short_key(w.key) for w in wins]
    streams = sorted(wins[-1].evidence, key=lambda n: -max(w.evidence.get(n, 0) for w in wins))
    for n in streams[:top]:
        fig.add_scatter(x=keys, y=[w.evidence.get(n) for w in wins], mode="lines+markers",
                        name="multivariate" if n == STREAM_MV else n,
                        hovertemplate="%{x}: S=%{y:.2f}<extra>" + n + "</extra>")
    h = threshold(report.config.sequential_rate, len(streams))
    fig.add_scatter(x=[keys[0], keys[-1]], y=[h, h], mode="lines", name=f"h = {h:.1f}",
                    line={"color": COLOURS["drift"], "dash": "dash"})
    for o in onsets(report.windows):
        if o["since"] and o["crossed"]:
            fig.add_vrect(x0=short_key(o["since"]), x1=short_key(o["crossed"]),
                          fillcolor=COLOURS["warn"], opacity=0.15, line_width=0)
    fig.update_xaxes(type="category")
    return fig


def multivariate_figure(report: Any) -> Any:
    """PCA reconstruction error per window against the reference's (markers: fired or not)."""
    fig = base_figure("multivariate: reconstruction error per window (dashed: reference)")
    wins = [w for w in report.windows if w.multivariate]
    if not wins:
        return empty(fig, "no multivariate signal (fewer than two numeric features, or off)")
    keys = [short_key(w.key) for w in wins]
    fired = ["drift" if any(s.startswith("multivariate") for s in w.signals) else "ok"
             for w in wins]
    fig.add_scatter(x=keys, y=[w.multivariate["error"] for w in wins], mode="lines+markers",
                    name="error", line_color=COLOURS["line"],
                    marker={"color": [status_colour(s) for s in fired], "size": 9},
                    text=[f"z={w.multivariate['z']:.1f}" for w in wins],
                    hovertemplate="%{x}: %{y:.3f} (%{text})<extra></extra>")
    ref = wins[0].multivariate["reference"]
    fig.add_scatter(x=[keys[0], keys[-1]], y=[ref, ref], mode="lines", name=f"reference {ref:.3g}",
                    line={"color": REF_COLOUR, "dash": "dash"})
    fig.update_xaxes(type="category")
    return fig
