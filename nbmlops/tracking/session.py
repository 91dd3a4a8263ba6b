"""Per-process state of the tracking area, in one place (``reset()`` clears it for tests).

Caches only: nothing here changes what a run records, only how many store
round-trips it costs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Session:
    """Caches of this kernel's tracking session."""

    #: (tracking uri, experiment name) -> experiment id
    experiments: dict[tuple[str, str], str] = field(default_factory=dict)
    #: hash((execution count, raw cell)) -> the cell as Python, for ``code/history.py``
    history: dict[int, str] = field(default_factory=dict)
    #: (tracking uri, experiment id, cell fingerprint) -> last run of that cell seen here
    last_of_cell: dict[tuple[str, str, str], dict[str, Any] | None] = field(default_factory=dict)


SESSION = Session()


def reset() -> None:
    """Forget every cache (tests; a store replaced under a running kernel)."""
    SESSION.experiments.clear()
    SESSION.history.clear()
    SESSION.last_of_cell.clear()
