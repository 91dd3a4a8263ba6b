"""Connect to the configured MLflow store (shared by every area that logs).

``use_store(config)`` points MLflow at ``config.tracking_uri`` and makes sure
the experiment exists with its artifacts under ``config.artifact_root`` (for
the embedded SQLite default MLflow would otherwise put them in ``./mlruns``
relative to whatever the working directory happens to be).
"""

from __future__ import annotations

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

    from nbmlops.tracking.writer import client_for, ensure_experiment

    client = client_for(config.tracking_uri)  # also quiets store-creation logs
    mlflow.set_tracking_uri(config.tracking_uri)
    exp_id = ensure_experiment(client, experiment or config.experiment, config.artifact_root)
    mlflow.set_experiment(experiment_id=exp_id)
    return exp_id
