"""The issue's "Done when" story against a real ``mlflow server`` (registry over HTTP)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest

from nbmlops.config import load_config
from nbmlops.gates import verify_audit
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import RegistryError, promote, register, rollback, validate
from tests.registry.conftest import register_kinds


@pytest.mark.slow
@pytest.mark.server
def test_register_validate_refuse_validate_promote_rollback_history(
        project: Path, mlflow_server: object, monkeypatch: pytest.MonkeyPatch,
        train_frame: pd.DataFrame, holdout_frame: pd.DataFrame) -> None:
    url = mlflow_server.url  # type: ignore[attr-defined]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    monkeypatch.setenv("NBMLOPS_IDENTITY_SOURCE", "env:TRAINER")
    monkeypatch.setenv("TRAINER", "alice")
    cfg = load_config()
    assert cfg.tracking_uri == url
    name = f"fraud-{uuid.uuid4().hex[:6]}"
    cl = gw.client(url)

    # two versions: the champion and a challenger better overall, worse on merchant z
    reg = register_kinds(name, ["base", "bad"], cfg, train_frame)
    v1, v2 = reg.versions["base"], reg.versions["bad"]
    assert gw.version(cl, name, v2).tags["nbmlops.trained_by"] == "alice"  # type: ignore[union-attr]
    promote(name, v1, approver="risk-lead", reason="first champion", config=cfg)

    bad = validate(f"{name}@challenger", against=f"{name}@champion", data=holdout_frame,
                   target="is_fraud", slices=["merchant"], n_boot=200, config=cfg,
                   data_name="holdout@2")
    overall = {r.metric: r for r in bad.rows if r.slice == "overall"}
    assert overall["roc_auc"].status == "pass" and bad.verdict == "fail"
    assert [(r.metric, r.slice) for r in bad.failures] == [("roc_auc", "merchant=z")]

    with pytest.raises(RegistryError, match="failed its validation"):
        promote(name, v2, approver="risk-lead", reason="nov retrain", config=cfg)
    assert gw.aliases(cl, name)["champion"] == v1  # refused: nothing moved

    reg3 = register_kinds(name, ["good"], cfg, train_frame)
    v3 = reg3.versions["good"]
    good = validate(f"{name}@challenger", data=holdout_frame, target="is_fraud",
                    slices=["merchant"], n_boot=200, config=cfg, data_name="holdout@2")
    assert good.verdict == "pass", good.to_text()
    with pytest.raises(RegistryError, match="four-eyes"):
        promote(name, v3, approver="alice", reason="self-approval", config=cfg)
    decision = promote(name, v3, approver="risk-lead", reason="Nov retrain, passes all slices",
                       config=cfg)
    assert decision.previous == v1 and gw.aliases(cl, name)["champion"] == v3

    back = rollback(name, reason="alert on live traffic", config=cfg)
    assert back.version == v1 and gw.aliases(cl, name)["champion"] == v1
    rolled = gw.version(cl, name, v3)
    assert rolled is not None and "nbmlops.rolled_back.champion" in rolled.tags

    assert verify_audit(cfg.path(cfg.registry_audit_log)).ok
    hist = subprocess.run([sys.executable, "-m", "nbmlops", "model", "history", name],
                          cwd=project, capture_output=True, text=True, timeout=600, check=True)
    out = hist.stdout
    for needle in ["register", "validate", "fail vs v1", "pass vs v1", "refused",
                   "four-eyes", "promoted (was v1)", "rolled back (was v3)", "risk-lead",
                   "holdout@2", "OK:"]:
        assert needle in out, (needle, out)
    listing = subprocess.run([sys.executable, "-m", "nbmlops", "model", "list", name],
                             cwd=project, capture_output=True, text=True, timeout=600,
                             check=True).stdout
    assert "pass vs v1 on holdout@2" in listing and "@champion" in listing


def test_register_refuses_a_run_without_a_model(project: Path) -> None:
    import nbmlops

    cfg = load_config()
    result = nbmlops.capture_run("x = 1", {}, config=cfg, autolog=False)
    with pytest.raises(RegistryError, match="logged no model"):
        register("fraud", result, config=cfg)
    assert gw.model_names(gw.client(cfg.tracking_uri)) == []
