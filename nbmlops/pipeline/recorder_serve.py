"""The far ends of the recorder transports (see :mod:`nbmlops.pipeline.recorders`).

- :func:`kernel_call` runs one :class:`~nbmlops.pipeline.recorders.Recorder`
  method inside a notebook's kernel (for
  :class:`~nbmlops.pipeline.recorders.KernelRecorder`);
- run as a script (``python -m nbmlops.pipeline.recorder_serve``), this module
  is the helper process of :class:`~nbmlops.pipeline.recorders.SidecarRecorder`,
  speaking JSON lines: one request per line on stdin, one reply per line on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.mlflow_gateway import few_retries
from nbmlops.pipeline.recorders import Recorder

_IN_KERNEL: dict[str, Recorder] = {}


def kernel_call(request: str) -> str:
    """Run one :class:`Recorder` method inside a kernel; the JSON reply as text."""
    body = json.loads(request)
    key = json.dumps([body["config"], body["experiment"]], sort_keys=True)
    if key not in _IN_KERNEL:
        _IN_KERNEL[key] = Recorder(NbmlopsConfig(**body["config"]), body["experiment"])
    recorder = _IN_KERNEL[key]
    with few_retries():  # a server that died mid-run fails in seconds, not minutes
        result = getattr(recorder, body["op"])(*body["args"])
    if body["op"] == "begin":
        os.environ["NBMLOPS_PARENT_RUN_ID"] = result
    return json.dumps({"result": result, "experiment_id": recorder.experiment_id})


def _serve() -> None:
    """Helper-process loop: one JSON request per line, one JSON reply per line.

    SIGINT and SIGTERM are ignored: the runner handles them and still needs
    this helper to mark its runs KILLED; the helper ends when its stdin closes.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
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
