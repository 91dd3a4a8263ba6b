"""Prometheus metrics of a serving process (``GET /metrics``).

Names follow Prometheus conventions: counters end in ``_total``, durations are
histograms in seconds, labels are low-cardinality (model, version, role,
status, feature) — never request ids or feature values.

========================================  =========  ===============================
metric                                    type       labels
========================================  =========  ===============================
nbmlops_requests_total                    counter    model, version, status
nbmlops_request_errors_total              counter    model, version, kind
nbmlops_request_latency_seconds           histogram  model, version
nbmlops_prediction                        histogram  model, version (numeric outputs)
nbmlops_prediction_class_total            counter    model, version, value (≤ 50 values)
nbmlops_shadow_errors_total               counter    model, version
nbmlops_model_info                        gauge      model, alias, version, role
nbmlops_alias_switches_total              counter    model, alias
nbmlops_log_queue_rows                    gauge      log
nbmlops_log_rows_written_total            counter    log
nbmlops_log_rows_dropped_total            counter    log
nbmlops_log_write_errors_total            counter    log
nbmlops_labels_total                      counter
nbmlops_drift_status                      gauge      feature (0 ok, 1 warn, 2 drift)
nbmlops_drift_effect                      gauge      feature
nbmlops_drift_verdict                     gauge      (0 ok, 1 warn, 2 drift, -1 error)
nbmlops_drift_rows                        gauge
========================================  =========  ===============================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

#: latency buckets (seconds): a sklearn model answers in milliseconds
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: prediction buckets: probabilities and class labels land in the first ones
PREDICTION_BUCKETS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 2.0, 5.0, 10.0,
                      100.0, 1000.0)
MAX_CLASSES = 50
STATUS_LEVEL = {"ok": 0, "warn": 1, "drift": 2, "error": -1}


class LogCollector:
    """Exports a writer's counters at scrape time (no bookkeeping on the request path)."""

    def __init__(self, writers: Callable[[], dict[str, Any]]) -> None:
        self.writers = writers

    def collect(self) -> Iterator[Any]:
        """Yield the log metrics families."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        queue = GaugeMetricFamily("nbmlops_log_queue_rows", "Rows waiting to be written",
                                  labels=["log"])
        fams = {k: CounterMetricFamily(f"nbmlops_log_{k}", h, labels=["log"]) for k, h in (
            ("rows_written", "Rows written to Parquet"),
            ("rows_dropped", "Rows dropped (policy drop, queue full)"),
            ("write_errors", "Failed batch writes (retried)"))}
        for name, writer in self.writers().items():
            stats = writer.stats()
            queue.add_metric([name], stats["queued_rows"])
            for key, fam in fams.items():
                fam.add_metric([name], stats[key])
        yield queue
        yield from fams.values()


class ServingMetrics:
    """The metric objects of one serving process, in their own registry."""

    def __init__(self, writers: Callable[[], dict[str, Any]]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        r = self.registry = CollectorRegistry()
        mv = ["model", "version"]
        self.requests = Counter("nbmlops_requests", "Scoring requests", [*mv, "status"],
                                registry=r)
        self.errors = Counter("nbmlops_request_errors", "Failed scoring requests",
                              [*mv, "kind"], registry=r)
        self.latency = Histogram("nbmlops_request_latency_seconds", "Scoring latency", mv,
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.prediction = Histogram("nbmlops_prediction", "Numeric predictions", mv,
                                    buckets=PREDICTION_BUCKETS, registry=r)
        self.classes = Counter("nbmlops_prediction_class", "Non-numeric predictions",
                               [*mv, "value"], registry=r)
        self.shadow_errors = Counter("nbmlops_shadow_errors", "Shadow model failures", mv,
                                     registry=r)
        self.model_info = Gauge("nbmlops_model_info", "Model versions serving now",
                                ["model", "alias", "version", "role"], registry=r)
        self.switches = Counter("nbmlops_alias_switches", "Alias moves followed",
                                ["model", "alias"], registry=r)
        self.labels = Counter("nbmlops_labels", "Labels received on /feedback", registry=r)
        # drift gauges join the registry only when a monitor runs (enable_drift)
        self.drift_status = Gauge("nbmlops_drift_status", "Drift status per feature "
                                  "(0 ok, 1 warn, 2 drift)", ["feature"], registry=None)
        self.drift_effect = Gauge("nbmlops_drift_effect", "Drift effect size per feature",
                                  ["feature"], registry=None)
        self.drift_verdict = Gauge("nbmlops_drift_verdict", "Dataset drift verdict "
                                   "(0 ok, 1 warn, 2 drift, -1 error)", registry=None)
        self.drift_rows = Gauge("nbmlops_drift_rows", "Log rows the monitor has read",
                                registry=None)
        r.register(LogCollector(writers))
        self._classes: set[str] = set()

    def observe_predictions(self, model: str, version: str, columns: dict[str, Any]) -> None:
        """Record the first prediction column's values (numeric: histogram; else counts)."""
        import numpy as np

        if not columns:
            return
        values = np.asarray(next(iter(columns.values())))
        if values.dtype.kind in "biuf":
            hist = self.prediction.labels(model, version)
            for v in values.astype(float).tolist():
                hist.observe(v)
            return
        for v in map(str, values.tolist()):
            if v in self._classes or len(self._classes) < MAX_CLASSES:
                self._classes.add(v)
                self.classes.labels(model, version, v).inc()

    def set_models(self, model: str, aliases: dict[str, tuple[str, str]]) -> None:
        """Mark the serving versions: role -> (alias, version)."""
        self.model_info.clear()
        for role, (alias, version) in aliases.items():
            self.model_info.labels(model, alias, version, role).set(1)

    def enable_drift(self) -> None:
        """Export the drift gauges (a monitor runs); the verdict starts at -1 (none yet)."""
        for gauge in (self.drift_status, self.drift_effect, self.drift_verdict, self.drift_rows):
            self.registry.register(gauge)
        self.drift_verdict.set(-1)

    def set_drift(self, report: Any) -> None:
        """Export a drift report's per-feature status and effect."""
        for name, feat in report.features.items():
            self.drift_status.labels(name).set(STATUS_LEVEL.get(feat.status, -1))
            if feat.effect is not None:
                self.drift_effect.labels(name).set(float(feat.effect))
        self.drift_verdict.set(STATUS_LEVEL.get(report.verdict, -1))
        self.drift_rows.set(report.n_cur)

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
