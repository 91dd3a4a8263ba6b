"""The CI drift gate: compare, render, audit, optionally log to MLflow and react.

Every run — passing, failing or on bad input — appends one JSON line to the
audit log (default ``.nbmlops/drift_audit.jsonl`` under the project root):
time, input hashes, config hash, verdicts and, when ``on_drift`` ran, its
command, exit status and output tail. The log is only ever appended to
(opened in append mode, flushed and fsynced), never rewritten.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.drift.config import DriftConfig
from nbmlops.exceptions import DriftError, NbmlopsError

DEFAULT_AUDIT_LOG = ".nbmlops/drift_audit.jsonl"


@dataclass
class GateResult:
    """Outcome of :func:`run_gate`."""

    exit_code: int
    text: str
    report: Any = None
    audit: dict[str, Any] = field(default_factory=dict)


def run_gate(
    reference: Any,
    current: Any,
    *,
    config: str | os.PathLike[str] | DriftConfig | None = None,
    window: str | None = None,
    time_column: str | None = None,
    fail_on: str = "drift",
    fmt: str = "md",
    output: str | os.PathLike[str] | None = None,
    log_mlflow: bool = False,
    on_drift: str | None = None,
    audit_log: str | os.PathLike[str] | None = None,
    target: str | None = None,
    prediction: str | None = None,
    exclude: list[str] | None = None,
    project: Any = None,
) -> GateResult:
    """Run the drift gate (the plain API behind ``nbmlops drift``).

    Parameters
    ----------
    reference
        Saved profile JSON, data file/folder/glob, snapshot name, or DataFrame.
    current
        Data file/folder/glob, snapshot name, or DataFrame.
    config
        Drift YAML (default: the project's ``drift_config`` file when it exists).
    window, time_column
        Per-window verdicts (``"1D"`` etc. or a row count).
    fail_on
        ``drift`` (exit 1 on drift) or ``warn`` (exit 1 on warn or drift).
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
    project
        :class:`~nbmlops.config.NbmlopsConfig` (default: :func:`~nbmlops.config.load_config`).

    Returns
    -------
    GateResult
        ``exit_code`` 0 (pass), 1 (fail), 2 (bad input); ``text`` the rendering.
    """
    from nbmlops.config import load_config

    if fail_on not in ("drift", "warn"):
        raise DriftError(f"--fail-on must be 'drift' or 'warn', got {fail_on!r}.",
                         parameter="fail_on")
    if fmt not in ("json", "md", "html"):
        raise DriftError(f"--format must be json, md or html, got {fmt!r}.", parameter="format")
    proj = project or load_config()
    log_path = Path(audit_log) if audit_log else proj.path(DEFAULT_AUDIT_LOG)
    record: dict[str, Any] = {
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
        "reference": {"arg": _arg(reference)}, "current": {"arg": _arg(current)},
        "window": window, "fail_on": fail_on,
    }
    try:
        cfg = _config(config, proj)
        record["config_hash"] = cfg.digest()
        profile = _profile(reference, target, prediction, time_column, exclude)
        record["reference"]["hash"] = profile.digest()
        record["current"]["hash"] = input_hash(current)
        report = profile.compare(current, time_column=time_column, window=window, config=cfg,
                                 progress=False)
    except NbmlopsError as exc:
        record.update(verdict="error", exit_code=exc.exit_code, error=str(exc))
        append_audit(log_path, record)
        raise
    code = report.exit_code(fail_on)
    text = render(report, fmt)
    if output is not None:
        from nbmlops.fileio import atomic_write

        atomic_write(Path(output), text)
    record.update(
        verdict=report.verdict, exit_code=code, reason=report.reason,
        features={n: f.status for n, f in report.features.items()},
        drifted=report.drifted, n_ref=report.n_ref, n_cur=report.n_cur,
        windows={w.key: w.verdict for w in report.windows},
    )
    if log_mlflow:
        record["mlflow_run_id"] = log_to_mlflow(report, proj, text if fmt == "html" else None)
    if code == 1 and on_drift:
        record["on_drift"] = run_hook(on_drift, proj.project_root)
    append_audit(log_path, record)
    return GateResult(exit_code=code, text=text, report=report, audit=record)


def render(report: Any, fmt: str) -> str:
    """The report in ``fmt`` (json, md or html)."""
    if fmt == "json":
        return report.to_json(indent=1, include_state=False)
    if fmt == "html":
        return report.to_html()
    return report.to_markdown()


def _arg(x: Any) -> str:
    return str(x) if isinstance(x, str | os.PathLike) else f"<{type(x).__name__}>"


def _config(config: Any, proj: Any) -> DriftConfig:
    if isinstance(config, DriftConfig):
        return config
    if config is not None:
        return DriftConfig.load(config)
    default = proj.path(proj.drift_config)
    return DriftConfig.load(default) if default.is_file() else DriftConfig()


def _profile(reference: Any, target: str | None, prediction: str | None,
             time_column: str | None, exclude: list[str] | None = None) -> Any:
    from nbmlops.drift.profile import ReferenceProfile, fit_reference, load_profile

    if isinstance(reference, ReferenceProfile):
        return reference
    if isinstance(reference, str | os.PathLike) and str(reference).endswith(".json") \
            and Path(reference).is_file():
        head = Path(reference).read_text(encoding="utf-8", errors="replace")[:200]
        if "nbmlops.drift.profile" in head:
            return load_profile(reference)
    return fit_reference(reference, target=target, prediction=prediction,
                         time_column=time_column, exclude=exclude)


def input_hash(data: Any) -> str | None:
    """Content hash of an input: file bytes (streamed), a DataFrame's digest, or None."""
    from nbmlops.drift import sources as src

    if src.is_frame(data):
        from nbmlops.hashing import frame_digest

        return frame_digest(data)
    if isinstance(data, str) and src.is_snapshot_name(data):
        return src.snapshot_digest(data)
    if isinstance(data, str | os.PathLike | list | tuple):
        h = hashlib.blake2b(digest_size=16)
        for p in src.expand_paths(data):
            h.update(p.name.encode())
            with open(p, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        return h.hexdigest()
    return None


def append_audit(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line (never rewrites earlier lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, default=str, sort_keys=True) + "\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def run_hook(command: str, cwd: Path) -> dict[str, Any]:
    """Run ``command`` in a shell; return its outcome for the audit log."""
    t0 = time.monotonic()
    try:
        proc = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True,
                              check=False)
        out = {"returncode": proc.returncode, "stdout_tail": proc.stdout[-2000:],
               "stderr_tail": proc.stderr[-2000:]}
    except OSError as exc:
        out = {"returncode": None, "error": str(exc)}
    return {"command": command, "seconds": round(time.monotonic() - t0, 3), **out}


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
