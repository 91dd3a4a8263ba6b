"""Done-when: two iterations against a real ``mlflow server`` and a real ``nbmlops serve``.

Traffic goes through ``/invocations``, labels through ``/feedback``; the
first iteration sees stable traffic (no trigger), the second an injected
ramp through to a pending approval; after the sign-off the service (polling
its alias every second) serves the new version.
"""

from __future__ import annotations

import datetime as _dt
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.loop import _world as w
from tests.serving.conftest import Server, launch, log_rows, wait_rows

pytestmark = [pytest.mark.slow, pytest.mark.server, pytest.mark.timeout(1200)]
TOKEN = "loop-token"


def _start(project: Path, ref: str, uri: str) -> Server:
    return launch(ref, project, uri, "--poll", "1s", "--flush-every", "0.2s", token=TOKEN)


def _send(server: Server, batches: int, seed: int, ramp: float) -> int:
    for b in range(batches):
        frame = w.rows(w.ROWS_PER_HOUR, seed + b, ramp)
        records = frame.drop(columns=["is_fraud"]).to_dict("records")
        status, headers, _ = server.post("/invocations", {"dataframe_records": records})
        assert status == 200
        rid = headers["x-request-id"]
        labels = [{"request_id": rid, "row": i, "label": int(y)}
                  for i, y in enumerate(frame["is_fraud"])]
        assert server.admin("/feedback", labels)[0] == 200
    return batches * w.ROWS_PER_HOUR


def _config(name: str, window: float, data_window: float, holdout: float) -> Any:
    from nbmlops.loop.config import from_dict

    raw = yaml.safe_load(w.LOOP_YAML.replace("model: fraud", f"model: {name}"))
    raw["monitor"]["window"] = f"{int(window * 1000)}ms"
    raw["train"]["data_window"] = f"{int(data_window * 1000)}ms"
    raw["validate"]["holdout_window"] = f"{int(holdout * 1000)}ms"
    return from_dict(raw)


def test_two_iterations_against_a_real_server_and_service(
        project: Path, mlflow_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbmlops.loop as loop
    from nbmlops.config import load_config
    from nbmlops.mlflow_gateway import registry as gw

    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=project, check=True)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.url)
    # mlflow.set_registry_uri (run in-process by earlier tests' validations) exports
    # MLFLOW_REGISTRY_URI, which a serve subprocess would inherit: an old project's registry
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setenv("NBMLOPS_IDENTITY_SOURCE", "env:TRAINER")
    monkeypatch.setenv("TRAINER", "alice")
    name = f"fraud-{uuid.uuid4().hex[:6]}"
    champ = w.champion(project, name)
    server = _start(project, f"{name}@champion", mlflow_server.url)
    try:
        t0 = time.time()
        n = _send(server, 40, 5000, 0.0)
        wait_rows(server.log_dir, n)
        first = loop.run_once(_config(name, 3600, 3600, 1), now=_dt.datetime.now(_dt.UTC))
        assert first.outcome == "no-trigger", first.table()

        t_ramp = time.time()
        n += _send(server, 120, 6000, 1.0)
        time.sleep(1.5)
        t_hold = time.time()
        n += _send(server, 50, 7000, 1.0)
        wait_rows(server.log_dir, n)
        time.sleep(1.0)  # the labels' writer flushes every second
        now = time.time()
        cfg = _config(name, now - t_ramp, t_hold - t_ramp - 0.5, now - t_hold + 0.2)
        started = time.monotonic()
        second = loop.run_once(cfg, now=_dt.datetime.fromtimestamp(now, _dt.UTC))
        print(f"\nreal server: triggered iteration {time.monotonic() - started:.1f}s "
              f"(traffic {t_ramp - t0:.0f}s + {now - t_ramp:.0f}s)\n{second.table()}")
        assert second.outcome == "pending-approval", second.table()
        cand = second.candidate
        loop.approve(name, cand, approver="risk-lead", reason="FPR back under target")
        cl = gw.client(load_config().tracking_uri)
        assert gw.by_alias(cl, name, "champion").version == cand != champ

        deadline, served = time.monotonic() + 120, None
        while time.monotonic() < deadline and served != cand:
            n += _send(server, 1, 9000, 1.0)
            rows = wait_rows(server.log_dir, n)
            served = str(rows.sort_values("timestamp")["model_version"].iloc[-1])
            time.sleep(0.5)
        assert served == cand, server.output()[-2000:]
        assert len(log_rows(server.log_dir)) >= n
    finally:
        server.stop()
