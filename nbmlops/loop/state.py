"""Per-model iteration state, written atomically after every step (resume after a crash).

``.nbmlops/loop/<model>.json`` holds the open iteration: its id, the frozen
``now`` its windows are cut at, the parent MLflow run and each step's status
(``started`` / ``done``) with what it produced. A finished iteration is kept
as ``last`` and the next ``run_once`` starts a new one.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.fileio import atomic_write

STATE_DIR = ".nbmlops/loop"


@dataclass
class IterationState:
    """The open iteration of one model."""

    model: str
    iteration: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    now: str = ""
    parent_run_id: str | None = None
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcome: str | None = None

    def done(self, step: str) -> bool:
        """Whether ``step`` completed in this iteration."""
        return self.steps.get(step, {}).get("status") == "done"

    def value(self, step: str, key: str) -> Any:
        """What a completed step recorded under ``key``."""
        return self.steps.get(step, {}).get(key)

    @property
    def when(self) -> _dt.datetime:
        """The iteration's frozen time (UTC)."""
        return _dt.datetime.fromisoformat(self.now)


def state_path(root: Path, model: str) -> Path:
    """Where the state of ``model`` lives."""
    return root / STATE_DIR / f"{model}.json"


def load_state(root: Path, model: str) -> IterationState | None:
    """The open (unfinished) iteration of ``model``, or None."""
    p = state_path(root, model)
    if not p.exists():
        return None
    data = json.loads(p.read_text(encoding="utf-8"))
    current = data.get("current")
    if not current:
        return None
    return IterationState(**current)


def save_state(root: Path, state: IterationState) -> None:
    """Write ``state`` atomically (a finished one moves to ``last``)."""
    key = "last" if state.outcome else "current"
    atomic_write(state_path(root, state.model),
                 json.dumps({key: asdict(state)}, indent=1, default=str))


def mark(root: Path, state: IterationState, step: str, status: str, **values: Any) -> None:
    """Record ``step``'s status (and values) and save."""
    entry = state.steps.setdefault(step, {})
    entry.update(values, status=status)
    save_state(root, state)
