"""MLflow records of batch runs and sweeps (explicit client, thread-safe).

The fluent ``mlflow.start_run`` API keeps one active run per thread and
process; sweeps run several notebooks at once from threads, so everything
here goes through :class:`mlflow.MlflowClient` with explicit run ids.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig

_MAX_PARAM = 6000


class Recorder:
    """Create, fill and close MLflow runs in one experiment."""

    def __init__(self, config: NbmlopsConfig, experiment: str | None = None) -> None:
        import mlflow

        from nbmlops.tracking.store import use_store

        self.experiment_id = use_store(config, experiment)
        self.client = mlflow.MlflowClient(config.tracking_uri)

    def start(self, name: str, tags: dict[str, str], parent_run_id: str | None = None) -> str:
        """Create a RUNNING run and return its id."""
        tags = dict(tags)
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
        return str(run.info.run_id)

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """Log parameters (lists/dicts as JSON text)."""
        from mlflow.entities import Param

        items = [Param(k, param_text(v)) for k, v in params.items()]
        if items:
            self.client.log_batch(run_id, params=items)

    def log_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        """Log final metric values."""
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
        if items:
            self.client.log_batch(run_id, metrics=items)

    def finish(self, run_id: str, status: str, tags: dict[str, str] | None = None,
               artifacts: list[Path] | None = None) -> None:
        """Attach artifacts and tags, then end the run with ``status``."""
        for path in artifacts or []:
            if path.is_file():
                self.client.log_artifact(run_id, str(path))
        for key, value in (tags or {}).items():
            self.client.set_tag(run_id, key, value[:5000])
        self.client.set_terminated(run_id, status)

    def children(self, run_id: str) -> list[Any]:
        """Runs tagged with ``run_id`` as their parent, oldest first."""
        runs = self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
            order_by=["attributes.start_time ASC"],
        )
        return list(runs)

    def child_metrics(self, run_id: str) -> tuple[dict[str, float], list[str]]:
        """Metrics of the child runs (later runs win) and their ids."""
        metrics: dict[str, float] = {}
        ids = []
        for run in self.children(run_id):
            ids.append(run.info.run_id)
            metrics.update(run.data.metrics)
        return metrics, ids


def param_text(value: Any) -> str:
    """A parameter value as MLflow text."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _MAX_PARAM else text[: _MAX_PARAM - 3] + "..."


def read_metrics(path: Path) -> dict[str, float]:
    """Numeric values of a ``metrics.json`` (nested keys joined with ``.``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, float] = {}
    _flatten("", data, out)
    return out


def _flatten(prefix: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value) and prefix):
        out[prefix] = float(value)
