"""The panel's performance view: realised and estimated performance with intervals per window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import DriftConfig, fit_reference
from tests.drift.perfdata import scored
from tests.widgets.test_drift_panel import dummy_comm  # noqa: F401 - autouse fixture


@pytest.fixture(scope="module")
def prof() -> Any:
    return fit_reference(scored(12000, 1), target="y", prediction="score",
                         exclude=["request_id"], time_column="ts")


def _days(concept_from: int) -> pd.DataFrame:
    return pd.concat([scored(2880, 20 + d, concept=d >= concept_from,
                             start=f"2026-05-0{d + 1}") for d in range(4)])


def test_realised_and_estimated_with_intervals(prof: Any) -> None:
    from nbmlops.widgets.drift_panel import DriftPanel

    rep = prof.compare(_days(2), time_column="ts", window="1D")
    panel = DriftPanel(rep)
    panel.metric.set_state({"index": list(panel.metric.options).index("auc")})
    fig = panel.figures["performance"]
    names = [t.name for t in fig.data]
    assert names[:2] == ["realised", f"reference {rep.performance['reference']['auc']:.3f}"]
    assert {"estimate 95%", "estimated (CBPE)", "degraded"} <= set(names)
    realised = fig.data[0]
    assert list(realised.y) == [pytest.approx(w.performance["auc"], rel=1e-4)
                                for w in rep.windows]
    assert all(v > 0 for v in realised.error_y.array)  # intervals drawn
    est = next(t for t in fig.data if t.name == "estimated (CBPE)")
    assert list(est.y) == [pytest.approx(w.performance["est_auc"], rel=1e-4)
                           for w in rep.windows]
    bad = next(t for t in fig.data if t.name == "degraded")
    assert len(bad.x) == 2  # the two concept-drift days
    assert "degraded" in panel.perf_note.value


def test_estimate_only_without_labels_and_task_metrics(prof: Any) -> None:
    from nbmlops.widgets.drift_panel import DriftPanel

    rep = prof.compare(_days(9).drop(columns="y"), time_column="ts", window="1D")
    panel = DriftPanel(rep)
    fig = panel.figures["performance"]
    assert "estimated (CBPE)" in [t.name for t in fig.data]
    assert "realised" not in [t.name for t in fig.data]
    assert "no labels" in fig.layout.annotations[0].text
    rng = np.random.default_rng(0)
    x = rng.normal(size=3000)
    reg = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(size=3000), "pred": 2 * x})
    rp = fit_reference(reg, target="y", prediction="pred").compare(reg, window=1000)
    assert tuple(DriftPanel(rp).metric.options) == ("mae", "rmse")


def test_tolerance_edit_exports_to_the_gate_yaml(prof: Any, tmp_path: Path) -> None:
    from nbmlops.widgets.drift_panel import DriftPanel

    rep = prof.compare(_days(2), time_column="ts", window="1D")
    panel = DriftPanel(rep)
    assert panel.controls["performance_tolerance"].value == pytest.approx(0.05)
    panel.controls["performance_tolerance"].set_state({"value": 0.9})
    assert panel.report.performance["verdict"] == "ok"
    path = panel.export_config(tmp_path / "drift.yaml")
    assert DriftConfig.load(path).performance == {"tolerance": 0.9}
