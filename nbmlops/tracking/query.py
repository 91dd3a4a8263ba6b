"""Read runs back: the previous run of a cell, the best run, recent runs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import TrackingError, UsageArgumentError

_LOWER_IS_BETTER = re.compile(r"(?i)(loss|err|mse|mae|rmse|mape|cost|time|latency|duration)")


def higher_is_better(metric: str) -> bool:
    """Guess a metric's direction from its name (``loss``, ``mse`` ... are minimised)."""
    return not _LOWER_IS_BETTER.search(metric)


def primary_metric(metrics: dict[str, float]) -> str | None:
    """The metric the card ranks runs by: the first one that is not a training_ metric."""
    names = [m for m in metrics if not m.startswith("training_")] or list(metrics)
    return names[0] if names else None


def _summary(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
    }


#: (tracking uri, experiment id, fingerprint) -> last run of that cell seen by this kernel
_LAST_OF_CELL: dict[tuple[str, str, str], dict[str, Any] | None] = {}


def compare(client: Any, result: Any) -> None:
    """Fill ``result.previous`` (same cell fingerprint) and ``result.best`` (experiment).

    The previous run of a cell is looked up in the store once per kernel and
    then remembered (it is almost always this kernel's own last run); the
    best run is queried every time so runs of other kernels count.
    """
    fp = result.tags.get("nbmlops.cell.fingerprint")
    exp = [result.experiment_id]
    if fp:
        key = (result.tracking_uri, str(result.experiment_id), fp)
        if key not in _LAST_OF_CELL:
            runs = client.search_runs(
                exp, filter_string=f"tags.`nbmlops.cell.fingerprint` = '{fp}'",
                order_by=["attributes.start_time DESC"], max_results=2)
            prev = [r for r in runs if r.info.run_id != result.run_id]
            _LAST_OF_CELL[key] = _summary(prev[0]) if prev else None
        result.previous = _LAST_OF_CELL[key]
        _LAST_OF_CELL[key] = {"run_id": result.run_id, "run_name": result.run_name,
                              "status": result.status, "metrics": dict(result.metrics),
                              "params": dict(result.params)}
    metric = primary_metric(result.metrics)
    if metric:
        order = "DESC" if higher_is_better(metric) else "ASC"
        runs = client.search_runs(exp, filter_string="attributes.status = 'FINISHED'",
                                  order_by=[f"metrics.`{metric}` {order}"], max_results=1)
        if runs and metric in runs[0].data.metrics:
            result.best = _summary(runs[0])
            result.best_metric = metric


@dataclass
class RunsTable:
    """Recent runs of an experiment (``%mlops runs``)."""

    experiment: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    metric: str | None = None
    param: str | None = None
    ui_url: str | None = None
    experiment_id: str | None = None

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
        from nbmlops.widgets.run_card import runs_chart

        return runs_chart(self, metric or self.metric, param or self.param)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from nbmlops.widgets.run_card import render_runs

        return render_runs(self)

    def __str__(self) -> str:
        from nbmlops.widgets.run_card import runs_text

        return runs_text(self)


def runs(experiment: str | None = None, last: int = 20, config: NbmlopsConfig | None = None,
         metric: str | None = None, param: str | None = None) -> RunsTable:
    """The last ``last`` runs of ``experiment`` with params, metrics, status, duration.

    Parameters
    ----------
    experiment
        Experiment name (default ``config.experiment``).
    last
        How many runs, newest first.
    config
        Resolved configuration.
    metric, param
        What the chart plots (default: the most common metric and the param
        with the most distinct values).

    Returns
    -------
    RunsTable
        Renders as an HTML table plus a plotly chart in a notebook.
    """
    if last < 1:
        raise UsageArgumentError(f"--last must be at least 1, got {last}.", parameter="--last")
    config = config or load_config()
    from nbmlops.mlflow_gateway import client_for, reachable

    name = experiment or config.experiment
    if not reachable(config.tracking_uri):
        raise TrackingError(f"tracking store {config.tracking_uri} is unreachable.")
    client = client_for(config.tracking_uri)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        known = [e.name for e in client.search_experiments()]
        raise TrackingError(f"no experiment {name!r} in {config.tracking_uri}. "
                            f"Known: {', '.join(known) or 'none'}.", experiment=name)
    found = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"],
                               max_results=last)
    rows = [_row(r) for r in found]
    table = RunsTable(experiment=name, rows=rows, ui_url=config.ui_url,
                      experiment_id=exp.experiment_id)
    table.metric = metric or _most_common([list(r["metrics"]) for r in rows])
    table.param = param or _most_varied(rows)
    return table


def _row(run: Any) -> dict[str, Any]:
    import datetime as dt

    info = run.info
    end = info.end_time or None
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "status": info.status,
        "start": dt.datetime.fromtimestamp(info.start_time / 1000).strftime("%Y-%m-%d %H:%M:%S"),
        "duration_s": round((end - info.start_time) / 1000, 3) if end else None,
        "params": dict(run.data.params),
        "metrics": dict(run.data.metrics),
    }


def _most_common(lists: list[list[str]]) -> str | None:
    counts: dict[str, int] = {}
    for names in lists:
        for n in names:
            counts[n] = counts.get(n, 0) + 1
    if not counts:
        return None
    return max(counts, key=lambda n: (counts[n], not n.startswith("training_")))


def _most_varied(rows: list[dict[str, Any]]) -> str | None:
    values: dict[str, set[str]] = {}
    for row in rows:
        for k, v in row["params"].items():
            values.setdefault(k, set()).add(v)
    if not values:
        return None
    return max(values, key=lambda k: len(values[k]))
