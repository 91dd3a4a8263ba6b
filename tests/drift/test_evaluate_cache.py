"""A config change re-applies the rule to cached statistics: same verdicts as a full recompute.

``DriftReport.with_config`` (the drift panel's threshold controls) reuses the
statistics of summaries it already judged; they do not depend on the config.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pandas as pd
import pytest

from tests.drift.conftest import assert_reports_equal


@pytest.fixture(scope="module")
def report(profile: Any, cur_df: pd.DataFrame) -> Any:
    return profile.compare(cur_df, time_column="ts", window="1D", progress=False)


def _configs(base: Any) -> list[Any]:
    return [
        base.replace(numeric=dataclasses.replace(base.numeric, threshold=0.5)),
        base.replace(alpha=0.2, multiple_testing="none", drift_share=0.9),
        base.replace(multiple_testing="bh"),
        base.replace(numeric=dataclasses.replace(base.numeric, effect="psi", test="ks")),
        base.replace(categorical=dataclasses.replace(base.categorical, threshold=0.5)),
    ]


def test_with_config_matches_a_full_recompute(report: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from nbmlops.drift import evaluate
    from nbmlops.drift.report import DriftReport

    for cfg in _configs(report.config):
        fresh = DriftReport.from_state(copy.deepcopy(report.state), cfg)  # nothing cached
        cached = report.with_config(cfg)
        assert_reports_equal(cached, fresh)
        assert [f.status for f in cached.features.values()] == [
            f.status for f in fresh.features.values()]

    # the second derivation computed no statistic at all
    def boom(*a: Any, **k: Any) -> None:
        raise AssertionError("statistics recomputed")

    monkeypatch.setattr(evaluate, "_fill_stats", boom)
    again = report.with_config(_configs(report.config)[1])
    assert again.verdict in ("ok", "warn", "drift")
    assert any(f.p_value is not None for f in again.features.values())


def test_new_summaries_are_never_served_stale_statistics(profile: Any,
                                                         cur_df: pd.DataFrame) -> None:
    a = profile.compare(cur_df.iloc[:2000], time_column="ts", window="1D", progress=False)
    b = profile.compare(cur_df, time_column="ts", window="1D", progress=False)
    assert a.n_cur != b.n_cur
    cfg = a.config.replace(alpha=0.05)
    assert_reports_equal(b.with_config(cfg), b.with_config(cfg))
    assert a.with_config(cfg).features["amount"].stats != \
        b.with_config(cfg).features["amount"].stats
