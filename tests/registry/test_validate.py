"""The validation gate on a real SQLite registry: slices, CIs, verdict, records, exports."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nbmlops.config import load_config
from nbmlops.gates import verify_audit
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import promote, validate
from tests.registry.conftest import register_kinds


@pytest.fixture
def fraud(project: Path, train_frame: pd.DataFrame) -> tuple[object, object]:
    cfg = load_config()
    reg = register_kinds("fraud", ["base", "bad", "good"], cfg, train_frame)
    promote("fraud", reg.versions["base"], approver="risk-lead", config=cfg)
    return cfg, reg


def test_a_candidate_better_overall_but_worse_on_a_slice_fails(
        fraud: tuple, holdout_frame: pd.DataFrame) -> None:
    cfg, reg = fraud
    result = validate(f"fraud/{reg.versions['bad']}", data=holdout_frame, target="is_fraud",
                      slices=["merchant", "a:3", "b > 2.5"], n_boot=200, config=cfg,
                      rules={"roc_auc": {"min_absolute_change": 0.0},
                             "fpr": {"threshold": 0.6}})
    rows = {(r.metric, r.slice): r for r in result.rows}
    assert rows[("roc_auc", "overall")].status == "pass"
    assert rows[("roc_auc", "merchant=z")].status == "fail"
    assert rows[("roc_auc", "merchant=z")].hi < 0  # the whole interval is below 0
    assert rows[("roc_auc", "b > 2.5")].status == "too small"  # ~40 rows < 100
    assert result.verdict == "fail" and result.exit_code == 1
    assert "roc_auc on merchant=z" in result.reason
    assert {r.slice for r in result.rows} >= {"overall", "merchant=x", "merchant=y",
                                              "merchant=z", "b > 2.5"}


def test_the_outcome_is_on_the_version_in_the_run_and_in_the_audit_log(
        fraud: tuple, holdout_frame: pd.DataFrame, tmp_path: Path) -> None:
    cfg, reg = fraud
    good = reg.versions["good"]
    result = validate(f"fraud/{good}", against="fraud@champion", data=holdout_frame,
                      target="is_fraud", slices="merchant", n_boot=100, config=cfg,
                      data_name="holdout-nov")
    assert result.verdict == "pass", result.to_text()
    info = gw.version(gw.client(cfg.tracking_uri), "fraud", good)
    assert info is not None
    tag = json.loads(info.tags[f"nbmlops.validated_against.{reg.versions['base']}"])
    assert tag["verdict"] == "pass" and tag["data"] == "holdout-nov"
    client = gw.client(cfg.tracking_uri)
    names = [f.path for f in client.list_artifacts(info.run_id, "validation")]
    assert f"validation/{result.id}.json" in names and f"validation/{result.id}.html" in names
    assert verify_audit(cfg.path(cfg.registry_audit_log)).ok
    html = result._repr_html_()
    assert "merchant=z" in html and "95% CI" in html
    assert json.loads(result.save(tmp_path / "r.json").read_text())["verdict"] == "pass"
    assert "plotly" in result.save(tmp_path / "r.html").read_text()
    fig = result.figure("roc_auc")
    assert len(fig.data[0].x) == 4  # overall + 3 merchants


def test_no_ci_judges_point_values_and_min_slice_size_marks_small_slices(
        fraud: tuple, holdout_frame: pd.DataFrame) -> None:
    cfg, reg = fraud
    result = validate(f"fraud/{reg.versions['good']}", data=holdout_frame, target="is_fraud",
                      slices=["b > 2.5"], ci=False, config=cfg, min_slice_size=200,
                      record=False)
    assert all(r.lo is None for r in result.rows) and result.n_boot == 0
    assert {r.status for r in result.rows if r.slice == "b > 2.5"} == {"too small"}
