"""MLflow records of batch runs and sweeps (explicit client, thread-safe).

The fluent ``mlflow.start_run`` API keeps one active run per thread and
process; sweeps run several notebooks at once from threads, so everything
here goes through :class:`mlflow.MlflowClient` with explicit run ids.

:class:`SidecarRecorder` does the same work in a helper process (this module
run as a script, speaking JSON lines): importing MLflow takes seconds, and in
a helper it happens on the other core while the kernel boots and papermill
loads, instead of before them.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from nbmlops.config import NbmlopsConfig

_MAX_PARAM = 6000


class Recorder:
    """Create, fill and close MLflow runs in one experiment."""

    def __init__(self, config: NbmlopsConfig, experiment: str | None = None) -> None:
        from nbmlops.mlflow_gateway import client_for, use_store

        self.experiment_id = use_store(config, experiment)
        self.client = client_for(config.tracking_uri)

    def start(self, name: str, tags: dict[str, str], parent_run_id: str | None = None) -> str:
        """Create a RUNNING run and return its id."""
        tags = dict(tags)
        if parent_run_id:
            tags["mlflow.parentRunId"] = parent_run_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags=tags)
        return str(run.info.run_id)

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """Log parameters (lists/dicts as JSON text)."""
        from mlflow.entities import Param

        items = [Param(k, param_text(v)) for k, v in params.items()]
        if items:
            self.client.log_batch(run_id, params=items)

    def log_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        """Log final metric values."""
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
        if items:
            self.client.log_batch(run_id, metrics=items)

    def finish(self, run_id: str, status: str, tags: dict[str, str] | None = None,
               artifacts: list[Path] | list[str] | None = None) -> None:
        """Attach artifacts and tags, then end the run with ``status``."""
        for path in artifacts or []:
            if Path(path).is_file():
                self.client.log_artifact(run_id, str(path))
        for key, value in (tags or {}).items():
            self.client.set_tag(run_id, key, value[:5000])
        self.client.set_terminated(run_id, status)

    def children(self, run_id: str) -> list[Any]:
        """Runs tagged with ``run_id`` as their parent, oldest first."""
        runs = self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
            order_by=["attributes.start_time ASC"],
        )
        return list(runs)

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """Start a run and log its parameters; return the run id."""
        run_id = self.start(name, tags, parent_run_id)
        self.log_params(run_id, params)
        return run_id

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> tuple[dict[str, float], list[str]]:
        """Log metrics (from ``metrics_path``, else the child runs), artifacts, end the run."""
        file_metrics = read_metrics(Path(metrics_path)) if metrics_path else {}
        child_metrics, child_ids = self.child_metrics(run_id)
        metrics = file_metrics or child_metrics
        self.log_metrics(run_id, metrics)
        self.finish(run_id, status, tags, [Path(a) for a in artifacts])
        return metrics, child_ids

    def close(self) -> None:
        """Nothing to release in-process."""

    def child_metrics(self, run_id: str) -> tuple[dict[str, float], list[str]]:
        """Metrics of the child runs (later runs win) and their ids."""
        metrics: dict[str, float] = {}
        ids = []
        for run in self.children(run_id):
            ids.append(run.info.run_id)
            metrics.update(run.data.metrics)
        return metrics, ids


def param_text(value: Any) -> str:
    """A parameter value as MLflow text."""
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= _MAX_PARAM else text[: _MAX_PARAM - 3] + "..."


def read_metrics(path: Path) -> dict[str, float]:
    """Numeric values of a ``metrics.json`` (nested keys joined with ``.``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, float] = {}
    _flatten("", data, out)
    return out


def _flatten(prefix: str, value: Any, out: dict[str, float]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif (isinstance(value, (int, float)) and not isinstance(value, bool)
          and math.isfinite(value) and prefix):
        out[prefix] = float(value)


class SidecarRecorder:
    """A :class:`Recorder` in a helper process (see the module docstring).

    Thread-safe: one request at a time goes through the pipe (a sweep's
    threads share one helper, which also keeps SQLite writes in one process).
    """

    def __init__(self, config: NbmlopsConfig, experiment: str | None = None) -> None:
        import threading

        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "nbmlops.pipeline.record"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1)
        self._lock = threading.Lock()
        self.experiment_id: str | None = None
        self._opening = {"op": "open", "config": config.to_dict(), "experiment": experiment}
        self._send(self._opening)
        self._opened = False

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def _read(self) -> dict[str, Any]:
        from nbmlops.exceptions import TrackingError

        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._log.seek(0)
            raise TrackingError("The MLflow recorder process stopped: "
                                + (self._log.read().strip().splitlines() or ["no output"])[-1])
        body = json.loads(line)
        if "error" in body:
            raise TrackingError(f"Recording the run in MLflow failed: {body['error']}")
        if body.get("experiment_id"):
            self.experiment_id = body["experiment_id"]
        return dict(body)

    def _call(self, op: str, *args: Any) -> Any:
        with self._lock:
            if not self._opened:
                self._opened = True
                self._read()  # the answer to "open"
            self._send({"op": op, "args": list(args)})
            return self._read()["result"]

    def start(self, name: str, tags: dict[str, str], parent_run_id: str | None = None) -> str:
        """As :meth:`Recorder.start`."""
        return str(self._call("start", name, tags, parent_run_id))

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """As :meth:`Recorder.log_params`."""
        self._call("log_params", run_id, params)

    def log_metrics(self, run_id: str, metrics: dict[str, float]) -> None:
        """As :meth:`Recorder.log_metrics`."""
        self._call("log_metrics", run_id, metrics)

    def finish(self, run_id: str, status: str, tags: dict[str, str] | None = None,
               artifacts: list[str] | None = None) -> None:
        """As :meth:`Recorder.finish`."""
        self._call("finish", run_id, status, tags, [str(a) for a in artifacts or []])

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """As :meth:`Recorder.begin`."""
        return str(self._call("begin", name, tags, parent_run_id, params))

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> tuple[dict[str, float], list[str]]:
        """As :meth:`Recorder.end`."""
        metrics, ids = self._call("end", run_id, status, metrics_path, artifacts, tags)
        return dict(metrics), list(ids)

    def close(self) -> None:
        """Stop the helper process."""
        try:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._proc.kill()
        finally:
            self._log.close()


class KernelRecorder:
    """A :class:`Recorder` inside the notebook's own kernel.

    For notebooks that load MLflow anyway (``%%mlops`` cells, ``import
    mlflow``): the kernel imports it once for both, before the first cell,
    while this process loads papermill. When the kernel cannot answer (it
    died or is stuck in a timed-out cell) the work falls back to an
    in-process :class:`Recorder`.
    """

    sets_parent_env = True

    def __init__(self, km: Any, config: NbmlopsConfig, experiment: str | None) -> None:
        self._km = km
        self._config = config
        self._experiment = experiment
        self._fallback: Recorder | None = None
        self.experiment_id: str | None = None

    def _local(self) -> Recorder:
        if self._fallback is None:
            self._fallback = Recorder(self._config, self._experiment)
            self.experiment_id = self._fallback.experiment_id
        return self._fallback

    def _call(self, op: str, args: list[Any]) -> Any:
        from nbmlops.pipeline.kernel import kernel_eval

        request = json.dumps({"op": op, "args": args, "config": self._config.to_dict(),
                              "experiment": self._experiment})
        expr = f"__import__('nbmlops.pipeline.record', fromlist=['_']).kernel_call({request!r})"
        body = json.loads(kernel_eval(self._km, expr))
        self.experiment_id = body["experiment_id"]
        return body["result"]

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """As :meth:`Recorder.begin`; also sets ``NBMLOPS_PARENT_RUN_ID`` in the kernel."""
        from nbmlops.exceptions import KernelDiedError

        try:
            return str(self._call("begin", [name, tags, parent_run_id, params]))
        except (KernelDiedError, RuntimeError):  # record it anyway; the run reports the death
            return self._local().begin(name, tags, parent_run_id, params)

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> tuple[dict[str, float], list[str]]:
        """As :meth:`Recorder.end` (in this process when the kernel is gone)."""
        from nbmlops.exceptions import KernelDiedError

        if tags.get("nbmlops.status") in {"ok", "failed"} and self._fallback is None:
            try:
                metrics, ids = self._call("end", [run_id, status, metrics_path, artifacts, tags])
                return dict(metrics), list(ids)
            except (KernelDiedError, RuntimeError):
                pass
        return self._local().end(run_id, status, metrics_path, artifacts, tags)

    def close(self) -> None:
        """Nothing to release (the kernel is stopped by the runner)."""


_IN_KERNEL: dict[str, Recorder] = {}


def kernel_call(request: str) -> str:
    """Run one :class:`Recorder` method inside a kernel (see :class:`KernelRecorder`)."""
    import os

    body = json.loads(request)
    key = json.dumps([body["config"], body["experiment"]], sort_keys=True)
    if key not in _IN_KERNEL:
        _IN_KERNEL[key] = Recorder(NbmlopsConfig(**body["config"]), body["experiment"])
    recorder = _IN_KERNEL[key]
    from nbmlops.mlflow_gateway import few_retries

    with few_retries():  # a server that died mid-run fails in seconds, not minutes
        result = getattr(recorder, body["op"])(*body["args"])
    if body["op"] == "begin":
        os.environ["NBMLOPS_PARENT_RUN_ID"] = result
    return json.dumps({"result": result, "experiment_id": recorder.experiment_id})


def _serve() -> None:
    """Helper-process loop: one JSON request per line, one JSON reply per line."""
    import os

    from nbmlops.mlflow_gateway import few_retries

    with few_retries():  # a server that dies mid-run fails in seconds, not minutes
        _answer_all()
    # every request was answered (runs written); skip the slow interpreter teardown
    os._exit(0)


def _answer_all() -> None:
    recorder: Recorder | None = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "open":
                config = NbmlopsConfig(**dict(request["config"]))
                recorder = Recorder(config, request.get("experiment"))
                reply: dict[str, Any] = {"result": None}
            else:
                assert recorder is not None
                reply = {"result": getattr(recorder, request["op"])(*request["args"])}
            reply["experiment_id"] = recorder.experiment_id
        except Exception as exc:  # reported to the runner, which raises TrackingError
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
