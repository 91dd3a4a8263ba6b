"""An ``http://`` tracking server works the same; an outage loses nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import MlflowServer
from tests.tracking._helpers import all_runs, artifact_text

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_http_tracking_uri_from_environment(ip, mlflow_server, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "http_exp")
    ip.user_ns["df"] = pd.DataFrame({"a": [1, 2, 3]})
    ip.run_cell("%%mlops run --name over_http\nC = 3\ntotal = float(df['a'].sum() * C)")
    client = MlflowClient(tracking_uri=mlflow_server.url)
    (run,) = client.search_runs([client.get_experiment_by_name("http_exp").experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"C": "3"} and run.data.metrics == {"total": 18.0}
    assert run.inputs.dataset_inputs[0].dataset.name == "df"
    assert artifact_text(client, run.info.run_id, "code/cell.py").startswith("C = 3")


def test_outage_spools_whole_run_then_sync_uploads_it(ip, tmp_path, capsys, project):
    from mlflow import MlflowClient

    from nbmlops.cli import main

    server = MlflowServer(tmp_path)  # our own: stopping it must not break the session one
    server.start(timeout=300)  # a start takes a minute or more on a loaded machine
    try:
        ip.run_line_magic("mlops", f"init --experiment outage --tracking-uri {server.url}")
        ip.user_ns["server"] = server
        ip.run_cell("%%mlops run --name before\nC = 1\nacc = C / 2")
        capsys.readouterr()
        from nbmlops.tracking.current import active_run_id

        ip.user_ns["active_run_id"] = active_run_id
        # the server dies in the middle of the cell: the cell still runs
        ip.run_cell("%%mlops run --name during\nC = 2\nserver.stop()\nacc = C / 4\n"
                    "rid = active_run_id()\nprint('still here')")
        during_id = ip.user_ns["rid"]
        captured = capsys.readouterr()
        assert "still here" in captured.out
        assert captured.err.count("nbmlops: warning") == 1
        assert ip.user_ns["acc"] == 0.5
        # started while the server is down: runs, one warning, spooled
        ip.run_cell("%%mlops run --name offline\nC = 3\nacc = C / 8")
        assert capsys.readouterr().err.count("nbmlops: warning") == 1
        spool = project / ".nbmlops" / "spool"
        assert len(list(spool.iterdir())) == 2
        result = CliRunner().invoke(main, ["sync"])
        assert result.exit_code == 1 and "2 waiting" in result.output

        server.start(timeout=300)  # a start takes a minute or more on a loaded machine
        # the next successful contact uploads the spooled runs automatically
        ip.run_cell("%%mlops run --name back\nC = 5\nacc = C / 10")
        assert "uploaded 2 run(s)" in capsys.readouterr().err
        assert list(spool.iterdir()) == []
        client = MlflowClient(tracking_uri=server.url)
        runs = {r.info.run_name: r for r in all_runs(client)}
        assert set(runs) == {"before", "during", "offline", "back"}
        for name, c, acc in [("during", "2", 0.5), ("offline", "3", 0.375)]:
            run = runs[name]
            assert run.info.status == "FINISHED"
            assert run.data.params["C"] == c and run.data.metrics["acc"] == acc
            assert run.data.tags["mlflow.source.type"] == "NOTEBOOK"
            assert run.data.tags["nbmlops.spooled"] == "true"
            assert artifact_text(client, run.info.run_id, "code/cell.py").startswith(f"C = {c}")
        assert "still here" in artifact_text(client, runs["during"].info.run_id,
                                             "output/stdout.txt")
        assert runs["during"].info.run_id == during_id  # same run, completed
    finally:
        server.stop()
