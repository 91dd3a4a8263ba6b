"""Static HTML for runs: the card under a ``%%mlops run`` cell and ``%mlops runs``.

Plain HTML with inline styles (no JavaScript, no server), so it survives
nbconvert and renders in JupyterLab, VS Code and on GitHub; every bundle also
has a ``text/plain`` fallback.
"""

from __future__ import annotations

import html
from typing import Any

from nbmlops.tracking.ranking import higher_is_better

_STATUS_COLOUR = {"FINISHED": "#1a7f37", "FAILED": "#cf222e", "KILLED": "#9a6700",
                  "RUNNING": "#0969da"}
_BOX = ("font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;"
        "border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:4px 0;"
        "max-width:760px")
_TD = "padding:2px 8px;border-bottom:1px solid #eaeef2;text-align:left"


def _e(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.6g}"


def run_url(ui_url: str | None, experiment_id: str | None, run_id: str) -> str | None:
    """Link to a run in the MLflow UI (``None`` without a UI or experiment id)."""
    if not ui_url or not experiment_id:
        return None
    return f"{ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def _delta(now: float, then: float | None) -> tuple[str, str]:
    if then is None:
        return "–", "#57606a"
    d = now - then
    if d == 0:
        return "±0", "#57606a"
    return f"{d:+.4g}", "#57606a"


def _coloured_delta(metric: str, now: float, then: float | None,
                    higher: bool | None = None) -> str:
    text, colour = _delta(now, then)
    if then is not None and now != then:
        better = (now > then) == (higher_is_better(metric) if higher is None else higher)
        colour = "#1a7f37" if better else "#cf222e"
    return f'<span style="color:{colour}">{_e(text)}</span>'


def _direction(result: Any, metric: str) -> bool | None:
    """The configured direction for the primary metric, else ``None`` (guess by name)."""
    return result.best_higher if metric == result.best_metric else None


def card_rows(result: Any) -> list[tuple[str, float, float | None, float | None]]:
    """``(metric, value, previous value, best run's value)`` for each metric."""
    prev = (result.previous or {}).get("metrics", {})
    best = (result.best or {}).get("metrics", {})
    lead = result.best_metric
    order = sorted(result.metrics.items(), key=lambda kv: (kv[0] != lead, kv[0]))
    return [(k, v, prev.get(k), best.get(k)) for k, v in order]


def render_run_card(result: Any) -> dict[str, str]:
    """The run card of a :class:`~nbmlops.tracking.results.CellRunResult` as a mimebundle."""
    return {"text/html": run_card_html(result), "text/plain": run_card_text(result)}


def run_card_html(result: Any) -> str:
    """HTML of the run card."""
    colour = _STATUS_COLOUR.get(result.status, "#57606a")
    url = run_url(result.ui_url, result.experiment_id, result.run_id)
    name = _e(result.run_name or result.run_id[:8])
    title = f'<a href="{_e(url)}" target="_blank">{name}</a>' if url else f"<b>{name}</b>"
    head = (
        f'<div style="margin-bottom:4px">{title} '
        f'<span style="background:{colour};color:#fff;border-radius:10px;padding:0 7px;'
        f'font-size:11px">{_e(result.status)}</span> '
        f'<span style="color:#57606a">run <code>{_e(result.run_id)}</code> · experiment '
        f'<b>{_e(result.experiment)}</b> · {result.duration:.2f}s</span></div>'
    )
    parts = [head]
    if result.spooled:
        parts.append('<div style="color:#9a6700">⚠ tracking store unreachable: run kept '
                     "locally, <code>%mlops sync</code> uploads it.</div>")
    if result.error is not None:
        parts.append(f'<div style="color:#cf222e">{_e(type(result.error).__name__)}: '
                     f"{_e(str(result.error)[:300])} (traceback saved with the run)</div>")
    if result.metrics:
        prev_name = (result.previous or {}).get("run_name") or "previous run of this cell"
        best_name = (result.best or {}).get("run_name") or "best run"
        rows = "".join(
            f'<tr><td style="{_TD}">{_e(k)}</td><td style="{_TD}"><b>{_fmt(v)}</b></td>'
            f'<td style="{_TD}">{_coloured_delta(k, v, p, _direction(result, k))}</td>'
            f'<td style="{_TD}">{_coloured_delta(k, v, b, _direction(result, k))}</td></tr>'
            for k, v, p, b in card_rows(result)
        )
        parts.append(
            '<table style="border-collapse:collapse;margin:4px 0"><tr>'
            f'<th style="{_TD}">metric</th><th style="{_TD}">value</th>'
            f'<th style="{_TD}">Δ vs {_e(prev_name)}</th>'
            f'<th style="{_TD}">Δ vs {_e(best_name)} (best {_e(result.best_metric or "")})</th>'
            f"</tr>{rows}</table>"
        )
    if result.params:
        items = list(result.params.items())
        shown = ", ".join(f"<code>{_e(k)}={_e(v[:40])}</code>" for k, v in items[:30])
        more = f" … and {len(items) - 30} more" if len(items) > 30 else ""
        parts.append(f'<div style="color:#24292f">params: {shown}{more}</div>')
    if result.datasets:
        ds = ", ".join(f"<code>{_e(d['name'])}</code>@{_e(d['digest'][:8])}"
                       for d in result.datasets)
        parts.append(f'<div style="color:#57606a">data: {ds}</div>')
    if url is None and not result.spooled:
        parts.append('<div style="color:#57606a;font-size:11px">'
                     "<code>%mlops ui</code> starts the MLflow UI and links runs here.</div>")
    return f'<div class="nbmlops-run-card" style="{_BOX}">{"".join(parts)}</div>'


def run_card_text(result: Any) -> str:
    """Plain-text run card (the ``text/plain`` fallback)."""
    lines = [f"[{result.status}] {result.run_name or ''} run {result.run_id} "
             f"experiment {result.experiment} ({result.duration:.2f}s)"]
    if result.spooled:
        lines.append("  tracking store unreachable: run spooled; %mlops sync uploads it")
    for k, v, p, b in card_rows(result):
        lines.append(f"  {k} = {_fmt(v)}  (vs previous {_delta(v, p)[0]}, "
                     f"vs best {_delta(v, b)[0]})")
    if result.params:
        lines.append("  params: " + ", ".join(f"{k}={v}" for k, v in result.params.items()))
    url = run_url(result.ui_url, result.experiment_id, result.run_id)
    if url:
        lines.append(f"  {url}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- runs table
def _union(lists: list[list[str]]) -> list[str]:
    out: list[str] = []
    for names in lists:
        out += [n for n in names if n not in out]
    return out


def _columns(table: Any) -> tuple[list[str], list[str]]:
    """``(params, metrics)`` shown: the user's own (primary metric first); autolog's with --all."""
    rows = table.rows
    params = _union([r.get("own_params", list(r["params"])) for r in rows])
    metrics = _union([r.get("own_metrics", list(r["metrics"])) for r in rows])
    if table.metric in metrics:
        metrics = [table.metric, *[m for m in metrics if m != table.metric]]
    if not getattr(table, "show_all", False):
        return params[:12], metrics[:12]
    params += [p for p in _union([list(r["params"]) for r in rows]) if p not in params]
    metrics += [m for m in _union([list(r["metrics"]) for r in rows]) if m not in metrics]
    return params, metrics


def _hidden(table: Any, params: list[str], metrics: list[str]) -> int:
    every = _union([[*r["params"], *r["metrics"]] for r in table.rows])
    return len([n for n in every if n not in params and n not in metrics])


def _label(row: dict[str, Any]) -> str:
    return str(row["run_name"] or row["run_id"][:8])


#: what an experiment without runs shows instead of an empty table
NO_RUNS = ("no runs yet: a `%%mlops run` cell, `nbmlops run NOTEBOOK` or "
           "`nbmlops.capture_run` makes one")


def render_runs(table: Any) -> dict[str, str]:
    """Mimebundle (HTML + text) of a :class:`~nbmlops.tracking.results.RunsTable`."""
    if not table.rows:
        text = f"experiment {table.experiment}: {NO_RUNS}"
        return {"text/html": f'<div class="nbmlops-runs" style="{_BOX}">{_e(text)}</div>',
                "text/plain": text}
    params, metrics = _columns(table)
    head = "".join(f'<th style="{_TD}">{_e(h)}</th>' for h in
                   ["run", "status", *metrics, *params, "duration (s)", "start"])
    body = []
    for row in table.rows:
        url = run_url(table.ui_url, table.experiment_id, row["run_id"])
        label = _e(_label(row))
        name = f'<a href="{_e(url)}" target="_blank">{label}</a>' if url else label
        colour = _STATUS_COLOUR.get(row["status"], "#57606a")
        cells = [name, f'<span style="color:{colour}">{_e(row["status"])}</span>']
        cells += [_fmt(row["metrics"].get(m)) for m in metrics]
        cells += [_e(row["params"].get(p, "")) for p in params]
        cells += [_e(row["duration_s"] if row["duration_s"] is not None else "–"),
                  _e(row["start"])]
        body.append("<tr>" + "".join(f'<td style="{_TD};white-space:nowrap">{c}</td>'
                                     for c in cells) + "</tr>")
    html_text = (
        f'<div class="nbmlops-runs" style="{_BOX};max-width:100%;overflow-x:auto">'
        f"<div><b>{_e(table.experiment)}</b>: {len(table.rows)} run(s), newest first"
        f"{_e(_more_note(table, params, metrics))}</div>"
        f'<table style="border-collapse:collapse"><tr>{head}</tr>{"".join(body)}</table></div>'
    )
    return {"text/html": html_text, "text/plain": runs_text(table)}


def _more_note(table: Any, params: list[str], metrics: list[str]) -> str:
    hidden = _hidden(table, params, metrics)
    return f" ({hidden} autologged column(s) hidden: --all shows them)" if hidden else ""


def runs_text(table: Any) -> str:
    """Plain-text runs table: name, status, the user's metrics, then params; aligned."""
    if not table.rows:
        return f"experiment {table.experiment}: {NO_RUNS}"
    params, metrics = _columns(table)
    header = ["run", "status", *metrics, *params, "duration_s"]
    rows = [[_label(r), r["status"],
             *[_fmt(r["metrics"].get(m)) for m in metrics],
             *[_short(r["params"].get(p, "")) for p in params],
             "–" if r["duration_s"] is None else f"{r['duration_s']:.1f}"] for r in table.rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    note = _more_note(table, params, metrics).strip(" ()")
    return "\n".join([f"experiment {table.experiment}: {len(rows)} run(s), newest first",
                      *(fmt.format(*line).rstrip() for line in [header, *rows]),
                      *([note] if note else [])])


def _short(value: str, limit: int = 16) -> str:
    return value if len(value) <= limit else value[:limit - 1] + "…"


def runs_chart(table: Any, metric: str | None, param: str | None) -> Any:
    """Plotly scatter of ``metric`` (y) against ``param`` (x), one point per run."""
    import plotly.graph_objects as go

    xs, ys, labels = [], [], []
    for row in table.rows:
        if metric in row["metrics"] and (param is None or param in row["params"]):
            raw = row["params"].get(param, row["run_name"]) if param else row["run_name"]
            try:
                x: Any = float(raw)
            except (TypeError, ValueError):
                x = raw
            xs.append(x)
            ys.append(row["metrics"][metric])
            labels.append(row["run_name"] or row["run_id"][:8])
    fig = go.Figure(go.Scatter(x=xs, y=ys, mode="markers", text=labels,
                               hovertemplate="%{text}<br>%{x} → %{y}<extra></extra>"))
    fig.update_layout(title=f"{metric} vs {param or 'run'} ({table.experiment})",
                      xaxis_title=param or "run", yaxis_title=metric, height=360,
                      margin={"l": 50, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return fig
