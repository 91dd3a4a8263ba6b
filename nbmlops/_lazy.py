"""PEP 562 lazy attributes, shared by ``nbmlops`` and ``nbmlops.drift``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any


def lazy_getattr(
    module_name: str,
    table: dict[str, str],
    namespace: dict[str, Any],
    submodules: Iterable[str] = (),
) -> Callable[[str], Any]:
    """Build a module ``__getattr__`` resolving ``table`` (``"module:attr"``) on first use.

    Resolved values are cached in ``namespace`` (the module's ``globals()``);
    names in ``submodules`` import ``<module_name>.<name>``.
    """
    subs = frozenset(submodules)

    def _getattr(name: str) -> Any:
        if name in table:
            module, _, attr = table[name].partition(":")
            value = getattr(importlib.import_module(module), attr)
            namespace[name] = value
            return value
        if name in subs:
            return importlib.import_module(f"{module_name}.{name}")
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return _getattr
