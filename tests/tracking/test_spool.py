"""The spool on its own: atomic records, sync via %mlops sync and ``nbmlops sync``."""

from __future__ import annotations

from click.testing import CliRunner

from nbmlops.config import load_config
from nbmlops.run_record import RunRecord
from nbmlops.tracking.spool import pending, spool
from tests.tracking._helpers import all_runs, artifact_text


def _record(config, name):
    rec = RunRecord(tracking_uri=config.tracking_uri, experiment="spooled", run_name=name,
                    status="FINISHED", end_time=None)
    rec.params = {"C": "0.5"}
    rec.add_metric("acc", 0.9)
    rec.add_metric("loss", 0.5, step=1)
    rec.tags = {"mlflow.source.type": "NOTEBOOK"}
    rec.artifacts = {"code/cell.py": "C = 0.5\n"}
    rec.datasets = [{"name": "train", "digest": "d1", "source_type": "local",
                     "source": '{"uri": "x"}', "schema": None, "profile": None,
                     "context": "training"}]
    return rec


def test_record_round_trip():
    rec = _record(load_config(), "a")
    assert RunRecord.from_dict(rec.to_dict()) == rec


def test_sync_uploads_everything_and_empties_the_spool(ip, client, project, capsys):
    config = load_config()
    folder = config.path(config.spool_dir)
    spool(_record(config, "one"), folder, config.artifact_root)
    spool(_record(config, "two"), folder, config.artifact_root)
    assert len(pending(folder)) == 2 and not list(folder.glob(".tmp-*"))
    ip.run_line_magic("mlops", "sync")
    assert "2 run(s) uploaded" in capsys.readouterr().out
    assert pending(folder) == []
    runs = {r.info.run_name: r for r in all_runs(client)}
    run = runs["one"]
    assert run.info.status == "FINISHED" and run.data.params == {"C": "0.5"}
    assert run.data.metrics == {"acc": 0.9, "loss": 0.5}
    assert run.inputs.dataset_inputs[0].dataset.digest == "d1"
    assert artifact_text(client, run.info.run_id, "code/cell.py") == "C = 0.5\n"


def test_cli_sync_and_runs(project, client):
    from nbmlops.cli import main

    config = load_config()
    spool(_record(config, "cli"), config.path(config.spool_dir), config.artifact_root)
    result = CliRunner().invoke(main, ["sync"])
    assert result.exit_code == 0 and "1 run(s) uploaded" in result.output
    result = CliRunner().invoke(main, ["runs", "--experiment", "spooled"])
    assert result.exit_code == 0 and "cli" in result.output and "FINISHED" in result.output
    result = CliRunner().invoke(main, ["runs", "--experiment", "missing"])
    assert result.exit_code == 2 and "no experiment 'missing'" in result.output
