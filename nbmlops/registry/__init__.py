"""Model registry: versions, aliases, the validation gate, promotion with sign-off, audit.

>>> import nbmlops.registry as models                             # doctest: +SKIP
>>> v = models.register("fraud", run)                             # version N, @challenger
>>> result = models.validate("fraud@challenger", against="fraud@champion",
...                          data="holdout@2", target="is_fraud", slices=["merchant"])
>>> models.promote("fraud", v.version, to="champion", approver="risk-lead", reason="...")
>>> models.rollback("fraud", to="champion")
>>> models.history("fraud")

``nbmlops.models`` is the same module. Public names resolve lazily.
"""

from __future__ import annotations

from nbmlops._lazy import keep_face, lazy_face

_LAZY: dict[str, str] = {
    "register": "nbmlops.registry.register:register",
    "validate": "nbmlops.registry.validate:validate",
    "ValidateOptions": "nbmlops.registry.validate:ValidateOptions",
    "ValidationResult": "nbmlops.registry.result:ValidationResult",
    "promote": "nbmlops.registry.promote:promote",
    "rollback": "nbmlops.registry.promote:rollback",
    "history": "nbmlops.registry.views:history",
    "models": "nbmlops.registry.views:models",
    "RegistryError": "nbmlops.registry.refs:RegistryError",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
# register / validate / promote are also submodule names: importing one must not hide the face
keep_face(__name__, _LAZY)
