"""``%mlops approvals``: the pending sign-offs of the retraining loop as a widget."""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments


@magic_arguments()
@argument("model", nargs="?", help="Only this model's approvals (default: every model).")
@argument("--approver", "-a", default="", help="Pre-fill the approver box.")
def approvals(magics: Any, args: Any) -> Any:
    """Pending approvals with their evidence; approve / reject with a reason."""
    from IPython.display import display

    import nbmlops.loop as loop
    from nbmlops.widgets.approvals import ApprovalsWidget

    widget = ApprovalsWidget(loop.pending_approvals(args.model), approve=loop.approve,
                             reject=loop.reject, approver=args.approver)
    magics.state.setdefault("loop", {})["approvals"] = widget
    display(widget)
    return None
