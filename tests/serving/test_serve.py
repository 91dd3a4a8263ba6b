"""``nbmlops serve`` as a real process on 127.0.0.1 over a real registered model.

Requests in MLflow's formats, request ids, bad input (400 naming the column, nothing logged),
feedback (single and batch, bearer token), /metrics, the log read back by the drift engine,
DuckDB and pyarrow.dataset, and startup errors (unknown alias, unwritable log folder).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, free_port
from tests.serving.conftest import (
    RECORD,
    Server,
    invoke,
    log_rows,
    serve_cmd,
    uri_of,
    wait_request,
    wait_rows,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_answers_like_mlflow_and_logs_every_row_with_its_request_id(server: Server) -> None:
    status, headers, body = invoke(server, [RECORD, {**RECORD, "amount": 80.0}])
    assert status == 200 and list(body) == ["predictions"] and len(body["predictions"]) == 2
    rid = headers["x-request-id"]
    split = {"dataframe_split": {"columns": ["amount", "count", "merchant"],
                                 "data": [[1.0, 1, "food"]]}}
    status, h2, body2 = server.post("/invocations", split, {"x-request-id": "my-id-1"})
    assert status == 200 and h2["x-request-id"] == "my-id-1" and len(body2["predictions"]) == 1
    status, _, _ = server.post("/invocations", None, raw=b"amount,count,merchant\n3.5,1,fuel\n",
                               headers={"content-type": "text/csv"})
    assert status == 200
    mine = wait_request(server.log_dir, rid).sort_values("row")
    df = wait_request(server.log_dir, "my-id-1")
    assert list(mine.prediction) == body["predictions"]
    assert list(mine.amount) == [12.5, 80.0]
    assert set(mine.model_name) == {"fraud"} and set(mine.model_version) == {"1"}
    assert set(mine.model_alias) == {"champion"} and (mine.latency_ms > 0).all()
    assert (df.request_id == "my-id-1").sum() == 1


@pytest.mark.parametrize(("records", "column"), [
    ([{"amount": 1.0, "count": 2}], "merchant"),                                  # missing
    ([{**RECORD, "zip": "75001"}], "zip"),                                        # extra
    ([{**RECORD, "merchant": 5}], "merchant"),                                    # wrong dtype
    ([{**RECORD, "count": "many"}], "count"),                                     # wrong dtype
])
def test_bad_columns_are_a_400_naming_the_column_and_are_not_logged(
        server: Server, records: list[dict[str, object]], column: str) -> None:
    status, headers, body = invoke(server, records)
    assert status == 400, body
    assert column in body["message"]
    rid = headers["x-request-id"]
    _, h2, _ = invoke(server, [RECORD])  # the log is FIFO: once this row is in, rid would be
    assert len(wait_request(server.log_dir, h2["x-request-id"])) == 1
    assert rid not in set(log_rows(server.log_dir).request_id)


def test_malformed_json_and_oversized_bodies_are_refused(server: Server) -> None:
    status, _, body = server.post("/invocations", None, raw=b"{not json")
    assert status == 400 and "JSON" in body["message"]
    # a body declared over the limit is refused before it is read
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n{")
        head = sock.recv(4096).decode()
    assert head.startswith("HTTP/1.1 413") and "x-request-id" in head


def test_feedback_single_and_batch_needs_the_token(server: Server) -> None:
    _, headers, _ = invoke(server, [RECORD, RECORD])
    rid = headers["x-request-id"]
    assert server.post("/feedback", {"request_id": rid, "label": 1})[0] == 401
    status, _, body = server.admin("/feedback", {"request_id": rid, "label": 1})
    assert (status, body) == (200, {"accepted": 1})
    status, _, body = server.admin("/feedback", {"labels": [{"request_id": rid, "row": 1,
                                                             "label": 0}]})
    assert (status, body) == (200, {"accepted": 1})
    status, _, body = server.admin("/feedback", [{"label": 1}])
    assert status == 400 and "request_id" in body["message"]
    labels = wait_rows(server.log_dir.parent / "labels", 2)
    assert sorted(labels[labels.request_id == rid].prediction_id) == [f"{rid}/0", f"{rid}/1"]


def test_metrics_are_scraped_in_prometheus_text_format(server: Server) -> None:
    invoke(server, [RECORD])
    invoke(server, [{"amount": 1.0}])
    status, headers, text = server.get("/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    from prometheus_client.parser import text_string_to_metric_families

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(text) for s in fam.samples}
    mv = (("model", "fraud"), ("version", "1"))
    assert samples[("nbmlops_requests_total", (*mv[:1], ("status", "200"), mv[1]))] >= 1
    assert samples[("nbmlops_request_errors_total", (("kind", "bad_request"), *mv))] >= 1
    assert samples[("nbmlops_request_latency_seconds_count", mv)] >= 2
    assert samples[("nbmlops_prediction_count", mv)] >= 1
    assert ("nbmlops_log_rows_written_total", (("log", "predictions"),)) in samples
    assert ("nbmlops_log_queue_rows", (("log", "predictions"),)) in samples
    assert samples[("nbmlops_model_info", (("alias", "champion"), *mv[:1], ("role", "primary"),
                                           mv[1]))] == 1


def test_the_drift_engine_duckdb_and_pyarrow_read_the_live_log(server: Server,
                                                               registry: Path) -> None:
    from tests.serving._model import frame

    X = frame(60, 5, shift=25.0)  # amounts well above training: drift
    status, _, _ = invoke(server, X.to_dict("records"))
    assert status == 200
    df = wait_rows(server.log_dir, 60)
    import nbmlops.drift as drift

    ref = pd.read_parquet(registry / "train.parquet")
    report = drift.fit_reference(ref).compare(str(server.log_dir))
    assert report.n_cur == len(log_rows(server.log_dir)) >= 60
    assert "amount" in report.drifted
    import pyarrow.dataset as ds

    assert ds.dataset(server.log_dir, partitioning="hive").count_rows() == len(df)
    duckdb = pytest.importorskip("duckdb")
    (n,) = duckdb.sql(f"select count(*) from read_parquet('{server.log_dir}/**/*.parquet', "
                      "hive_partitioning=true)").fetchall()[0]
    assert n >= 60


def test_alias_move_is_followed_on_reload_and_audited(server: Server, registry: Path) -> None:
    from nbmlops.mlflow_gateway import scoring

    uri = uri_of(registry)
    try:
        scoring.set_alias(uri, "fraud", "champion", "2")
        status, _, body = server.admin("/reload", {})
        assert status == 200 and body["switched"] and body["versions"]["primary"] == "2"
        _, headers, _ = invoke(server, [RECORD])
        rid = headers["x-request-id"]
        row = wait_request(server.log_dir, rid)
        assert list(row.model_version) == ["2"]
    finally:
        scoring.set_alias(uri, "fraud", "champion", "1")
        server.admin("/reload", {})
    audit = (server.cwd / ".nbmlops" / "serving_audit.jsonl").read_text()
    assert '"event": "alias_switch"' in audit


def _start_fails(registry: Path, tmp_path: Path, model: str, log_dir: Path) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": uri_of(registry)}
    out = subprocess.run(serve_cmd(model, free_port(), log_dir), cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    return out.returncode, out.stderr


def test_unknown_alias_lists_the_choices(registry: Path, tmp_path: Path) -> None:
    code, err = _start_fails(registry, tmp_path, "fraud@champoin", tmp_path / "logs")
    assert code == 2
    assert "error: model 'fraud' has no alias 'champoin'; its aliases: challenger, champion" in err
    code, err = _start_fails(registry, tmp_path, "frod@champion", tmp_path / "logs")
    assert code == 2 and "registered models: fraud" in err


def test_unwritable_log_folder_is_a_clear_startup_error(registry: Path, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    code, err = _start_fails(registry, tmp_path, "fraud@champion", tmp_path / "blocker" / "log")
    assert code == 2 and "error: cannot write the log folder" in err
    assert "Traceback" not in err


def test_help_lists_the_flags() -> None:
    out = subprocess.run([sys.executable, "-m", "nbmlops", "serve", "--help"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    for flag in ("--port", "--host", "--log-dir", "--shadow", "--canary", "--monitor",
                 "--every", "--token", "--log-policy"):
        assert flag in out.stdout
