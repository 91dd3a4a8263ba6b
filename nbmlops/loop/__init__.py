"""The retraining loop: drift alarm -> snapshot -> train -> register -> validate -> sign-off.

>>> import nbmlops.loop as loop                                   # doctest: +SKIP
>>> result = loop.run_once()            # reads mlops.yaml; resumable after a crash
>>> result.outcome, result.exit_code
('pending-approval', 0)
>>> loop.pending_approvals("fraud")
>>> loop.approve("fraud", result.candidate, approver="risk-lead", reason="...")

Public names resolve lazily.
"""

from __future__ import annotations

from nbmlops._lazy import lazy_face

_LAZY: dict[str, str] = {
    "LoopConfig": "nbmlops.loop.config:LoopConfig",
    "LoopError": "nbmlops.loop.config:LoopError",
    "load_loop_config": "nbmlops.loop.config:load_loop_config",
    "run_once": "nbmlops.loop.iteration:run_once",
    "watch": "nbmlops.loop.iteration:watch",
    "IterationResult": "nbmlops.loop.result:IterationResult",
    "StepOutcome": "nbmlops.loop.result:StepOutcome",
    "Approval": "nbmlops.loop.approvals:Approval",
    "pending_approvals": "nbmlops.loop.approvals:pending_approvals",
    "approve": "nbmlops.loop.approvals:approve",
    "reject": "nbmlops.loop.approvals:reject",
}

__all__ = sorted(_LAZY)

# public names resolve on first access (PEP 562), so importing the area stays cheap
__getattr__, __dir__ = lazy_face(__name__, _LAZY, globals())
