"""Validation rules with MLflow ``MetricThreshold`` semantics, judged on a CI's bound.

``threshold``, ``min_absolute_change``, ``min_relative_change`` and
``greater_is_better`` mean what they mean in ``mlflow.models.MetricThreshold``:

- ``threshold``: the candidate's value is ``>=`` it (``<=`` when lower is better);
- ``min_absolute_change``: candidate ``>=`` champion + change (``<=`` champion − change);
- ``min_relative_change``: (candidate − champion) / ``|champion|`` ``>=`` change
  (sign flipped when lower is better; a champion of 0 falls back to "better by 1e-10").

With confidence intervals, the change rules are judged on the bound of the
paired 95 % interval of candidate − champion that is worst for the candidate
(the lower bound when greater is better): a +0.001 "win" on noise fails a
``min_absolute_change: 0`` rule unless the interval clears 0. ``threshold`` is
judged on the candidate's value. Without intervals (``ci=False``) every rule is
judged on the point values, exactly as ``mlflow.validate_evaluation_results``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nbmlops.exceptions import UsageArgumentError

#: metrics where lower is better (all others: greater is better)
LOWER_IS_BETTER = {"log_loss", "fpr", "mae", "rmse", "mse"}
_KEYS = {"threshold", "min_absolute_change", "min_relative_change", "greater_is_better"}


@dataclass(frozen=True)
class Rule:
    """One rule on one metric."""

    metric: str
    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool = True

    def describe(self) -> str:
        """``roc_auc: Δ ≥ 0 (CI low)`` style text."""
        parts = []
        op = ">=" if self.greater_is_better else "<="
        if self.threshold is not None:
            parts.append(f"value {op} {self.threshold:g}")
        if self.min_absolute_change is not None:
            parts.append(f"change {op} {'+' if self.greater_is_better else '-'}"
                         f"{self.min_absolute_change:g}")
        if self.min_relative_change is not None:
            parts.append(f"relative change >= {self.min_relative_change:g}")
        return "; ".join(parts)


def parse_rules(rules: dict[str, Any] | None, known: list[str]) -> list[Rule]:
    """Rules from ``{"roc_auc": {"min_absolute_change": 0.0}, ...}``; names checked."""
    out = []
    for metric, spec in (rules or {}).items():
        if metric not in known:
            raise UsageArgumentError(f"rule on unknown metric {metric!r}; metrics: "
                                     f"{', '.join(known)}.", parameter="rules")
        if not isinstance(spec, dict) or not spec or set(spec) - _KEYS:
            raise UsageArgumentError(f"rule for {metric!r} must be a dict with some of "
                                     f"{sorted(_KEYS)}, got {spec!r}.", parameter="rules")
        gib = spec.get("greater_is_better", metric not in LOWER_IS_BETTER)
        vals = {k: (None if spec.get(k) is None else float(spec[k]))
                for k in ("threshold", "min_absolute_change", "min_relative_change")}
        if all(v is None for v in vals.values()):
            raise UsageArgumentError(f"rule for {metric!r} sets no threshold or change.",
                                     parameter="rules")
        out.append(Rule(metric, greater_is_better=bool(gib), **vals))
    return out


@dataclass(frozen=True)
class Cell:
    """The numbers one rule is judged on."""

    candidate: float
    champion: float
    lo: float | None = None  # CI of candidate - champion (None: no CI)
    hi: float | None = None


def judge(rule: Rule, cell: Cell) -> list[str]:
    """The parts of ``rule`` that ``cell`` fails (empty: it passes)."""
    gib, failed = rule.greater_is_better, []
    cand, base = cell.candidate, cell.champion
    if rule.threshold is not None and not (cand >= rule.threshold if gib
                                           else cand <= rule.threshold):
        failed.append("threshold")
    worst = None if cell.lo is None else (cell.lo if gib else cell.hi)
    if rule.min_absolute_change is not None:
        need = rule.min_absolute_change
        if worst is None:
            target = base + need if gib else base - need
            ok = Decimal(cand) >= Decimal(target) if gib else Decimal(cand) <= Decimal(target)
        else:
            ok = worst >= need if gib else worst <= -need
        if not ok:
            failed.append("min_absolute_change")
    if rule.min_relative_change is not None and not _relative_ok(rule, cell, worst):
        failed.append("min_relative_change")
    return failed


def _relative_ok(rule: Rule, cell: Cell, worst: float | None) -> bool:
    gib, base = rule.greater_is_better, cell.champion
    delta = (cell.candidate - base) if worst is None else worst
    if base == 0:
        if worst is None:
            target = base + 1e-10 if gib else base - 1e-10
            return Decimal(cell.candidate) >= Decimal(target) if gib \
                else Decimal(cell.candidate) <= Decimal(target)
        return delta > 1e-10 if gib else delta < -1e-10
    change = delta / abs(base) if gib else -delta / abs(base)
    return bool(change >= float(rule.min_relative_change or 0.0))


def rules_from_strings(items: list[str] | tuple[str, ...]) -> dict[str, Any] | None:
    """``["roc_auc:min_absolute_change=0", "fpr:threshold=0.05"]`` -> the rules dict.

    A single item that is JSON (``{"roc_auc": {...}}``) is read as the whole dict.
    None when ``items`` is empty (the default rules apply).
    """
    import json

    if not items:
        return None
    if len(items) == 1 and items[0].lstrip().startswith("{"):
        try:
            value = json.loads(items[0])
        except ValueError as exc:
            raise UsageArgumentError(f"--rule JSON is invalid: {exc}", parameter="--rule") \
                from None
        return dict(value)
    out: dict[str, Any] = {}
    for item in items:
        metric, sep, rest = item.partition(":")
        pairs = [p.partition("=") for p in rest.split(",") if p.strip()]
        if not sep or not metric.strip() or not pairs or any(not s for _, s, _ in pairs):
            raise UsageArgumentError(f"--rule expects METRIC:KEY=VALUE[,KEY=VALUE], got "
                                     f"{item!r}.", parameter="--rule")
        spec = out.setdefault(metric.strip(), {})
        for key, _, value in pairs:
            key, value = key.strip(), value.strip()
            spec[key] = value.lower() in ("true", "1", "yes") if key == "greater_is_better" \
                else _number(value, item)
    return out


def _number(text: str, item: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UsageArgumentError(f"--rule {item!r}: {text!r} is not a number.",
                                 parameter="--rule") from None
