"""PEP 562 lazy attributes: how the package and every area build their public face."""

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


def lazy_face(
    module_name: str,
    table: dict[str, str],
    namespace: dict[str, Any],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` of a public face whose names are in ``table``.

    Every area's ``__init__.py`` is its public face the same way::

        _LAZY = {"capture_run": "nbmlops.tracking.lifecycle:capture_run", ...}
        __all__ = sorted(_LAZY)
        __getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
    """
    subs = frozenset(submodules)

    def _dir() -> list[str]:
        return sorted(set(namespace) | set(table) | subs)

    return lazy_getattr(module_name, table, namespace, subs), _dir


def keep_face(module_name: str, table: dict[str, str]) -> None:
    """Keep public names that share a submodule's name bound to the public object.

    Importing ``pkg.register`` (the submodule) makes Python set the attribute
    ``pkg.register`` to that module, hiding the function ``pkg.register`` of the
    face for everyone afterwards (``%%mlops run --register`` imports the
    submodule; then ``nbmlops.models.register(...)`` was "'module' object is not
    callable"). The package's module class ignores exactly that assignment; the
    submodule stays in ``sys.modules`` for ``from pkg.register import x``.
    """
    import sys
    import types

    module = sys.modules[module_name]

    class _Face(types.ModuleType):
        def __setattr__(self, name: str, value: Any) -> None:
            if (name in table and isinstance(value, types.ModuleType)
                    and value.__name__ == f"{module_name}.{name}"):
                return
            super().__setattr__(name, value)

    module.__class__ = _Face
