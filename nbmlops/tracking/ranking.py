"""Which way a metric is better, and which metric ranks a run.

The ``primary_metric`` setting names the metric that ranks runs, with an
explicit direction: ``"max:auc"`` or ``"min:val_loss"``; a bare name
(``"auc"``) guesses the direction from the name (``loss``, ``mse`` ... are
minimised). Without the setting the first metric the cell assigned ranks
runs. The run card's "best", ``nbmlops runs`` and sweeps all ask
:func:`primary` / :func:`sweep_metric` here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nbmlops.exceptions import ConfigError

_LOWER_IS_BETTER = re.compile(r"(?i)(loss|err|mse|mae|rmse|mape|cost|time|latency|duration)")


def higher_is_better(metric: str) -> bool:
    """Guess a metric's direction from its name (``loss``, ``mse`` ... are minimised)."""
    return not _LOWER_IS_BETTER.search(metric)


@dataclass(frozen=True)
class Primary:
    """The metric that ranks runs and whether larger values are better."""

    name: str
    higher: bool

    @property
    def mode(self) -> str:
        """``"max"`` or ``"min"`` (the sweep's spelling)."""
        return "max" if self.higher else "min"


def parse_primary(spec: str | None) -> Primary | None:
    """Parse the ``primary_metric`` setting (``"auc"``, ``"max:auc"``, ``"min:loss"``).

    Raises
    ------
    ConfigError
        For an empty name or a direction other than ``max``/``min``.
    """
    if spec is None or not str(spec).strip():
        return None
    text = str(spec).strip()
    direction, sep, name = text.partition(":")
    if not sep:
        return Primary(text, higher_is_better(text))
    direction, name = direction.strip().lower(), name.strip()
    if direction not in {"max", "min"} or not name:
        raise ConfigError(f"primary_metric {text!r}: write 'max:NAME', 'min:NAME' or 'NAME'.",
                          key="primary_metric")
    return Primary(name, direction == "max")


def primary(metrics: Iterable[str], spec: str | None = None) -> Primary | None:
    """The metric the card and ``runs`` rank by, given the names a run has.

    The configured ``spec`` wins whenever it is given (even if this run lacks
    it, so every run is ranked by the same metric); otherwise the first
    metric that is not an autologged ``training_`` one.
    """
    chosen = parse_primary(spec)
    if chosen is not None:
        return chosen
    names = list(metrics)
    own = [m for m in names if not m.startswith("training_")] or names
    return Primary(own[0], higher_is_better(own[0])) if own else None


def primary_metric(metrics: Iterable[str], spec: str | None = None) -> str | None:
    """Name of :func:`primary` (``None`` without metrics or a setting)."""
    chosen = primary(metrics, spec)
    return chosen.name if chosen else None


def sweep_metric(metric: str | None, mode: str, spec: str | None) -> tuple[str | None, str]:
    """What a sweep ranks by: its own ``--metric``/``--mode``, else the configured primary."""
    if metric is not None:
        return metric, mode
    chosen = parse_primary(spec)
    return (chosen.name, chosen.mode) if chosen else (None, mode)


def own_names(tag: str | None, values: Iterable[str]) -> list[str]:
    """The user's own metric (or param) names of a run, in the order the cell gave them.

    ``tag`` is the run's ``nbmlops.metrics`` (``nbmlops.params``) tag; runs
    without it count every name but autolog's ``training_`` ones (all names
    when there is nothing else).
    """
    names = list(values)
    try:
        own = json.loads(tag) if tag else None
    except ValueError:
        own = None
    if not isinstance(own, list):
        return [k for k in names if not k.startswith("training_")] or names
    return [str(n) for n in own if n in names]


def own_first(values: Mapping[str, float], own: Iterable[str]) -> dict[str, float]:
    """``values`` with the ``own`` names first (their order), the rest (autolog's) after.

    The order ``nbmlops runs`` gives its columns; ``nbmlops run`` and sweeps
    list a run's metrics the same way.
    """
    first = [n for n in dict.fromkeys(own) if n in values]
    return {**{n: values[n] for n in first},
            **{k: v for k, v in values.items() if k not in first}}
