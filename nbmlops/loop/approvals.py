"""Pending sign-offs the loop asked for: list, approve (promotes), reject (alias unchanged).

Requests live in ``.nbmlops/loop/approvals.json`` keyed ``model/version`` (a
re-run never asks twice); every decision goes to the loop audit log and is
set as a tag on the model version.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.fileio import atomic_write
from nbmlops.loop.config import LoopError

APPROVALS = ".nbmlops/loop/approvals.json"
AUDIT = ".nbmlops/loop_audit.jsonl"


@dataclass
class Approval:
    """One sign-off request: the candidate, its evidence and (later) the decision."""

    model: str
    version: str
    alias: str
    requested_at: str
    validation: dict[str, Any] = field(default_factory=dict)
    trained_on: str = ""
    run_id: str | None = None
    iteration: str = ""
    status: str = "pending"
    decided_by: str | None = None
    reason: str | None = None
    decided_at: str | None = None

    @property
    def key(self) -> str:
        """``model/version``."""
        return f"{self.model}/{self.version}"


def _read(project: NbmlopsConfig) -> dict[str, Approval]:
    p = project.path(APPROVALS)
    if not p.exists():
        return {}
    return {k: Approval(**v) for k, v in json.loads(p.read_text(encoding="utf-8")).items()}


def _write(project: NbmlopsConfig, items: dict[str, Approval]) -> None:
    atomic_write(project.path(APPROVALS),
                 json.dumps({k: asdict(v) for k, v in items.items()}, indent=1, default=str))


def audit(project: NbmlopsConfig, record: dict[str, Any]) -> dict[str, Any]:
    """Append ``record`` to the loop audit log (hash-chained)."""
    from nbmlops.gates import AuditLog

    stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
    return AuditLog(project.path(AUDIT)).append({"at": stamp, **record})


def request(project: NbmlopsConfig, item: Approval) -> Approval:
    """Record a pending request (once per model version)."""
    items = _read(project)
    if item.key in items:
        return items[item.key]
    items[item.key] = item
    _write(project, items)
    return item


def pending_approvals(model: str | None = None,
                      config: NbmlopsConfig | None = None) -> list[Approval]:
    """Requests still waiting for a human, oldest first."""
    items = _read(config or load_config())
    return sorted((a for a in items.values() if a.status == "pending"
                   and (model is None or a.model == model)), key=lambda a: a.requested_at)


def _pending(project: NbmlopsConfig, model: str, version: str | int) -> tuple[dict[str, Approval],
                                                                              Approval]:
    items = _read(project)
    item = items.get(f"{model}/{version}")
    if item is None or item.status != "pending":
        waiting = ", ".join(a.key for a in items.values() if a.status == "pending") or "none"
        raise LoopError(f"no pending approval for {model} v{version} (pending: {waiting}).",
                        model=model)
    return items, item


def approve(model: str, version: str | int, approver: str, reason: str | None = None,
            config: NbmlopsConfig | None = None) -> Any:
    """Sign off: promote the version to its alias (four-eyes applies); return the decision."""
    import nbmlops.registry as registry

    project = config or load_config()
    items, item = _pending(project, model, version)
    decision = registry.promote(model, item.version, to=item.alias, approver=approver,
                                reason=reason, config=project)
    _decide(project, items, item, "approved", approver, reason)
    audit(project, {"event": "loop", "step": "approve", "model": model, "version": item.version,
                    "iteration": item.iteration, "status": "done", "outcome": "promoted",
                    "by": approver, "reason": reason, "detail": str(decision)})
    return decision


def reject(model: str, version: str | int, approver: str, reason: str,
           config: NbmlopsConfig | None = None) -> Approval:
    """Refuse the candidate: audit + tag; the alias stays where it is."""
    from nbmlops.mlflow_gateway import registry as gw

    project = config or load_config()
    if not (reason and reason.strip()):
        raise LoopError("rejecting needs a reason (--reason '...'): it is kept in the audit.",
                        parameter="reason")
    items, item = _pending(project, model, version)
    _decide(project, items, item, "rejected", approver, reason)
    gw.set_tags(gw.client(project.tracking_uri), model, item.version,
                {"nbmlops.loop.rejected": json.dumps({"by": approver, "reason": reason,
                                                      "at": item.decided_at})})
    audit(project, {"event": "loop", "step": "approve", "model": model, "version": item.version,
                    "iteration": item.iteration, "status": "failed", "outcome": "failed",
                    "by": approver, "reason": reason,
                    "detail": f"rejected by {approver}: {reason}; @{item.alias} unchanged"})
    return item


def _decide(project: NbmlopsConfig, items: dict[str, Approval], item: Approval, status: str,
            who: str, reason: str | None) -> None:
    item.status, item.decided_by, item.reason = status, who, reason
    item.decided_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    _write(project, items)
