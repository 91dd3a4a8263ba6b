"""nbmlops: the whole MLOps loop inside the Jupyter notebook.

Load the magics with ``%load_ext nbmlops``; everything they do is also a plain
Python function importable from this package, e.g. :func:`nbmlops.snapshot`.

Heavy back-ends (MLflow, DVC, papermill, plotly) are imported lazily, on first
use, so ``import nbmlops`` and ``%load_ext nbmlops`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbmlops._lazy import lazy_face
from nbmlops._version import __version__ as __version__

# public name -> "module:attribute" (resolved on first access, PEP 562)
_LAZY: dict[str, str] = {
    "init": "nbmlops.tracking.api:init",
    "log_metric": "nbmlops.tracking.api:log_metric",
    "log_metrics": "nbmlops.tracking.api:log_metrics",
    "log_params": "nbmlops.tracking.api:log_params",
    "capture_run": "nbmlops.tracking.api:capture_run",
    "sync": "nbmlops.tracking.spool:sync",
    "snapshot": "nbmlops.versioning.api:snapshot",
    "load": "nbmlops.versioning.api:load",
    "snapshots": "nbmlops.versioning.api:snapshots",
    "diff": "nbmlops.versioning.api:diff",
    "run_notebook": "nbmlops.pipeline.runner:run_notebook",
    "sweep": "nbmlops.pipeline.sweep:sweep",
    "export": "nbmlops.pipeline.export:export",
    "drift_panel": "nbmlops.widgets.drift:drift_panel",
    "load_config": "nbmlops.config:load_config",
    "NbmlopsError": "nbmlops.exceptions:NbmlopsError",
}
_SUBMODULES = {"drift", "tracking", "versioning", "pipeline", "widgets", "config", "exceptions",
               "serving", "registry"}
#: other names of submodules: ``nbmlops.models`` is ``nbmlops.registry``
_ALIASES = {"models": "registry"}

__all__ = sorted([*_LAZY, "__version__", "load_ipython_extension", "unload_ipython_extension"])

if TYPE_CHECKING:  # pragma: no cover
    from nbmlops import drift  # noqa: F401


# resolve public names lazily so importing the package stays cheap
_getattr, __dir__ = lazy_face(__name__, _LAZY, globals(), _SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _ALIASES:
        import importlib

        return importlib.import_module(f"{__name__}.{_ALIASES[name]}")
    return _getattr(name)


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%mlops`` / ``%%mlops`` magics (``%load_ext nbmlops``)."""
    from nbmlops.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Undo :func:`load_ipython_extension` (``%unload_ext nbmlops``)."""
    from nbmlops.magics import unload_ipython_extension as _unload

    _unload(ipython)
