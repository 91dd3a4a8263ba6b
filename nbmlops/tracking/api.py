"""Plain-Python tracking API (what ``%mlops`` and ``nbmlops`` call).

``nbmlops.log_metric``/``log_metrics``/``log_params`` add to the run of the
``%%mlops run`` cell that is executing. **Outside such a cell they raise**
:class:`~nbmlops.exceptions.TrackingError` rather than silently starting a
run nobody ends (the classic "Run ... is already active" trap). Values are
kept with the run and written in one batch when the cell ends, so a loop
logging thousands of points costs one round-trip.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from nbmlops.config import NbmlopsConfig, check_keys, load_config, set_session
from nbmlops.exceptions import TrackingError, UsageArgumentError
from nbmlops.run_record import RunRecord
from nbmlops.tracking.current import current_record
from nbmlops.tracking.lifecycle import capture_run
from nbmlops.tracking.results import CellRunResult

__all__ = ["CellRunResult", "capture_run", "init", "log_metric", "log_metrics", "log_params"]


def init(experiment: str | None = None, tracking_uri: str | None = None,
         **config: Any) -> NbmlopsConfig:
    """Set the experiment, store and other settings for this session.

    The settings are the session layer of :func:`nbmlops.config.load_config`:
    snapshots, pipelines, drift and tracking all see them. Optional: without
    it runs go to the embedded SQLite store ``mlflow.db``
    at the project root, experiment = the project folder's name.

    Parameters
    ----------
    experiment
        MLflow experiment for the following runs.
    tracking_uri
        MLflow tracking URI (``sqlite:///...``, ``http://host:5000`` ...).
    **config
        Any other :class:`~nbmlops.config.NbmlopsConfig` key (``autolog=False``...).

    Returns
    -------
    NbmlopsConfig
        The resolved configuration the next runs use.

    Examples
    --------
    >>> import nbmlops
    >>> nbmlops.init(experiment="fraud").experiment
    'fraud'
    """
    given = {"experiment": experiment, "tracking_uri": tracking_uri, **config}
    given = {k: v for k, v in given.items() if v is not None}
    check_keys(given, where="nbmlops.init()")
    if "experiment" in given and not str(given["experiment"]).strip():
        raise UsageArgumentError("experiment must not be empty.", parameter="experiment")
    set_session(**given)
    return load_config()


def _run(what: str) -> RunRecord:
    run = current_record()
    if run is None:
        raise TrackingError(
            f"nbmlops.{what}() logs to the run of a '%%mlops run' cell; no such cell is "
            "executing. Put '%%mlops run' atop the cell (or use nbmlops.capture_run)."
        )
    return run


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise UsageArgumentError(
            f"metric {name!r} must be a real number, got {type(value).__name__}.", parameter=name
        )
    return float(value)


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Log one metric value to the current ``%%mlops run`` cell's run.

    Parameters
    ----------
    name
        Metric key.
    value
        A real number (Python or numpy; not a bool).
    step
        Step index for curves (default 0).

    Raises
    ------
    TrackingError
        When no ``%%mlops run`` cell is executing.
    """
    run = _run("log_metric")
    v = _number(name, value)
    if math.isinf(v):
        v = math.copysign(1.7976931348623157e308, v)
    run.add_metric(name, v, step)


def log_metrics(metrics: dict[str, float], step: int | None = None) -> None:
    """Log several metrics at once (see :func:`log_metric`)."""
    run = _run("log_metrics")
    values = {k: _number(k, v) for k, v in metrics.items()}
    for key, value in values.items():
        run.add_metric(key, value, step)


def log_params(params: dict[str, Any]) -> None:
    """Add params to the current ``%%mlops run`` cell's run (values become strings)."""
    from nbmlops.tracking.secrets import is_secret_name, redact

    run = _run("log_params")
    for key, value in params.items():
        if is_secret_name(key):
            continue
        run.params[str(key)] = redact(str(value))[:6000]
