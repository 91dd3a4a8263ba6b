"""What a pipeline run returns: one notebook's outcome, a sweep's, and exit codes.

:class:`NotebookRunResult` is what ``nbmlops run --json`` prints and
:func:`nbmlops.run_notebook` returns; :class:`SweepResult` gathers one per
combination of a sweep and picks the best by a metric.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from nbmlops.exceptions import (
    KernelDiedError,
    NbmlopsError,
    NotebookExecutionError,
    PipelineError,
)

#: result status -> process exit code
EXIT_CODES = {"ok": 0, "failed": 1, "bad_input": 2, "kernel_died": 3}
_ERRORS: dict[str, type[PipelineError]] = {
    "failed": NotebookExecutionError, "kernel_died": KernelDiedError, "bad_input": PipelineError,
}


@dataclass
class NotebookRunResult:
    """Outcome of one notebook run (also what ``nbmlops run --json`` prints)."""

    notebook: str
    output_notebook: str | None
    status: str
    parameters: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None
    experiment_id: str | None = None
    child_run_ids: list[str] = field(default_factory=list)
    error: str | None = None
    cell: int | None = None
    duration_s: float = 0.0
    #: set while the MLflow record is still being written
    #: (see :func:`~nbmlops.pipeline.runner.execute`)
    pending: Future[None] | None = field(default=None, repr=False, compare=False)

    @property
    def exit_code(self) -> int:
        """0 ok, 1 the notebook failed, 2 bad input, 3 the kernel died or timed out."""
        return EXIT_CODES[self.status]

    @property
    def ok(self) -> bool:
        """True when the notebook ran to the end."""
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (JSON-serialisable)."""
        return {
            "notebook": self.notebook, "output_notebook": self.output_notebook,
            "status": self.status, "exit_code": self.exit_code, "parameters": self.parameters,
            "metrics": self.metrics, "run_id": self.run_id, "experiment_id": self.experiment_id,
            "child_run_ids": self.child_run_ids, "error": self.error, "cell": self.cell,
            "duration_s": round(self.duration_s, 3),
        }

    def raise_for_status(self) -> None:
        """Raise the error matching :attr:`status` (nothing when ok)."""
        if not self.ok:
            raise _ERRORS[self.status](self.error or self.status, result=self, cell=self.cell)

    def __str__(self) -> str:
        head = f"{self.status}: {self.notebook} -> {self.output_notebook}"
        if self.error:
            head += f"\n  {self.error}"
        if self.metrics:
            head += "\n  metrics: " + ", ".join(f"{k}={v:.6g}" for k, v in self.metrics.items())
        if self.run_id:
            head += f"\n  MLflow run: {self.run_id}"
        return head


@dataclass
class SweepResult:
    """All combinations of a sweep, and the best one by ``metric``."""

    notebook: str
    runs: list[NotebookRunResult]
    combos: list[dict[str, Any]]
    metric: str | None = None
    mode: str = "max"
    run_id: str | None = None
    out_dir: str = ""
    duration_s: float = 0.0
    varying: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[NotebookRunResult]:
        """Runs that did not finish."""
        return [r for r in self.runs if not r.ok]

    @property
    def exit_code(self) -> int:
        """0 when every combination succeeded, else the worst exit code (1 or 3)."""
        return max((r.exit_code for r in self.runs), default=0)

    @property
    def best(self) -> NotebookRunResult | None:
        """The successful run with the best ``metric`` (``None`` without one)."""
        metric = self.metric
        if metric is None:
            return None
        scored = [r for r in self.runs if r.ok and metric in r.metrics]
        if not scored:
            return None
        pick = max if self.mode == "max" else min
        return pick(scored, key=lambda r: r.metrics[metric])

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view (``nbmlops sweep --json``)."""
        best = self.best
        return {
            "notebook": self.notebook, "run_id": self.run_id, "metric": self.metric,
            "mode": self.mode, "exit_code": self.exit_code, "out_dir": self.out_dir,
            "best_run_id": best.run_id if best else None,
            "best_parameters": {k: best.parameters[k] for k in self.varying} if best else None,
            "runs": [{**r.to_dict(), "combination": c} for r, c in zip(self.runs, self.combos,
                                                                         strict=True)],
            "duration_s": round(self.duration_s, 3),
        }

    def table(self) -> str:
        """A text summary table, best run marked with ``*``."""
        best = self.best
        metrics = list(dict.fromkeys(k for r in self.runs for k in r.metrics))  # own first
        if self.metric and self.metric in metrics:
            metrics.remove(self.metric)
            metrics.insert(0, self.metric)
        metrics = metrics[:4]
        head = ["", "#", "status", *self.varying, *metrics, "run"]
        rows = []
        for i, (run, combo) in enumerate(zip(self.runs, self.combos, strict=True)):
            rows.append(["*" if run is best else "", str(i), run.status,
                         *[_cell(combo.get(k, run.parameters.get(k))) for k in self.varying],
                         *[f"{run.metrics[m]:.6g}" if m in run.metrics else "-" for m in metrics],
                         (run.run_id or "-")[:8]])
        widths = [max(len(r[c]) for r in [head, *rows]) for c in range(len(head))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
                 for r in [head, *rows]]
        ok = len(self.runs) - len(self.failed)
        footer = f"{ok}/{len(self.runs)} succeeded in {self.duration_s:.1f} s"
        if best is not None and self.metric:
            footer += f"; best {self.metric}={best.metrics[self.metric]:.6g} (#{self.runs.index(best)}, run {best.run_id})"  # noqa: E501
        elif self.metric:
            footer += f"; no successful run logged {self.metric!r}"
        for i, run in enumerate(self.runs):
            if not run.ok:
                footer += f"\n#{i} {run.status}: {run.error}"
        return "\n".join([*lines, footer])

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.table())}</pre>"


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def describe_error(exc: NbmlopsError) -> dict[str, Any]:
    """``--json`` body for an error raised before the run (bad input)."""
    return {"status": "bad_input", "exit_code": exc.exit_code, "error": str(exc),
            "parameter": getattr(exc, "parameter", None)}
