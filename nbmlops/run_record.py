"""What one run captured, held in memory until the run ends.

A :class:`RunRecord` is written to MLflow in a few batched calls when the
cell ends (see :mod:`nbmlops.mlflow_gateway`) or, when the tracking server
cannot be reached, spooled to disk as JSON (see :mod:`nbmlops.tracking.spool`)
and uploaded later. Keeping the whole run in one plain object is what makes
the spool lossless.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


def now_ms() -> int:
    """Milliseconds since the epoch (MLflow's time unit)."""
    return int(time.time() * 1000)


@dataclass
class RunRecord:
    """Everything one ``%%mlops run`` (or :func:`capture_run`) logs.

    Attributes
    ----------
    run_id
        The MLflow run id once the run exists in the store; ``None`` when
        the run was started while the server was unreachable.
    local_id
        Our own id, stable across spooling.
    metrics
        ``(key, value, timestamp_ms, step)`` tuples, in logging order.
    artifacts
        Relative artifact path -> text content.
    datasets
        Dataset inputs as dicts (``name, digest, source_type, source, schema,
        profile, context``).
    """

    tracking_uri: str
    experiment: str
    experiment_id: str | None = None
    run_id: str | None = None
    local_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    run_name: str | None = None
    parent_run_id: str | None = None
    start_time: int = field(default_factory=now_ms)
    end_time: int | None = None
    status: str = "RUNNING"
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, float, int, int]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    datasets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The MLflow run id, else the local id."""
        return self.run_id or self.local_id

    def add_metric(self, key: str, value: float, step: int | None = None) -> None:
        """Append one metric value (step defaults to 0)."""
        self.metrics.append((str(key), float(value), now_ms(), int(step or 0)))

    def latest_metrics(self) -> dict[str, float]:
        """The last value logged for each metric key."""
        out: dict[str, float] = {}
        for key, value, _, _ in self.metrics:
            out[key] = value
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        d = dataclasses.asdict(self)
        d["metrics"] = [list(m) for m in self.metrics]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["metrics"] = [tuple(m) for m in data.get("metrics", [])]
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
