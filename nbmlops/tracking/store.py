"""Connect to the configured MLflow store (shared by every area that logs).

``use_store(config)`` points MLflow at ``config.tracking_uri`` and makes sure
the experiment exists with its artifacts under ``config.artifact_root`` (for
the embedded SQLite default MLflow would otherwise put them in ``./mlruns``
relative to whatever the working directory happens to be).
"""

from __future__ import annotations

from pathlib import Path

from nbmlops.config import NbmlopsConfig

#: MLflow loggers whose INFO lines ("Creating initial MLflow database tables...",
#: alembic migrations) would land in the user's cell output on a new SQLite store
_NOISY_LOGGERS = ("mlflow.store.db.utils", "alembic.runtime.migration", "alembic")


def quiet_store_logs() -> None:
    """Keep MLflow's store-creation INFO lines out of notebook cells (warnings stay)."""
    import logging

    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def use_store(config: NbmlopsConfig, experiment: str | None = None) -> str:
    """Point MLflow at the configured store and return the experiment id.

    Parameters
    ----------
    config
        The resolved configuration.
    experiment
        Experiment name; default ``config.experiment``.

    Returns
    -------
    str
        The MLflow experiment id (created when missing).
    """
    import mlflow

    quiet_store_logs()
    mlflow.set_tracking_uri(config.tracking_uri)
    name = experiment or config.experiment
    client = mlflow.MlflowClient()
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        mlflow.set_experiment(experiment_id=exp.experiment_id)
        return str(exp.experiment_id)
    location = None
    if not config.tracking_uri.startswith(("http://", "https://", "databricks")):
        location = Path(config.artifact_root, name).resolve().as_uri()
    exp_id = client.create_experiment(name, artifact_location=location)
    mlflow.set_experiment(experiment_id=exp_id)
    return str(exp_id)
