"""What the tracking area hands back: one cell's run, a table of recent runs.

Both render themselves in a notebook through :mod:`nbmlops.tracking.render`
(static HTML plus ``text/plain``); nothing here needs IPython.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nbmlops.tracking import render


@dataclass
class CellRunResult:
    """The outcome of one captured cell run (rendered as the run card)."""

    run_id: str
    status: str
    experiment: str
    tracking_uri: str
    run_name: str | None = None
    experiment_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    duration: float = 0.0
    spooled: bool = False
    error: BaseException | None = None
    previous: dict[str, Any] | None = None
    best: dict[str, Any] | None = None
    best_metric: str | None = None
    best_higher: bool | None = None
    ui_url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (the exception as its repr)."""
        d = {k: v for k, v in self.__dict__.items() if k != "error"}
        d["error"] = repr(self.error) if self.error is not None else None
        return d

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return render.render_run_card(self)


@dataclass
class RunsTable:
    """Recent runs of an experiment (``%mlops runs``)."""

    experiment: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    metric: str | None = None
    param: str | None = None
    ui_url: str | None = None
    experiment_id: str | None = None
    show_all: bool = False
    higher: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {"experiment": self.experiment, "rows": self.rows, "metric": self.metric,
                "param": self.param}

    def to_pandas(self) -> Any:
        """One row per run: id, name, status, duration, then params and metrics."""
        import pandas as pd

        flat = []
        for row in self.rows:
            item = {k: row[k] for k in ("run_id", "run_name", "status", "start", "duration_s")}
            item.update({f"param.{k}": v for k, v in row["params"].items()})
            item.update({f"metric.{k}": v for k, v in row["metrics"].items()})
            flat.append(item)
        return pd.DataFrame(flat)

    def chart(self, metric: str | None = None, param: str | None = None) -> Any:
        """A plotly figure of ``metric`` against ``param`` (defaults picked from the runs)."""
        return render.runs_chart(self, metric or self.metric, param or self.param)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return render.render_runs(self)

    def __str__(self) -> str:
        return render.runs_text(self)
