"""Rule semantics: with no CIs exactly MLflow's validate_evaluation_results; with CIs the bound."""

from __future__ import annotations

import itertools

import pytest

from nbmlops.exceptions import UsageArgumentError
from nbmlops.registry.rules import Cell, Rule, judge, parse_rules, rules_from_strings


def _mlflow_passes(rule: Rule, candidate: float, champion: float) -> bool:
    # the test may import mlflow: it is the reference the rules must equal
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation import EvaluationResult
    from mlflow.models.evaluation.validation import (
        ModelValidationFailedException,
        validate_evaluation_results,
    )

    kwargs = {k: getattr(rule, k) for k in ("threshold", "min_absolute_change",
                                            "min_relative_change") if getattr(rule, k) is not None}
    threshold = MetricThreshold(greater_is_better=rule.greater_is_better, **kwargs)
    try:
        validate_evaluation_results({rule.metric: threshold},
                                    EvaluationResult({rule.metric: candidate}, {}),
                                    EvaluationResult({rule.metric: champion}, {}))
    except ModelValidationFailedException:
        return False
    return True


VALUES = [0.0, 0.5, 0.7, 0.7 + 1e-12, 0.71, 0.8, -0.2]
RULES = [
    Rule("m", threshold=0.7), Rule("m", threshold=0.7, greater_is_better=False),
    Rule("m", min_absolute_change=0.01), Rule("m", min_absolute_change=0.01,
                                              greater_is_better=False),
    Rule("m", min_relative_change=0.1), Rule("m", min_relative_change=0.1,
                                             greater_is_better=False),
    Rule("m", threshold=0.6, min_absolute_change=0.05, min_relative_change=0.02),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.describe())
def test_no_ci_verdicts_equal_mlflow_validate_evaluation_results(rule: Rule) -> None:
    for cand, champ in itertools.product(VALUES, VALUES):
        ours = not judge(rule, Cell(cand, champ))
        assert ours == _mlflow_passes(rule, cand, champ), (rule, cand, champ)


def test_with_ci_a_change_rule_is_judged_on_the_bound_worst_for_the_candidate() -> None:
    rule = Rule("roc_auc", min_absolute_change=0.0)
    # +0.001 on noise: the point passes MLflow's way, the interval straddles 0 -> fails
    assert not judge(rule, Cell(0.801, 0.800))
    assert judge(rule, Cell(0.801, 0.800, lo=-0.004, hi=0.006)) == ["min_absolute_change"]
    assert judge(rule, Cell(0.82, 0.80, lo=0.005, hi=0.03)) == []
    lower = Rule("fpr", min_absolute_change=0.0, greater_is_better=False)
    assert judge(lower, Cell(0.04, 0.05, lo=-0.02, hi=0.001)) == ["min_absolute_change"]
    assert judge(lower, Cell(0.04, 0.05, lo=-0.02, hi=-0.001)) == []


def test_rules_are_parsed_from_the_cli_and_checked() -> None:
    rules = rules_from_strings(["roc_auc:min_absolute_change=0", "fpr:threshold=0.05"])
    assert rules == {"roc_auc": {"min_absolute_change": 0.0}, "fpr": {"threshold": 0.05}}
    parsed = parse_rules(rules, ["roc_auc", "fpr"])
    assert [r.greater_is_better for r in parsed] == [True, False]  # fpr: lower is better
    with pytest.raises(UsageArgumentError, match="unknown metric 'auc'"):
        parse_rules({"auc": {"threshold": 0.5}}, ["roc_auc"])
    with pytest.raises(UsageArgumentError, match="METRIC:KEY=VALUE"):
        rules_from_strings(["roc_auc"])


def test_history_matches_bad_input_records_by_exact_model_name() -> None:
    from nbmlops.registry.views import _ref_name

    assert _ref_name("fraud@challenger") == "fraud"
    assert _ref_name("fraud2/3") == "fraud2"
    assert _ref_name("") is None and _ref_name("@@") is None
