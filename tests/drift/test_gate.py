"""The CI gate: exit codes, formats, audit log, --on-drift, --mlflow, profile/config inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from nbmlops.cli import main
from nbmlops.drift import DriftConfig, fit_reference


@pytest.fixture
def files(project: Path, ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> dict[str, Path]:
    data = project / "data"
    data.mkdir()
    ref_df.to_parquet(data / "ref.parquet")
    cur_df.to_parquet(data / "cur.parquet")
    ref_df.sample(frac=0.5, random_state=3).to_parquet(data / "same.parquet")
    return {"ref": data / "ref.parquet", "cur": data / "cur.parquet",
            "same": data / "same.parquet"}


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["drift", *args], catch_exceptions=False)


def audit(project: Path) -> list[dict]:
    path = project / ".nbmlops" / "drift_audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_exit_codes_and_append_only_audit(project: Path, files: dict[str, Path]) -> None:
    common = ["--time-column", "ts", "--target", "y", "--prediction", "score"]
    r = run(str(files["ref"]), str(files["same"]), *common)
    assert r.exit_code == 0, r.output
    assert "## Drift report: **OK**" in r.output
    first = (project / ".nbmlops" / "drift_audit.jsonl").read_bytes()
    r = run(str(files["ref"]), str(files["cur"]), *common, "--window", "1D", "--format", "json")
    assert r.exit_code == 1
    assert json.loads(r.output)["verdict"] == "drift"
    r = run(str(files["ref"]), str(files["ref"].parent / "missing.parquet"))
    assert r.exit_code == 2
    assert "No such file" in r.output
    after = (project / ".nbmlops" / "drift_audit.jsonl").read_bytes()
    assert after.startswith(first)
    log = audit(project)
    assert [e["exit_code"] for e in log] == [0, 1, 2]
    assert [e["verdict"] for e in log] == ["ok", "drift", "error"]
    assert log[1]["drifted"][0] == "amount" and log[1]["windows"]
    assert all(len(e["reference"]["hash"]) == 32 for e in log)
    assert log[0]["current"]["hash"] != log[1]["current"]["hash"]
    assert log[0]["config_hash"] == DriftConfig().digest()


def test_fail_on_warn_and_config_file(project: Path, files: dict[str, Path]) -> None:
    prof = fit_reference(pd.read_parquet(files["ref"]), time_column="ts")
    prof.save(project / "ref.json")
    loose = DriftConfig().with_feature("amount", threshold=100.0)
    loose.save(project / "loose.yaml")
    r = run("ref.json", str(files["cur"]), "--config", "loose.yaml")
    assert r.exit_code == 0, r.output
    warn_only = DriftConfig(warn_ratio=0.01).with_feature("amount", threshold=10.0)
    warn_only.save(project / "drift.yaml")  # the project's default config file
    assert run("ref.json", str(files["cur"])).exit_code == 0
    assert run("ref.json", str(files["cur"]), "--fail-on", "warn").exit_code == 1
    log = audit(project)
    assert log[-1]["config_hash"] == warn_only.digest()
    assert log[0]["reference"]["hash"] == prof.digest()


def test_on_drift_command_recorded(project: Path, files: dict[str, Path]) -> None:
    r = run(str(files["ref"]), str(files["cur"]), "-t", "ts", "--format", "html",
            "-o", "report.html", "--on-drift", "echo retraining && exit 3")
    assert r.exit_code == 1
    assert (project / "report.html").stat().st_size < 5_000_000
    hook = audit(project)[-1]["on_drift"]
    assert hook["returncode"] == 3 and "retraining" in hook["stdout_tail"]
    run(str(files["ref"]), str(files["same"]), "-t", "ts", "--on-drift", "touch fired")
    assert not (project / "fired").exists()
    assert "on_drift" not in audit(project)[-1]


def test_mlflow_logging(project: Path, files: dict[str, Path]) -> None:
    r = run(str(files["ref"]), str(files["cur"]), "-t", "ts", "--mlflow", "--target", "y",
            "--prediction", "score")
    assert r.exit_code == 1
    run_id = audit(project)[-1]["mlflow_run_id"]
    import mlflow

    from nbmlops.config import load_config

    mlflow.set_tracking_uri(load_config().tracking_uri)
    got = mlflow.MlflowClient().get_run(run_id)
    assert got.data.tags["nbmlops.drift.verdict"] == "drift"
    assert got.data.metrics["drift.amount.drift"] == 1.0
    assert got.data.metrics["drift.quality_fail"] == 0.0
    assert got.data.metrics["drift.performance_degraded"] == 0.0
    assert 0.5 < got.data.metrics["drift.performance.auc"] <= 1.0
    assert 0.5 < got.data.metrics["drift.performance.est_auc"] <= 1.0
    arts = {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "drift")}
    assert arts == {"drift/report.json", "drift/report.md"}


def test_real_command_line(project: Path, files: dict[str, Path]) -> None:
    """The installed console script, as CI calls it."""
    exe = [sys.executable, "-m", "nbmlops", "drift", str(files["ref"]), str(files["cur"]),
           "-t", "ts", "-f", "md"]
    proc = subprocess.run(exe, cwd=project, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "| amount | numeric | DRIFT |" in proc.stdout
    bad = subprocess.run([*exe[:4], str(files["ref"]), "nope@x"], cwd=project,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:")


@pytest.mark.slow
def test_snapshot_names(dvc_project: Path, ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> None:
    """REF and CUR given as snapshot names (real DVC repository)."""
    from nbmlops.drift import fit_reference as fit
    from nbmlops.versioning.api import resolve, snapshot

    snapshot(ref_df, name="train")
    snapshot(cur_df, name="live")
    r = run("train@1", "live@1", "-t", "ts", "--target", "y", "--prediction", "score")
    assert r.exit_code == 1, r.output
    entry = audit(dvc_project)[-1]
    assert entry["reference"]["arg"] == "train@1"
    assert entry["current"]["hash"] == resolve("live@1").digest
    prof = fit("train@1", time_column="ts")
    assert prof.source["kind"] == "snapshot" and prof.source["digest"]
    saved = prof.save()
    assert saved == dvc_project / Path(resolve("train@1").path).parent / "train.v1.drift.json"
    assert run(str(saved), "live@1", "-t", "ts").exit_code == 1
