"""The sequential rule: a CUSUM per feature over windows, with a documented false-alarm rate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import fit_reference
from nbmlops.drift.profile import ReferenceProfile
from nbmlops.drift.sequential import K, onsets, threshold


def _days(n_days: int, per_day: int, seed: int, shift_per_day: float = 0.0,
          start_day: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for d in range(n_days):
        shift = max(0, d - start_day + 1) * shift_per_day
        ts = pd.Timestamp("2026-05-01", tz="UTC") + pd.Timedelta(days=d) \
            + pd.to_timedelta(np.linspace(0, 86_000, per_day), unit="s")
        frames.append(pd.DataFrame({"ts": ts, "x": rng.standard_normal(per_day) + shift,
                                    "u": rng.uniform(0, 1, per_day)}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return fit_reference(_days(1, 50_000, seed=1).drop(columns="ts"))


def test_threshold_matches_the_run_length_formula() -> None:
    h = threshold(0.001, 1)
    b = h + 1.166
    arl = (math.exp(2 * K * b) - 2 * K * b - 1) / (2 * K * K)
    assert arl == pytest.approx(1000, rel=1e-3)
    assert threshold(0.001, 25) > h > threshold(0.01, 1)


def test_a_ramp_too_small_for_one_window_is_caught_and_its_start_shown(
        profile: ReferenceProfile) -> None:
    cur = _days(40, 5_000, seed=2, shift_per_day=0.004, start_day=10)
    # a fixed threshold no window of the ramp reaches: only the sequential rule can fire
    report = profile.compare(cur, time_column="ts", window="1D",
                             config={"numeric": {"threshold": 0.3}})
    assert not any(w.drifted for w in report.windows)
    fired = [i for i, w in enumerate(report.windows) if w.signals]
    assert fired, "the sequential rule never fired"
    first = fired[0]
    assert 10 < first < 40
    assert all(w.verdict == "drift" for w in report.windows[first + 3:])  # S may dip once
    assert report.verdict == "drift" and "sequential" in report.reason
    (onset,) = [o for o in onsets(report.windows) if o["stream"] == "x"]
    keys = [w.key for w in report.windows]
    assert keys.index(onset["since"]) < keys.index(onset["crossed"]) == first
    assert report.windows[first].evidence["x"] > threshold(0.001, 3)
    off = profile.compare(cur, time_column="ts", window="1D",
                          config={"sequential": False, "multivariate": False,
                                  "numeric": {"threshold": 0.3}})
    assert not any(w.signals for w in off.windows)


def test_stable_windows_never_build_evidence_past_h(profile: ReferenceProfile) -> None:
    report = profile.compare(_days(80, 3_000, seed=3), time_column="ts", window="1D")
    assert not any(w.signals for w in report.windows)
    assert max(max(w.evidence.values()) for w in report.windows) < threshold(0.001, 3)


def test_evidence_survives_json(profile: ReferenceProfile) -> None:
    from nbmlops.drift.report import DriftReport

    report = profile.compare(_days(5, 1_000, seed=4, shift_per_day=0.3), time_column="ts",
                             window="1D")
    back = DriftReport.from_json(report.to_json())
    assert [w.evidence for w in back.windows] == [w.evidence for w in report.windows]
    assert [w.signals for w in back.windows] == [w.signals for w in report.windows]


def test_figures_and_page_show_where_evidence_started(profile: ReferenceProfile) -> None:
    from nbmlops.drift.figures import evidence_figure, multivariate_figure

    report = profile.compare(_days(30, 3_000, seed=5, shift_per_day=0.01, start_day=10),
                             time_column="ts", window="1D")
    fig = evidence_figure(report)
    names = [t.name for t in fig.data]
    assert "x" in names and any(n.startswith("h = ") for n in names)
    assert len(fig.layout.shapes) >= 1  # the band from onset to crossing
    assert multivariate_figure(report).data[0].name == "error"
    html = report.to_html()
    assert "Sequential evidence" in html and "evidence building since" in html
