"""MLflow records of batch runs and sweeps: one interface, three transports.

Everything goes through :mod:`nbmlops.mlflow_gateway` (its client, retry cap
and batched :func:`~nbmlops.mlflow_gateway.write` of a
:class:`~nbmlops.run_record.RunRecord`) with explicit run ids: sweeps run
several notebooks at once from threads, and the fluent ``mlflow.start_run``
keeps one active run per thread.

Where the MLflow work happens is the transport (:func:`choose` picks it):

- :class:`Recorder`, in this process, when MLflow is loaded here already;
- :class:`KernelRecorder`, inside the notebook's own kernel, for notebooks
  that load MLflow anyway: it is imported once for both;
- :class:`SidecarRecorder`, in a helper process (:mod:`.recorder_serve`):
  importing MLflow takes seconds, and in a helper it happens on the other core
  while the kernel boots and papermill loads, instead of before them.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol

from nbmlops.config import NbmlopsConfig
from nbmlops.exceptions import KernelDiedError, TrackingError
from nbmlops.mlflow_gateway import client_for, ensure_experiment, log_files, write
from nbmlops.run_record import RunRecord, now_ms
from nbmlops.tracking.ranking import own_first, own_names
from nbmlops.tracking.secrets import Redactor, redact_notebook, redact_params

_MAX_PARAM = 6000
_MAX_TAG = 5000

#: what :meth:`RecorderLike.end` returns: the run's metrics and its child run ids
Ended = tuple[dict[str, float], list[str]]


class RecorderLike(Protocol):
    """What the runner and the sweep need from a recorder, whatever its transport."""

    @property
    def experiment_id(self) -> str | None:
        """The MLflow experiment id (known once the recorder reached the store)."""

    @property
    def sets_parent_env(self) -> bool:
        """Whether :meth:`begin` sets ``NBMLOPS_PARENT_RUN_ID`` in the kernel itself."""

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """Create a RUNNING run with ``tags`` and ``params``; return its id."""

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> Ended:
        """Log metrics (from ``metrics_path``, else the child runs), artifacts, tags; end."""

    def finish(self, run_id: str, status: str, metrics: dict[str, float],
               tags: dict[str, str]) -> None:
        """End a run with the given metrics and tags (no artifacts, no child lookup)."""

    def kill(self, run_id: str, tags: dict[str, str]) -> list[str]:
        """End the run and its still-RUNNING child runs KILLED; the children's ids."""

    def close(self) -> None:
        """Release the transport."""


def choose(config: NbmlopsConfig, experiment: str | None, km: Any = None) -> RecorderLike:
    """The recorder for runs in ``experiment``: here, in the kernel ``km``, or in a helper.

    Here when MLflow is loaded in this process already; in the kernel ``km``
    when given (notebooks that load MLflow anyway); else in a helper process.
    """
    if "mlflow" in sys.modules:
        return Recorder(config, experiment)
    if km is not None:
        return KernelRecorder(km, config, experiment)
    return SidecarRecorder(config, experiment)


class Recorder:
    """Create, fill and close MLflow runs in one experiment, in this process."""

    sets_parent_env = False

    def __init__(self, config: NbmlopsConfig, experiment: str | None = None) -> None:
        self._config = config
        self._experiment = experiment or config.experiment
        self._client = client_for(config.tracking_uri)
        self._secrets = Redactor()
        self.experiment_id: str | None = ensure_experiment(
            self._client, self._experiment, config.artifact_root)

    def _record(self, **fields: Any) -> RunRecord:
        return RunRecord(self._config.tracking_uri, self._experiment, self.experiment_id,
                         **fields)

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """Create a RUNNING run and log its parameters (lists/dicts as JSON text)."""
        if self._config.redact_secrets:  # `-p api_token X`: never a plain param nor tag
            self._secrets.learn(params.items())
            params = redact_params({k: param_text(v) for k, v in params.items()})
            tags = {k: self._secrets(v) for k, v in redact_params(tags).items()}
        record = self._record(run_name=name, parent_run_id=parent_run_id, tags=dict(tags),
                              params={k: param_text(v) for k, v in params.items()})
        return write(self._client, record, self._config.artifact_root, terminate=False)

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> Ended:
        """Log metrics (from ``metrics_path``, else the child runs), artifacts, end the run."""
        file_metrics = read_metrics(Path(metrics_path)) if metrics_path else {}
        child_metrics, child_ids = self.child_metrics(run_id)
        metrics = file_metrics or child_metrics
        with tempfile.TemporaryDirectory(prefix="nbmlops-redacted-") as tmp:
            log_files(self._client, run_id, [self._redacted(Path(a), Path(tmp)) for a in artifacts])
        self.finish(run_id, status, metrics, tags)
        return metrics, child_ids

    def _redacted(self, path: Path, tmp: Path) -> Path:
        """A redacted copy of a text artifact (the executed notebook: its parameters cell)."""
        if not self._config.redact_secrets or not path.is_file() or path.suffix not in (
                ".ipynb", ".py", ".txt", ".json", ".yaml", ".yml", ".log", ".md"):
            return path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return path
        red = redact_notebook(text, self._secrets) if path.suffix == ".ipynb" else self._secrets(
            text)
        if red == text:
            return path
        out = tmp / path.name
        out.write_text(red, encoding="utf-8")
        return out

    def finish(self, run_id: str, status: str, metrics: dict[str, float],
               tags: dict[str, str]) -> None:
        """Log final ``metrics`` and ``tags``, then end the run with ``status``."""
        now = now_ms()
        record = self._record(run_id=run_id, status=status,
                              metrics=[(k, float(v), now, 0) for k, v in metrics.items()],
                              tags={k: v[:_MAX_TAG] for k, v in tags.items()})
        if self._config.redact_secrets:
            record.tags = {k: self._secrets(v) for k, v in redact_params(record.tags).items()}
        write(self._client, record)

    def child_metrics(self, run_id: str) -> Ended:
        """Metrics of the child runs (later runs win) and their ids.

        The cells' own metrics come first, autologged ones after: the order
        of ``nbmlops runs``, kept by the summary ``nbmlops run`` prints.
        """
        runs = self._client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}'",
            order_by=["attributes.start_time ASC"])
        metrics: dict[str, float] = {}
        own: list[str] = []
        ids = []
        for run in runs:
            ids.append(str(run.info.run_id))
            metrics.update(run.data.metrics)
            own += own_names(run.data.tags.get("nbmlops.metrics"), run.data.metrics)
        return own_first(metrics, own), ids

    def kill(self, run_id: str, tags: dict[str, str]) -> list[str]:
        """End the run and its still-RUNNING child runs KILLED; the children's ids."""
        runs = self._client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}' "
            "and attributes.status = 'RUNNING'")
        ids = [str(run.info.run_id) for run in runs]
        for child in ids:
            self.finish(child, "KILLED", {}, {"nbmlops.status": "killed",
                                              "nbmlops.error": tags.get("nbmlops.error", "")})
        self.finish(run_id, "KILLED", {}, tags)
        return ids

    def close(self) -> None:
        """Nothing to release in-process."""


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

    sets_parent_env = False

    def __init__(self, config: NbmlopsConfig, experiment: str | None = None) -> None:
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed in close())
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "nbmlops.pipeline.recorder_serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1,
            start_new_session=True)  # a terminal's Ctrl-C stops the runner, which records
        self._lock = threading.Lock()
        self.experiment_id: str | None = None
        self._send({"op": "open", "config": config.to_dict(), "experiment": experiment})
        self._opened = False

    def _send(self, message: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(message) + "\n")
        self._proc.stdin.flush()

    def _read(self) -> dict[str, Any]:
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

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """As :meth:`Recorder.begin`."""
        return str(self._call("begin", name, tags, parent_run_id, params))

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> Ended:
        """As :meth:`Recorder.end`."""
        metrics, ids = self._call("end", run_id, status, metrics_path, artifacts, tags)
        return dict(metrics), list(ids)

    def finish(self, run_id: str, status: str, metrics: dict[str, float],
               tags: dict[str, str]) -> None:
        """As :meth:`Recorder.finish`."""
        self._call("finish", run_id, status, metrics, tags)

    def kill(self, run_id: str, tags: dict[str, str]) -> list[str]:
        """As :meth:`Recorder.kill`."""
        return list(self._call("kill", run_id, tags))

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
        module = "nbmlops.pipeline.recorder_serve"
        expr = f"__import__({module!r}, fromlist=['_']).kernel_call({request!r})"
        body = json.loads(kernel_eval(self._km, expr))
        self.experiment_id = body["experiment_id"]
        return body["result"]

    def begin(self, name: str, tags: dict[str, str], parent_run_id: str | None,
              params: dict[str, Any]) -> str:
        """As :meth:`Recorder.begin`; also sets ``NBMLOPS_PARENT_RUN_ID`` in the kernel."""
        try:
            return str(self._call("begin", [name, tags, parent_run_id, params]))
        except (KernelDiedError, RuntimeError):  # record it anyway; the run reports the death
            return self._local().begin(name, tags, parent_run_id, params)

    def end(self, run_id: str, status: str, metrics_path: str | None, artifacts: list[str],
            tags: dict[str, str]) -> Ended:
        """As :meth:`Recorder.end` (in this process when the kernel is gone)."""
        if tags.get("nbmlops.status") in {"ok", "failed"} and self._fallback is None:
            try:
                metrics, ids = self._call("end", [run_id, status, metrics_path, artifacts, tags])
                return dict(metrics), list(ids)
            except (KernelDiedError, RuntimeError):
                pass
        return self._local().end(run_id, status, metrics_path, artifacts, tags)

    def finish(self, run_id: str, status: str, metrics: dict[str, float],
               tags: dict[str, str]) -> None:
        """As :meth:`Recorder.finish` (in this process: the kernel may be gone)."""
        self._local().finish(run_id, status, metrics, tags)

    def kill(self, run_id: str, tags: dict[str, str]) -> list[str]:
        """As :meth:`Recorder.kill` (in this process: the kernel is being stopped)."""
        return self._local().kill(run_id, tags)

    def close(self) -> None:
        """Nothing to release (the kernel is stopped by the runner)."""
