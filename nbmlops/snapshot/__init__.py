"""nbmlops.snapshot: DataFrame snapshots into DVC (see :mod:`nbmlops.snapshot.api`).

``nbmlops.snapshot`` is both this package and the public function
:func:`nbmlops.snapshot.api.snapshot`: once the package is imported, Python
binds the package to the attribute ``nbmlops.snapshot``, which would hide the
function. The package module is therefore callable and forwards to it, so
``nbmlops.snapshot(df, "train")`` works whichever of the two the name holds.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from nbmlops.snapshot.api import snapshot

        return snapshot(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
