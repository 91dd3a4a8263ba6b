"""The metrics a service exports, and the Grafana dashboard that charts them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from nbmlops.serving.metrics import ServingMetrics
from nbmlops.serving.writer import LogWriter

ROOT = Path(__file__).resolve().parents[2]


def _exported(tmp_path: Path) -> set[str]:
    writer = LogWriter(tmp_path / "log")
    metrics = ServingMetrics(lambda: {"predictions": writer})
    metrics.enable_drift()
    metrics.requests.labels("m", "1", "200").inc()
    metrics.errors.labels("m", "1", "bad_request").inc()
    metrics.latency.labels("m", "1").observe(0.01)
    metrics.observe_predictions("m", "1", {"prediction": [0, 1, 1]})
    metrics.observe_predictions("m", "1", {"prediction": ["a", "b"]})
    metrics.shadow_errors.labels("m", "1").inc()
    metrics.switches.labels("m", "champion").inc()
    metrics.set_models("m", {"primary": ("champion", "1")})
    metrics.labels.inc()
    metrics.drift_status.labels("amount").set(2)
    metrics.drift_effect.labels("amount").set(0.4)
    body, ctype = metrics.render()
    writer.close()
    assert ctype.startswith("text/plain")
    names = set(re.findall(r"^(nbmlops_\w+?)(?:\{| )", body.decode(), flags=re.M))
    return names | {n.removesuffix("_count") for n in names}  # a histogram by its own name


def test_every_documented_metric_is_exported(tmp_path: Path) -> None:
    exported = _exported(tmp_path)
    doc = (ROOT / "docs" / "serving.md").read_text()
    documented = set(re.findall(r"`(nbmlops_\w+)`", doc))
    assert documented and documented <= exported, documented - exported


def test_the_grafana_dashboard_queries_only_exported_metrics(tmp_path: Path) -> None:
    exported = _exported(tmp_path)
    dash = json.loads((ROOT / "docs" / "grafana" / "nbmlops_serving.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"nbmlops_\w+", e)}
    assert used and used <= exported, used - exported
    assert {"nbmlops_drift_status", "nbmlops_request_latency_seconds_bucket",
            "nbmlops_log_queue_rows", "nbmlops_log_rows_dropped_total"} <= used
