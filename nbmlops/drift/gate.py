"""The CI drift gate: resolve the inputs, compare, render, audit, log to MLflow, react.

Every run — passing, failing or on bad input — appends one JSON line to the
audit log (default ``.nbmlops/drift_audit.jsonl`` under the project root):
time, input hashes, config hash, verdicts and, when ``on_drift`` ran, its
command, exit status and output tail. The log is the hash-chained,
append-only :class:`~nbmlops.gates.AuditLog` of the shared gate core
(:mod:`nbmlops.gates`); ``nbmlops audit verify`` checks it.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbmlops.drift.config import DriftConfig
from nbmlops.drift.engine import compare
from nbmlops.drift.inputs import input_hash, resolve_config, resolve_reference
from nbmlops.drift.report import parse_fail_on
from nbmlops.drift.windows import default_time_column
from nbmlops.exceptions import DriftError
from nbmlops.gates import AuditLog, Finish, GateResult, audited, finish

DEFAULT_AUDIT_LOG = ".nbmlops/drift_audit.jsonl"
ALERT_STATE = ".nbmlops/drift_alert_state.json"
FORMATS = ("json", "md", "html")


@dataclass(frozen=True)
class GateOptions:
    """Options of :func:`run_gate` (the ``nbmlops drift`` flags).

    Attributes
    ----------
    config
        Drift YAML, dict or :class:`DriftConfig` (default: the project's
        ``drift_config`` file when it exists).
    window, time_column
        Per-window verdicts (``"1D"`` etc. or a row count) and the time column
        (default: :func:`~nbmlops.drift.windows.default_time_column`).
    fail_on
        What fails the gate (exit 1), comma-separated: ``drift`` (data drift),
        ``warn`` (warn or drift), ``performance`` (a degraded performance
        verdict), ``quality`` (a data-quality failure). ``drift`` and ``warn``
        imply ``quality`` (:func:`~nbmlops.drift.report.parse_fail_on`).
    fmt, output
        ``json``, ``md`` or ``html``; written to ``output`` when given.
    log_mlflow
        Log statistics and the report to an MLflow run in the project's store.
    on_drift
        Shell command run when the gate fires; its outcome goes to the audit log.
    audit_log
        JSONL audit log path (default ``.nbmlops/drift_audit.jsonl`` in the project).
    target, prediction, exclude
        Column roles (and columns to leave out) when the reference is fitted here.
    labels, id_column
        Late labels (DataFrame, file, folder or glob with the id and the target
        or a ``label`` column) joined to the current data by ``id_column``
        (default ``request_id``), see :mod:`nbmlops.drift.labels`.
    alert
        ``webhook:URL`` sinks posted on a state change (with ``alert:`` of the
        config; :mod:`nbmlops.drift.alerts`); outcomes go to the audit log.
    """

    config: str | os.PathLike[str] | DriftConfig | dict[str, Any] | None = None
    window: str | None = None
    time_column: str | None = None
    fail_on: str | tuple[str, ...] = "drift"
    fmt: str = "md"
    output: str | os.PathLike[str] | None = None
    log_mlflow: bool = False
    on_drift: str | None = None
    audit_log: str | os.PathLike[str] | None = None
    target: str | None = None
    prediction: str | None = None
    exclude: list[str] | None = None
    labels: Any = None
    id_column: str | None = None
    alert: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        parse_fail_on(self.fail_on)
        if self.fmt not in FORMATS:
            raise DriftError(f"--format must be json, md or html, got {self.fmt!r}.",
                             parameter="format")


def run_gate(reference: Any, current: Any, options: GateOptions | None = None,
             project: Any = None, **kwargs: Any) -> GateResult:
    """Run the drift gate (the plain API behind ``nbmlops drift``).

    Parameters
    ----------
    reference
        Saved profile JSON, data file/folder/glob, snapshot name, or DataFrame.
    current
        Data file/folder/glob, snapshot name, or DataFrame.
    options
        The gate's options (:class:`GateOptions`); ``**kwargs`` are its fields
        given one by one (``run_gate(ref, cur, window="1D", fail_on="warn")``).
    project
        :class:`~nbmlops.config.NbmlopsConfig` (default: :func:`~nbmlops.config.load_config`).

    Returns
    -------
    GateResult
        ``exit_code`` 0 (pass), 1 (fail), 2 (bad input); ``text`` the rendering.
    """
    from nbmlops.config import load_config

    if options is not None and kwargs:
        raise DriftError("Pass the gate's options either as GateOptions or as keywords.",
                         parameter=sorted(kwargs)[0])
    opts = options or GateOptions(**kwargs)
    proj = project or load_config()
    audit = AuditLog(opts.audit_log or proj.path(DEFAULT_AUDIT_LOG))
    record: dict[str, Any] = {
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
        "reference": {"arg": _arg(reference)}, "current": {"arg": _arg(current)},
        "window": opts.window, "fail_on": opts.fail_on,
    }
    if opts.labels is not None:
        record["labels"] = {"arg": _arg(opts.labels)}
    with audited(record, audit):
        report = _compare(reference, current, opts, proj, record)
    text = render(report, opts.fmt)
    record.update(
        verdict=report.verdict, reason=report.reason,
        features={n: f.status for n, f in report.features.items()},
        drifted=report.drifted, n_ref=report.n_ref, n_cur=report.n_cur,
        windows={w.key: w.verdict for w in report.windows},
        fired=report.fired, quality=report.quality,
        performance=(report.performance or {}).get("verdict"),
    )
    if opts.log_mlflow:
        html = text if opts.fmt == "html" else None
        record["mlflow_run_id"] = log_to_mlflow(report, proj, html)
    sinks = [*opts.alert, *report.config.alert]
    if sinks:
        from nbmlops.drift.alerts import Alerter

        link = str(Path(opts.output).resolve()) if opts.output else None
        record["alerts"] = Alerter(sinks, proj.path(ALERT_STATE), link=link).notify(report)
    how = Finish(audit, proj.project_root, opts.output, opts.on_drift, "on_drift")
    return finish(record, text, report.exit_code(opts.fail_on), how, report)


def _compare(reference: Any, current: Any, opts: GateOptions, proj: Any,
             record: dict[str, Any]) -> Any:
    """Resolve the inputs (as the panel and the magic do) and compare; hashes go to ``record``."""
    cfg = resolve_config(opts.config, proj)
    record["config_hash"] = cfg.digest()
    profile = resolve_reference(reference, target=opts.target, prediction=opts.prediction,
                                time_column=opts.time_column, exclude=opts.exclude,
                                window=opts.window)
    record["reference"]["hash"] = profile.digest()
    record["current"]["hash"] = input_hash(current)
    tcol = default_time_column(profile, opts.window, opts.time_column)
    if opts.labels is not None:
        record["labels"]["hash"] = input_hash(opts.labels)
    return compare(profile, current, time_column=tcol, window=opts.window, config=cfg,
                   progress=False, labels=opts.labels, id_column=opts.id_column)


def render(report: Any, fmt: str) -> str:
    """The report in ``fmt`` (json, md or html)."""
    if fmt == "json":
        return str(report.to_json(indent=1, include_state=False))
    if fmt == "html":
        return str(report.to_html())
    return str(report.to_markdown())


def _arg(x: Any) -> str:
    return str(x) if isinstance(x, str | os.PathLike) else f"<{type(x).__name__}>"


def log_to_mlflow(report: Any, proj: Any, html: str | None = None) -> str:
    """Log per-feature statistics and the report to a new MLflow run; return its id.

    The run is written through the MLflow gateway as one record (no fluent
    ``mlflow.start_run``, which would collide with an active ``%%mlops run``).
    """
    from nbmlops.mlflow_gateway import client_for, write
    from nbmlops.run_record import RunRecord, now_ms

    record = RunRecord(tracking_uri=proj.tracking_uri, experiment=proj.experiment,
                       run_name="drift-gate", status="FINISHED")
    record.tags.update({"nbmlops.kind": "drift", "nbmlops.drift.verdict": report.verdict})
    record.params.update({"drift.n_ref": str(report.n_ref), "drift.n_cur": str(report.n_cur),
                          "drift.config_hash": report.config.digest(),
                          "drift.window": report.window_spec or "none"})
    record.add_metric("drift.n_drifted", float(len(report.drifted)))
    record.add_metric("drift.quality_fail", float(report.quality.get("verdict") == "fail"))
    perf = report.performance or {}
    if perf.get("verdict") in ("ok", "degraded"):
        record.add_metric("drift.performance_degraded", float(perf["verdict"] == "degraded"))
    for prefix, values in (("", perf.get("current")), ("est_", perf.get("estimated"))):
        for k in ("auc", "accuracy", "fpr", "tpr", "macro_recall", "mae", "rmse"):
            v = (values or {}).get(prefix + k)
            if v is not None:
                record.add_metric(f"drift.performance.{prefix}{k}", float(v))
    for name, f in report.features.items():
        key = _metric_key(name)
        if f.effect is not None:
            record.add_metric(f"drift.{key}.effect", float(f.effect))
        if f.p_adjusted is not None:
            record.add_metric(f"drift.{key}.p_adj", float(f.p_adjusted))
        record.add_metric(f"drift.{key}.drift", 1.0 if f.status == "drift" else 0.0)
    record.artifacts["drift/report.json"] = report.to_json(include_state=False)
    record.artifacts["drift/report.md"] = report.to_markdown()
    if html is not None:
        record.artifacts["drift/report.html"] = html
    record.end_time = now_ms()
    return write(client_for(proj.tracking_uri), record, proj.artifact_root)


def _metric_key(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", name)[:200]
