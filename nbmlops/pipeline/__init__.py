"""Notebook pipelines: batch runs, sweeps, the DVC export and CI files.

>>> import nbmlops.pipeline as pipeline                          # doctest: +SKIP
>>> result = pipeline.run_notebook("notebooks/train.ipynb", {"C": 0.5})
>>> result.metrics["accuracy"]

The parameters cell (:mod:`.parameters`, :mod:`.tagging`), safe injection
(:mod:`.inject`), the checked plan and its options (:mod:`.plan`), execution
in a fresh kernel (:mod:`.runner`, :mod:`.kernel`), MLflow recorders
(:mod:`.recorders`), results (:mod:`.results`), sweeps (:mod:`.sweep`, on Dask: :mod:`.cluster`) and
the DVC/CI export (:mod:`.export`, :mod:`.ci`).

Public names are resolved lazily (papermill, MLflow and nbformat load on first use).
``sweep`` and ``export`` are public as :func:`nbmlops.sweep` and
:func:`nbmlops.export`: here they would be shadowed by the submodules of the
same name once those are imported.
"""

from __future__ import annotations

from nbmlops._lazy import lazy_face

_LAZY: dict[str, str] = {
    "run_notebook": "nbmlops.pipeline.runner:run_notebook",
    "execute": "nbmlops.pipeline.runner:execute",
    "prepare": "nbmlops.pipeline.plan:prepare",
    "ExecOptions": "nbmlops.pipeline.plan:ExecOptions",
    "Plan": "nbmlops.pipeline.plan:Plan",
    "load_params_file": "nbmlops.pipeline.plan:load_params_file",
    "NotebookRunResult": "nbmlops.pipeline.results:NotebookRunResult",
    "SweepResult": "nbmlops.pipeline.results:SweepResult",
    "tag_parameters_cell": "nbmlops.pipeline.tagging:tag_parameters_cell",
    "init_ci": "nbmlops.pipeline.ci:init_ci",
    "ClusterSpec": "nbmlops.pipeline.cluster:ClusterSpec",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
