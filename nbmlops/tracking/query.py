"""Read runs back: the previous run of a cell, the best run, recent runs."""

from __future__ import annotations

from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.exceptions import TrackingError, UsageArgumentError
from nbmlops.tracking.ranking import own_names, primary
from nbmlops.tracking.results import CellRunResult, RunsTable
from nbmlops.tracking.session import SESSION


def _summary(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
    }


def attach_comparisons(client: Any, result: CellRunResult, spec: str | None = None) -> None:
    """Fill ``result.previous`` (same cell fingerprint) and ``result.best`` (experiment).

    ``spec`` is the ``primary_metric`` setting (``"max:auc"``...): the best run
    is the finished run with the best value of that metric.

    The previous run of a cell is looked up in the store once per kernel and
    then remembered (it is almost always this kernel's own last run); the
    best run is queried every time so runs of other kernels count.
    """
    fp = result.tags.get("nbmlops.cell.fingerprint")
    exp = [result.experiment_id]
    seen = SESSION.last_of_cell
    if fp:
        key = (result.tracking_uri, str(result.experiment_id), fp)
        if key not in seen:
            runs = client.search_runs(
                exp, filter_string=f"tags.`nbmlops.cell.fingerprint` = '{fp}'",
                order_by=["attributes.start_time DESC"], max_results=2)
            prev = [r for r in runs if r.info.run_id != result.run_id]
            seen[key] = _summary(prev[0]) if prev else None
        result.previous = seen[key]
        seen[key] = {"run_id": result.run_id, "run_name": result.run_name,
                     "status": result.status, "metrics": dict(result.metrics),
                     "params": dict(result.params)}
    chosen = primary(result.metrics, spec)
    if chosen is not None:
        metric = chosen.name
        order = "DESC" if chosen.higher else "ASC"
        runs = client.search_runs(exp, filter_string="attributes.status = 'FINISHED'",
                                  order_by=[f"metrics.`{metric}` {order}"], max_results=1)
        result.best_metric, result.best_higher = metric, chosen.higher
        if runs and metric in runs[0].data.metrics:
            result.best = _summary(runs[0])


def runs(experiment: str | None = None, last: int = 20, config: NbmlopsConfig | None = None,
         metric: str | None = None, param: str | None = None,
         show_all: bool = False) -> RunsTable:
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
        What the chart plots (default: the ``primary_metric`` setting, else
        the cell's first metric; the user's param with the most distinct values).
    show_all
        Also show the params and metrics MLflow's autolog recorded (by
        default only the user's own: cell literals, injected parameters,
        ``--seed``, and the metrics the cell assigned).

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
    if exp is None and experiment is None:  # the project's own experiment: no run made it yet
        return RunsTable(experiment=name, ui_url=config.ui_url, show_all=show_all)
    if exp is None:
        known = [e.name for e in client.search_experiments()]
        raise TrackingError(f"no experiment {name!r} in {config.tracking_uri}. "
                            f"Known: {', '.join(known) or 'none'}.", experiment=name)
    found = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"],
                               max_results=last)
    rows = [_row(r) for r in found]
    table = RunsTable(experiment=name, rows=rows, ui_url=config.ui_url,
                      experiment_id=exp.experiment_id, show_all=show_all)
    chosen = primary(_most_common([r["own_metrics"] for r in rows]), config.primary_metric)
    table.metric = metric or (chosen.name if chosen else None)
    table.higher = chosen.higher if chosen and table.metric == chosen.name else None
    table.param = param or _most_varied(rows)
    return table


def _row(run: Any) -> dict[str, Any]:
    import datetime as dt

    info = run.info
    end = info.end_time or None
    params = dict(run.data.params)
    seed = run.data.tags.get("nbmlops.seed")
    if seed is not None and "seed" not in params:
        params = {"seed": seed, **params}
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "status": info.status,
        "start": dt.datetime.fromtimestamp(info.start_time / 1000).strftime("%Y-%m-%d %H:%M:%S"),
        "duration_s": round((end - info.start_time) / 1000, 3) if end else None,
        "params": params,
        "metrics": dict(run.data.metrics),
        "own_params": list(dict.fromkeys(
            (["seed"] if seed is not None else []) + own_names(
                run.data.tags.get("nbmlops.params"), params))),
        "own_metrics": own_names(run.data.tags.get("nbmlops.metrics"), run.data.metrics),
    }


def _most_common(lists: list[list[str]]) -> list[str]:
    """Metric names, most common first (ties: first seen), autologged ``training_`` last."""
    counts: dict[str, int] = {}
    for names in lists:
        for n in names:
            counts[n] = counts.get(n, 0) + 1
    return sorted(counts, key=lambda n: (n.startswith("training_"), -counts[n]))


def _most_varied(rows: list[dict[str, Any]]) -> str | None:
    """The user's param with the most distinct values (first seen wins a tie)."""
    values: dict[str, set[str]] = {}
    for row in rows:
        for k in row["own_params"]:
            values.setdefault(k, set()).add(row["params"][k])
    if not values:
        return None
    return max(values, key=lambda k: len(values[k]))
