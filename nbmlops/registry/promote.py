"""Promotion with sign-off, and rollback: aliases move only through here, always audited.

``promote`` moves ``NAME@alias`` to a version when (a) that version passed a
validation against the alias's current holder (the ``nbmlops.validated_against.<v>``
tag the gate sets) and (b) an approver is named — for aliases in
``require_approval`` (default ``champion``) one who did not train the version.
``force=True`` skips both checks, needs a reason and is marked ``forced``.
A refusal is appended to the audit log and nothing is written to the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nbmlops.config import NbmlopsConfig, load_config
from nbmlops.mlflow_gateway import registry as gw
from nbmlops.registry import record as rec
from nbmlops.registry.refs import RegistryError, resolve


@dataclass
class Decision:
    """A promotion or rollback that happened."""

    event: str
    model: str
    alias: str
    version: str
    previous: str | None
    audit_seq: int
    forced: bool = False

    def __str__(self) -> str:
        prev = f" (was v{self.previous})" if self.previous else ""
        forced = " [FORCED]" if self.forced else ""
        return (f"{self.event}: {self.model}@{self.alias} -> v{self.version}{prev}{forced}; "
                f"audit #{self.audit_seq}")


def _refuse(cfg: NbmlopsConfig, base: dict[str, Any], message: str) -> RegistryError:
    rec.audit_log(cfg).append({**base, "decision": "refused", "error": message})
    return RegistryError(message, model=base["model"])


def promote(name: str, version: str | int, to: str = "champion", approver: str | None = None,
            reason: str | None = None, force: bool = False,
            config: NbmlopsConfig | None = None) -> Decision:
    """Point ``name@to`` at ``version`` after the checks above.

    Raises
    ------
    RegistryError
        Unknown version, no approver, no passing validation against the
        current holder, approver = trainer, ``force`` without a reason.
    """
    cfg = config or load_config()
    cl = gw.client(cfg.tracking_uri)
    to = to.lstrip("@")
    info = resolve(cl, f"{name}/{version}")
    base = {"event": "promote", "model": name, "version": info.version, "alias": to,
            "approver": approver, "reason": reason, "forced": bool(force),
            "by": rec.current_user(cfg), "at": rec.now()}
    holder = gw.by_alias(cl, name, to)
    previous = holder.version if holder else None
    if not approver or not approver.strip():
        raise _refuse(cfg, base, f"promoting {name} v{info.version} to @{to} needs an approver "
                                 "(--approver NAME).")
    if force and not (reason and reason.strip()):
        raise _refuse(cfg, base, "--force needs a reason (--reason '...'): it is kept in the "
                                 "audit.")
    if previous == info.version:
        raise _refuse(cfg, base, f"{name} v{info.version} already holds @{to}.")
    validation = None
    if not force:
        validation = _check(cfg, base, info, holder, approver)
    gw.set_alias(cl, name, to, info.version)
    written = rec.audit_log(cfg).append({**base, "decision": "promoted", "previous": previous,
                                         "validation": (validation or {}).get("id")})
    gw.set_tags(cl, name, info.version, {f"nbmlops.promoted.{to}": rec.tag_json({
        "previous": previous, "approver": approver, "by": base["by"], "reason": reason,
        "forced": bool(force), "at": base["at"], "audit_seq": written["seq"],
        "validation": (validation or {}).get("id")})})
    return Decision("promoted", name, to, info.version, previous, written["seq"], bool(force))


def _check(cfg: NbmlopsConfig, base: dict[str, Any], info: gw.VersionInfo,
           holder: gw.VersionInfo | None, approver: str) -> dict[str, Any] | None:
    name, to = info.name, base["alias"]
    validation = None
    if holder is not None:
        validation = rec.read_tag(info, f"nbmlops.validated_against.{holder.version}")
        if validation is None:
            raise _refuse(cfg, base, f"no validation of {name} v{info.version} against the "
                                     f"current @{to} (v{holder.version}): run nbmlops model "
                                     f"validate {name}/{info.version} --against {name}@{to} "
                                     "--data ... --target ... first.")
        if validation.get("verdict") != "pass":
            raise _refuse(cfg, base, f"{name} v{info.version} failed its validation against "
                                     f"v{holder.version} on {validation.get('data')} "
                                     f"({validation.get('id')}, audit #"
                                     f"{validation.get('audit_seq')}): not promoted.")
    trainer = info.tags.get("nbmlops.trained_by", "")
    if to in rec.approval_aliases(cfg) and trainer and \
            approver.strip().lower() == trainer.strip().lower():
        raise _refuse(cfg, base, f"four-eyes: {approver!r} trained {name} v{info.version}; "
                                 f"promotion to @{to} needs a different approver.")
    return validation


def rollback(name: str, to: str = "champion", reason: str | None = None,
             config: NbmlopsConfig | None = None) -> Decision:
    """Give ``name@to`` back to the version that held it before the last promotion."""
    cfg = config or load_config()
    cl = gw.client(cfg.tracking_uri)
    to = to.lstrip("@")
    resolve(cl, f"{name}@{to}")  # unknown model / alias: names what exists
    holder = gw.by_alias(cl, name, to)
    assert holder is not None
    promo = rec.read_tag(holder, f"nbmlops.promoted.{to}") or {}
    previous = promo.get("previous")
    if not previous:
        raise RegistryError(f"{name} v{holder.version} holds @{to} with no earlier holder "
                            "recorded: nothing to roll back to.", model=name)
    by, at = rec.current_user(cfg), rec.now()
    gw.set_alias(cl, name, to, str(previous))
    written = rec.audit_log(cfg).append({
        "event": "rollback", "model": name, "alias": to, "version": str(previous),
        "previous": holder.version, "by": by, "reason": reason, "at": at,
        "decision": "rolled back"})
    gw.set_tags(cl, name, holder.version, {f"nbmlops.rolled_back.{to}": rec.tag_json(
        {"by": by, "at": at, "reason": reason, "restored": str(previous),
         "audit_seq": written["seq"]})})
    return Decision("rolled back", name, to, str(previous), holder.version, written["seq"])
