"""Helpers shared by the tracking tests."""

from __future__ import annotations

from typing import Any


def all_runs(client: Any) -> list[Any]:
    """Every run of every experiment, newest first."""
    exps = [e.experiment_id for e in client.search_experiments()]
    return client.search_runs(exps, order_by=["attributes.start_time DESC"]) if exps else []


def artifact_text(client: Any, run_id: str, path: str) -> str:
    """Text of one artifact of a run."""
    import mlflow.artifacts

    return mlflow.artifacts.load_text(f"{client.get_run(run_id).info.artifact_uri}/{path}")
