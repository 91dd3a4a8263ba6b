"""The drift monitor inside a serving process: the service's own log against a reference.

Every ``every`` seconds the headless :class:`~nbmlops.drift.monitor.DriftMonitor`
reads the log files written since its last poll, re-judges the whole log so
far against the reference, exports per-feature status and effect as gauges
(``nbmlops_drift_status``, ``nbmlops_drift_effect``) and appends one record to
the service's audit log, so Prometheus alerting can fire on drift.
"""

from __future__ import annotations

import logging
from typing import Any

from nbmlops.serving.service import Service

log = logging.getLogger("nbmlops.serving")


def start_monitor(service: Service, reference: str, every: float) -> Any:
    """Fit/load ``reference`` (errors surface at startup) and start polling the log."""
    from nbmlops.drift.inputs import resolve_reference
    from nbmlops.drift.monitor import DriftMonitor

    profile = resolve_reference(reference)
    service.metrics.enable_drift()

    def on_report(report: Any) -> None:
        service.metrics.set_drift(report)
        service.audit.append({"event": "drift", "model": service.name, "reference": reference,
                              "verdict": report.verdict, "drifted": report.drifted,
                              "warned": report.warned, "rows": report.n_cur,
                              "versions": service.current.routing.versions()})
        log.warning("nbmlops serve: drift verdict %s (%s rows)", report.verdict, report.n_cur)

    def on_status(monitor: Any) -> None:
        if monitor.error:
            service.metrics.drift_verdict.set(-1)

    monitor = DriftMonitor(profile, service.opts.log_dir, every, on_report, on_status=on_status)
    return monitor.start()
