"""The validation gate's result: table per metric × slice, verdict, forest plot, exports."""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_COLORS = {"pass": "#1a7f37", "fail": "#cf222e", "too small": "#9a6700", "undefined": "#9a6700",
           "info": "#57606a"}


@dataclass
class Row:
    """One metric on one slice."""

    metric: str
    slice: str
    n: int
    champion: float
    candidate: float
    delta: float
    lo: float | None
    hi: float | None
    status: str  # pass | fail | too small | undefined | info (no rule)
    rule: str = ""
    failed: list[str] = field(default_factory=list)


@dataclass
class ValidationResult:
    """What ``nbmlops.models.validate`` found; renders as a table and a forest plot.

    Attributes
    ----------
    candidate, champion
        ``{"name", "version", "uri"}`` of both models.
    data
        The holdout's label (``holdout@2``, a file path, ``dataframe:<digest>``).
    verdict
        ``pass`` or ``fail``; ``exit_code`` 0 or 1.
    rows
        One :class:`Row` per metric × slice.
    """

    candidate: dict[str, str]
    champion: dict[str, str]
    data: str
    target: str
    task: str
    threshold: float
    n_rows: int
    n_boot: int
    ci: bool
    rows: list[Row]
    verdict: str = "pass"
    reason: str = ""
    exit_code: int = 0
    id: str = ""
    audit_seq: int | None = None

    @property
    def failures(self) -> list[Row]:
        """Rows whose rule failed."""
        return [r for r in self.rows if r.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (NaN as null)."""
        return _clean(asdict(self))

    def to_json(self) -> str:
        """The result as JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def summary(self) -> str:
        """One line: verdict and reason."""
        return (f"{self.verdict.upper()}: {self.candidate['name']} v{self.candidate['version']} "
                f"vs v{self.champion['version']} on {self.data}: {self.reason}")

    def to_text(self) -> str:
        """Plain-text table (the CLI's output)."""
        lines = [self.summary(), "",
                 f"{'metric':<10} {'slice':<28} {'n':>7} {'champion':>9} {'candidate':>9} "
                 f"{'delta':>8} {'95% CI':>19}  status"]
        for r in self.rows:
            ci = "" if r.lo is None else f"[{_f(r.lo)}, {_f(r.hi)}]"
            lines.append(f"{r.metric:<10} {r.slice[:28]:<28} {r.n:>7} {_f(r.champion):>9} "
                         f"{_f(r.candidate):>9} {_f(r.delta):>8} {ci:>19}  {r.status}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """A standalone HTML table (failing cells marked)."""
        head = ("<tr><th>metric</th><th>slice</th><th>n</th><th>champion</th><th>candidate</th>"
                "<th>Δ</th><th>95% CI</th><th>rule</th><th>status</th></tr>")
        body = []
        for r in self.rows:
            ci = "" if r.lo is None else f"[{_f(r.lo)}, {_f(r.hi)}]"
            color = _COLORS.get(r.status, "#000")
            body.append(
                f"<tr><td>{html.escape(r.metric)}</td><td>{html.escape(r.slice)}</td>"
                f"<td>{r.n}</td><td>{_f(r.champion)}</td><td>{_f(r.candidate)}</td>"
                f"<td>{_f(r.delta)}</td><td>{ci}</td><td>{html.escape(r.rule)}</td>"
                f"<td style='color:{color};font-weight:bold'>{html.escape(r.status)}</td></tr>")
        color = _COLORS["pass" if self.verdict == "pass" else "fail"]
        return (f"<div class='nbmlops-validation'><p style='color:{color};font-weight:bold'>"
                f"{html.escape(self.summary())}</p><table>{head}{''.join(body)}</table></div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.to_text())

    def figure(self, metric: str | None = None) -> Any:
        """Plotly forest plot of Δ (candidate − champion) with its CI per slice and metric."""
        import plotly.graph_objects as go

        rows = [r for r in self.rows if metric in (None, r.metric) and not math.isnan(r.delta)]
        labels = [f"{r.metric} · {r.slice}" for r in rows]
        err_hi = [(r.hi - r.delta) if r.hi is not None else 0 for r in rows]
        err_lo = [(r.delta - r.lo) if r.lo is not None else 0 for r in rows]
        fig = go.Figure(go.Scatter(
            x=[r.delta for r in rows], y=labels, mode="markers",
            marker={"color": [_COLORS.get(r.status, "#000") for r in rows], "size": 9},
            error_x={"type": "data", "symmetric": False, "array": err_hi, "arrayminus": err_lo},
            text=[r.status for r in rows], hovertemplate="%{y}: Δ=%{x:.4f} (%{text})"))
        fig.add_vline(x=0, line_dash="dash", line_color="#57606a")
        fig.update_layout(title=self.summary()[:120], xaxis_title="candidate − champion",
                          height=max(300, 22 * len(rows) + 120), template="plotly_white",
                          yaxis={"autorange": "reversed"})
        return fig

    def save(self, path: str | Path) -> Path:
        """Write ``.json`` or ``.html`` (table + forest plot) by the file's suffix."""
        path = Path(path)
        if path.suffix == ".html":
            plot = self.figure().to_html(full_html=False, include_plotlyjs="cdn")
            path.write_text(f"<html><body>{self.to_html()}{plot}</body></html>",
                            encoding="utf-8")
        else:
            path.write_text(self.to_json(), encoding="utf-8")
        return path


def _f(x: float | None) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
