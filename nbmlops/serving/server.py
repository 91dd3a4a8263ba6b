"""Run a :class:`~nbmlops.serving.service.Service` under uvicorn until SIGTERM/SIGINT.

Order of a clean stop: uvicorn stops accepting connections and waits for the
requests in flight (each has queued its log rows before answering), then the
alias follower and the drift monitor stop, then both logs are flushed. So
every 200 a client saw is a row in the log once the process has exited.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from typing import Any

from nbmlops.serving.options import ServeOptions
from nbmlops.serving.service import Service

log = logging.getLogger("nbmlops.serving")


@dataclass(frozen=True)
class Bind:
    """Where to listen (loopback unless told otherwise)."""

    host: str = "127.0.0.1"
    port: int = 5000
    log_level: str = "warning"


class Follower:
    """Re-read the aliases every ``poll`` seconds on a daemon thread."""

    def __init__(self, service: Service, poll: float) -> None:
        self.service, self.poll = service, poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nbmlops-alias", daemon=True)

    def start(self) -> Follower:
        """Start polling (no thread when ``poll`` is 0)."""
        if self.poll > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.service.reload()
            except Exception as exc:  # registry down or a bad new version: keep serving
                log.warning("nbmlops serve: alias check failed: %s", exc)

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()


def build(opts: ServeOptions) -> tuple[Service, Any]:
    """The service and its ASGI app (models loaded, log folders checked)."""
    from nbmlops.serving.app import ServingApp

    service = Service(opts)
    return service, ServingApp(service)


class Stopper:
    """Stop the follower and the monitor, flush the logs, say so — once."""

    def __init__(self, service: Service, follower: Follower, monitor: Any) -> None:
        self.service, self.follower, self.monitor = service, follower, monitor
        self.flushed: bool | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """Stop everything (first call) and return whether the logs were flushed."""
        with self._lock:
            if self.flushed is None:
                self.follower.stop()
                if self.monitor is not None:
                    self.monitor.stop()
                self.flushed = self.service.close()
                stats = self.service.writer.stats()
                print(f"nbmlops serve: stopped; {stats['rows_written']} rows written, "
                      f"{stats['rows_dropped']} dropped, {stats['queued_rows']} unwritten",
                      file=sys.stderr, flush=True)
            return self.flushed


def serve(opts: ServeOptions, bind: Bind) -> int:
    """Serve until a signal; return the exit code (0 when the logs were flushed).

    On SIGTERM/SIGINT uvicorn finishes the requests in flight, the logs are
    flushed (lifespan shutdown), then uvicorn re-raises the signal: the process
    ends as a signalled process, the way ``mlflow models serve`` does.
    """
    import uvicorn

    from nbmlops.serving.app import ServingApp
    from nbmlops.serving.monitor import start_monitor

    service = Service(opts)
    monitor = start_monitor(service, opts.monitor, opts.every) if opts.monitor else None
    stop = Stopper(service, Follower(service, opts.poll).start(), monitor)
    config = uvicorn.Config(ServingApp(service, stop), host=bind.host, port=bind.port,
                            log_level=bind.log_level, lifespan="on", access_log=False,
                            timeout_graceful_shutdown=30)
    versions = service.current.routing.versions()
    print(f"nbmlops serve: {opts.model} (versions {versions}) on http://{bind.host}:{bind.port} "
          f"logging to {opts.log_dir}", file=sys.stderr, flush=True)
    try:
        uvicorn.Server(config).run()
    finally:
        flushed = stop()
    return 0 if flushed else 1
