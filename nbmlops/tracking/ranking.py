"""Which way a metric is better, and which metric ranks a run."""

from __future__ import annotations

import re

_LOWER_IS_BETTER = re.compile(r"(?i)(loss|err|mse|mae|rmse|mape|cost|time|latency|duration)")


def higher_is_better(metric: str) -> bool:
    """Guess a metric's direction from its name (``loss``, ``mse`` ... are minimised)."""
    return not _LOWER_IS_BETTER.search(metric)


def primary_metric(metrics: dict[str, float]) -> str | None:
    """The metric the card ranks runs by: the first one that is not a training_ metric."""
    names = [m for m in metrics if not m.startswith("training_")] or list(metrics)
    return names[0] if names else None
