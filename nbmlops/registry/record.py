"""Who acts, when, and where registry decisions are written (audit log + version tags)."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import time
from typing import Any

from nbmlops.config import NbmlopsConfig
from nbmlops.exceptions import ConfigError
from nbmlops.gates import AuditLog
from nbmlops.mlflow_gateway import registry as gw


def audit_log(cfg: NbmlopsConfig) -> AuditLog:
    """The registry's hash-chained audit log (``registry_audit_log``)."""
    return AuditLog(cfg.path(cfg.registry_audit_log))


def current_user(cfg: NbmlopsConfig) -> str:
    """Who is acting, from ``identity_source``: ``os``, ``git`` or ``env:VAR``."""
    source = cfg.identity_source.strip()
    if source == "os":
        return getpass.getuser()
    if source == "git":
        out = subprocess.run(["git", "config", "user.email"], cwd=cfg.project_root,
                             capture_output=True, text=True, check=False)
        if out.returncode or not out.stdout.strip():
            raise ConfigError("identity_source is 'git' but git config user.email is not set.",
                              key="identity_source")
        return out.stdout.strip()
    if source.startswith("env:") and source[4:]:
        value = os.environ.get(source[4:], "").strip()
        if not value:
            raise ConfigError(f"identity_source is {source!r} but ${source[4:]} is not set.",
                              key="identity_source")
        return value
    raise ConfigError(f"identity_source must be os, git or env:VAR, got {source!r}.",
                      key="identity_source")


def now() -> str:
    """UTC timestamp, ISO 8601."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def tag_json(value: dict[str, Any]) -> str:
    """Compact JSON for a version tag."""
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def read_tag(info: gw.VersionInfo, key: str) -> dict[str, Any] | None:
    """A JSON version tag, or None."""
    raw = info.tags.get(key)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def approval_aliases(cfg: NbmlopsConfig) -> set[str]:
    """Aliases whose promotion needs four eyes (``require_approval``)."""
    return {a.strip().lstrip("@") for a in cfg.require_approval.split(",") if a.strip()}
