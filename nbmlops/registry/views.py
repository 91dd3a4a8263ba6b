"""Read-backs: ``history`` (who promoted what, when, why, on which validation) and ``models``."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.gates import verify_audit
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import record as rec
from nbmlops.registry.refs import RegistryError, parse


@dataclass
class Table:
    """A titled table that prints as text and renders as HTML in a notebook."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    def to_dicts(self) -> list[dict[str, str]]:
        """Rows as dicts."""
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]

    def __str__(self) -> str:
        widths = [max([len(c), *(len(r[i]) for r in self.rows)]) for i, c in
                  enumerate(self.columns)]
        widths = [min(w, 48) for w in widths]
        line = "  ".join(f"{c:<{w}}" for c, w in zip(self.columns, widths, strict=True))
        body = ["  ".join(f"{v[:48]:<{w}}" for v, w in zip(r, widths, strict=True))
                for r in self.rows]
        return "\n".join([self.title, line, *body, *([self.note] if self.note else [])])

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>"
                       for r in self.rows)
        note = f"<p>{html.escape(self.note)}</p>" if self.note else ""
        return (f"<div><b>{html.escape(self.title)}</b><table><tr>{head}</tr>{body}</table>"
                f"{note}</div>")


_HISTORY = ["seq", "at", "event", "version", "alias", "by", "approver", "outcome", "data",
            "why"]


def history(name: str, config: NbmlopsConfig | None = None) -> Table:
    """Every audited decision on model ``name``, oldest first, and the log's integrity."""
    cfg = config or load_config()
    log = rec.audit_log(cfg)
    if not log.path.exists():
        return Table(f"history of {name}", _HISTORY, note=f"no audit log yet ({log.path})")
    rows = []
    for r in log.records():
        if r.get("model") != name and _ref_name(r.get("candidate")) != name:
            continue
        rows.append([str(r.get("seq", "")), str(r.get("at", "")), str(r.get("event", "")),
                     str(r.get("version", "") or ""), str(r.get("alias", "") or ""),
                     str(r.get("by", "") or ""), str(r.get("approver", "") or ""),
                     _outcome(r), str(r.get("data", "") or ""), _why(r)])
    return Table(f"history of {name}", _HISTORY, rows,
                 note=f"audit {log.path.name}: {verify_audit(log.path)}")


def _ref_name(ref: Any) -> str | None:
    """The model name of a reference recorded by a validation that failed on bad input."""
    try:
        return parse(str(ref))[0] if ref else None
    except RegistryError:
        return None


def _outcome(r: dict[str, Any]) -> str:
    if r.get("event") == "validate":
        return f"{r.get('verdict')} vs v{r.get('against_version', '?')}"
    out = str(r.get("decision", "") or r.get("event", ""))
    if r.get("forced"):
        out += " FORCED"
    if r.get("previous"):
        out += f" (was v{r['previous']})"
    return out


def _why(r: dict[str, Any]) -> str:
    return str(r.get("error") or r.get("reason") or r.get("validation") or "")


def models(name: str | None = None, config: NbmlopsConfig | None = None) -> Table:
    """Registered models, or one model's versions: aliases, lineage, validation, approval."""
    cfg = config or load_config()
    cl = gw.client(cfg.tracking_uri)
    if name is None:
        rows = []
        for model in gw.model_names(cl):
            held = gw.aliases(cl, model)
            rows.append([model, str(len(gw.versions(cl, model))),
                         " ".join(f"@{a}=v{v}" for a, v in sorted(held.items()))])
        return Table("registered models", ["model", "versions", "aliases"], rows)
    model = parse(name)[0]
    found = gw.versions(cl, model)
    if not found:
        known = ", ".join(gw.model_names(cl)) or "none registered yet"
        raise RegistryError(f"unknown model {model!r}; registered models: {known}.", model=model)
    rows = [_version_row(v) for v in reversed(found)]
    return Table(f"model {model}", ["version", "aliases", "trained by", "data", "git", "run",
                                    "validation", "approval"], rows)


def _version_row(v: gw.VersionInfo) -> list[str]:
    val = rec.read_tag(v, "nbmlops.validation")
    validation = f"{val['verdict']} vs v{val['against']} on {val['data']}" if val else ""
    approvals = [k.rsplit(".", 1)[1] for k in v.tags if k.startswith("nbmlops.promoted.")]
    approval = ""
    for alias in approvals:
        promo = rec.read_tag(v, f"nbmlops.promoted.{alias}") or {}
        approval = f"@{alias} by {promo.get('approver')}" + (" FORCED" if promo.get("forced")
                                                             else "")
    return [v.version, " ".join(f"@{a}" for a in v.aliases), v.tags.get("nbmlops.trained_by", ""),
            v.tags.get("nbmlops.data", ""), v.tags.get("nbmlops.git_commit", "")[:8],
            (v.run_id or "")[:8], validation, approval]
