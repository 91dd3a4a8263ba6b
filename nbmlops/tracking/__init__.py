"""Experiment runs into MLflow: the engine behind ``%%mlops run`` and :func:`nbmlops.capture_run`.

The public face of the area (every area's ``__init__`` is one, the same way):
the names below resolve lazily on first use, so importing the area stays cheap.
Everything else in the subpackage is internal and may move.

>>> from nbmlops.tracking import capture_run, runs        # doctest: +SKIP
"""

from __future__ import annotations

from nbmlops._lazy import lazy_face

_LAZY: dict[str, str] = {
    "init": "nbmlops.tracking.api:init",
    "capture_run": "nbmlops.tracking.lifecycle:capture_run",
    "log_metric": "nbmlops.tracking.api:log_metric",
    "log_metrics": "nbmlops.tracking.api:log_metrics",
    "log_params": "nbmlops.tracking.api:log_params",
    "active_run_id": "nbmlops.tracking.current:active_run_id",
    "log_dataset": "nbmlops.tracking.current:log_dataset",
    "runs": "nbmlops.tracking.query:runs",
    "sync": "nbmlops.tracking.spool:sync",
    "start_ui": "nbmlops.tracking.ui:start_ui",
    "owner_tags": "nbmlops.tracking.context:owner_tags",
    "reap_dead_runs": "nbmlops.tracking.reaper:reap_dead_runs",
    "CellRunResult": "nbmlops.tracking.results:CellRunResult",
    "RunsTable": "nbmlops.tracking.results:RunsTable",
    "SyncResult": "nbmlops.tracking.spool:SyncResult",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
