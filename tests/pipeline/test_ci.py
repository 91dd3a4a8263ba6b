"""``nbmlops ci init``: a GitHub Actions workflow and a plain shell script."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from nbmlops.cli import main
from nbmlops.exceptions import PipelineError
from nbmlops.pipeline.ci import SCRIPT, WORKFLOW, init_ci


def test_writes_workflow_and_script(train_nb: Path, project: Path) -> None:
    result = init_ci()
    workflow = yaml.safe_load((project / WORKFLOW).read_text())
    steps = workflow["jobs"]["reproduce"]["steps"]
    assert steps[2]["run"] == f"bash {SCRIPT}"
    upload = steps[3]
    assert upload["if"] == "always()" and upload["with"]["path"] == "ci-artifacts/"
    script = project / SCRIPT
    text = script.read_text()
    assert script.stat().st_mode & 0o111
    assert "dvc repro" in text and "pip install -e ." in text
    assert "nbmlops run notebooks/train.ipynb" in text  # no dvc.yaml: runs the notebook
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    assert result.runs == "nbmlops run"
    with pytest.raises(PipelineError, match="--force"):
        init_ci()
    (project / "dvc.yaml").write_text("stages: {}\n")
    assert init_ci(force=True).runs == "dvc repro"


def test_cli() -> None:
    out = CliRunner().invoke(main, ["ci", "init", "--notebook", "a b.ipynb", "--json"])
    assert out.exit_code == 0, out.output
    assert "nbmlops run 'a b.ipynb'" in Path(SCRIPT).read_text()
    again = CliRunner().invoke(main, ["ci", "init"])
    assert again.exit_code == 2 and "--force" in again.output


def test_a_declared_loop_adds_a_scheduled_loop_job(project: Path) -> None:
    (project / "mlops.yaml").write_text("model: fraud\n")
    init_ci(notebooks=[])
    workflow = yaml.safe_load((project / WORKFLOW).read_text())
    on = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert on["schedule"] == [{"cron": "17 * * * *"}] and "push" in on
    assert workflow["jobs"]["reproduce"]["if"] == "github.event_name != 'schedule'"
    loop = workflow["jobs"]["loop"]
    assert loop["steps"][-1]["run"] == f"bash {SCRIPT} loop"
    assert loop["steps"][2]["with"]["key"] == "nbmlops-loop-${{ github.run_id }}"
    text = (project / SCRIPT).read_text()
    assert 'exec nbmlops loop --once' in text
    assert subprocess.run(["bash", "-n", str(project / SCRIPT)], check=False).returncode == 0
