"""What one loop iteration did: its outcome, each step's status, the candidate."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES = ("no-trigger", "waiting", "pending-approval", "promoted", "failed")
EXIT_CODES = {"no-trigger": 0, "pending-approval": 0, "promoted": 0, "failed": 1, "waiting": 2}


@dataclass
class StepOutcome:
    """One step: ``status`` done | failed | waiting | skipped, a one-line ``detail``, its run."""

    name: str
    status: str
    detail: str = ""
    run_id: str | None = None


@dataclass
class IterationResult:
    """One iteration of the loop (see :func:`nbmlops.loop.run_once`)."""

    iteration: str
    model: str
    outcome: str
    steps: list[StepOutcome] = field(default_factory=list)
    candidate: str | None = None
    parent_run_id: str | None = None
    message: str = ""

    @property
    def exit_code(self) -> int:
        """0 ok (no trigger, pending approval, promoted), 1 failed, 2 waiting for labels."""
        return EXIT_CODES[self.outcome]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**asdict(self), "exit_code": self.exit_code}

    def table(self) -> str:
        """Plain-text table of the steps and the outcome."""
        lines = [f"loop {self.model} iteration {self.iteration}: {self.outcome}"
                 + (f" — {self.message}" if self.message else "")]
        for s in self.steps:
            lines.append(f"  {s.name:<9} {s.status:<8} {s.detail}")
        if self.candidate:
            lines.append(f"  candidate: {self.model} v{self.candidate}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(s.name)}</td><td>{html.escape(s.status)}</td>"
                       f"<td>{html.escape(s.detail)}</td></tr>" for s in self.steps)
        head = html.escape(f"loop {self.model} iteration {self.iteration}: {self.outcome}")
        msg = f"<p>{html.escape(self.message)}</p>" if self.message else ""
        return (f"<div class='nbmlops-loop'><b>{head}</b>{msg}<table><tr><th>step</th>"
                f"<th>status</th><th>detail</th></tr>{rows}</table></div>")
