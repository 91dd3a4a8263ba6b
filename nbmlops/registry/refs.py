"""Model references (``fraud@champion``, ``fraud/7``, ``fraud:7``) resolved against the registry."""

from __future__ import annotations

import re
from typing import Any

from nbmlops.exceptions import NbmlopsError
from nbmlops.mlflow_gateway import registry as gw


class RegistryError(NbmlopsError):
    """A registry request is wrong (unknown model/version/alias, refused promotion ...)."""


_REF = re.compile(r"^(?:models:/)?(?P<name>[^@/:]+)"
                  r"(?:(?:@(?P<alias>[\w-]+))|(?:[/:](?P<ver>\d+)))?$")


def parse(ref: str) -> tuple[str, str | None, str | None]:
    """``(name, alias, version)`` of a reference; exactly one of alias/version may be None."""
    m = _REF.match(str(ref).strip())
    if not m or not m.group("name").strip():
        raise RegistryError(f"not a model reference: {ref!r} (use NAME@ALIAS or NAME/VERSION).",
                            parameter="model")
    return m.group("name").strip(), m.group("alias"), m.group("ver")


def _unknown_model(cl: Any, name: str) -> RegistryError:
    names = gw.model_names(cl)
    known = ", ".join(names) if names else "none registered yet"
    return RegistryError(f"unknown model {name!r}; registered models: {known}.", model=name)


def resolve(cl: Any, ref: str, default_alias: str | None = None) -> gw.VersionInfo:
    """The version a reference names; errors list what exists."""
    name, alias, ver = parse(ref)
    if alias is None and ver is None:
        if default_alias is None:
            raise RegistryError(f"{ref!r} names no version: use {name}@ALIAS or {name}/VERSION.",
                                model=name)
        alias = default_alias
    all_versions = gw.versions(cl, name)
    if not all_versions:
        raise _unknown_model(cl, name)
    if alias is not None:
        info = gw.by_alias(cl, name, alias)
        if info is None:
            held = gw.aliases(cl, name)
            known = ", ".join(f"@{a} (v{v})" for a, v in sorted(held.items())) or "none"
            raise RegistryError(f"model {name!r} has no alias @{alias}; its aliases: {known}.",
                                model=name, alias=alias)
        return info
    for info in all_versions:
        if info.version == ver:
            return info
    known = ", ".join(v.version for v in all_versions)
    raise RegistryError(f"model {name!r} has no version {ver}; its versions: {known}.",
                        model=name, version=ver)


def label(info: gw.VersionInfo) -> str:
    """``fraud v3 (@champion)``."""
    al = " ".join(f"@{a}" for a in info.aliases)
    return f"{info.name} v{info.version}" + (f" ({al})" if al else "")
