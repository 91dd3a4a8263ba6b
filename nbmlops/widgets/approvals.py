"""The approvals widget: pending sign-offs with their evidence, approve / reject with a reason.

A front: it draws what :func:`nbmlops.loop.pending_approvals` returns and calls
the ``approve`` / ``reject`` callables it is given (``nbmlops.loop.approve`` /
``reject`` from ``%mlops approvals``; fakes in tests). It decides nothing: a
refusal (four-eyes, a missing reason, a failed validation) is the engine's,
shown as the engine's one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from nbmlops._html import esc, fmt
from nbmlops.exceptions import NbmlopsError

Decide = Callable[..., Any]
#: preferred column order of a validation row; other keys follow
_ROW_ORDER = ("metric", "slice", "n", "champion", "candidate", "delta", "ci", "rule", "status")


def _validation(approval: Any) -> dict[str, Any]:
    """The approval's validation summary (``validation`` in the contract)."""
    summary = getattr(approval, "validation", None)
    if summary is None:
        summary = getattr(approval, "validation_summary", None)
    return dict(summary or {})


def validation_table(summary: dict[str, Any]) -> str:
    """HTML: the verdict, then one row per rule × slice, failing rows marked."""
    rows = [r for r in summary.get("rows", []) if isinstance(r, dict)]
    verdict = str(summary.get("verdict", "?"))
    head = f"<p><b>validation: {esc(verdict.upper())}</b> {esc(summary.get('summary', ''))}</p>"
    if not rows:
        return head + "<p><i>no per-rule rows recorded</i></p>"
    keys = [k for k in _ROW_ORDER if any(k in r for r in rows)]
    keys += [k for r in rows for k in r if k not in keys and k not in _ROW_ORDER]
    keys = list(dict.fromkeys(keys))
    th = "".join(f"<th>{esc(k)}</th>" for k in keys)
    body = []
    for r in rows:
        bad = str(r.get("status", "")).lower() in {"fail", "failed"}
        style = ' style="background:#fde2e1"' if bad else ""
        tds = "".join(f"<td>{esc(fmt(r.get(k, '')))}</td>" for k in keys)
        body.append(f"<tr{style}>{tds}</tr>")
    return f"{head}<table><tr>{th}</tr>{''.join(body)}</table>"


def evidence_html(approval: Any) -> str:
    """HTML: what is asked, the lineage (snapshot, run, iteration) and the validation."""
    a = approval
    title = (f"<h4>{esc(a.model)} v{esc(a.version)} → @{esc(getattr(a, 'alias', 'champion'))}"
             f"</h4><p>requested {esc(getattr(a, 'requested_at', ''))}"
             f" · iteration {esc(getattr(a, 'iteration', '') or '–')}</p>")
    lineage = (f"<p>trained on <code>{esc(getattr(a, 'trained_on', '') or '?')}</code>"
               f" · run <code>{esc(getattr(a, 'run_id', '') or '?')}</code></p>")
    return title + lineage + validation_table(_validation(a))


class ApprovalCard(w.VBox):
    """One pending approval: evidence, approver, reason, Approve / Reject."""

    def __init__(self, approval: Any, approve: Decide, reject: Decide, approver: str = "") -> None:
        self.approval = approval
        self._decide = {"approve": approve, "reject": reject}
        self.approver = w.Text(value=approver, description="approver")
        self.reason = w.Textarea(placeholder="why (recorded in the audit log)",
                                 description="reason", layout=w.Layout(width="100%"))
        self.approve_button = w.Button(description="Approve", button_style="success")
        self.reject_button = w.Button(description="Reject", button_style="danger")
        self.status = w.HTML()
        self.approve_button.on_click(lambda _b: self.decide("approve"))
        self.reject_button.on_click(lambda _b: self.decide("reject"))
        buttons = w.HBox([self.approve_button, self.reject_button])
        super().__init__([w.HTML(evidence_html(approval)), self.approver, self.reason,
                          buttons, self.status])

    def decide(self, action: str) -> Any:
        """Call approve/reject with the typed approver and reason; show the outcome."""
        a = self.approval
        try:
            out = self._decide[action](a.model, a.version, approver=self.approver.value.strip(),
                                       reason=self.reason.value.strip())
        except (NbmlopsError, ValueError) as exc:
            self.status.value = f"<span style='color:#b00'>error: {esc(exc)}</span>"
            return None
        done = "approved" if action == "approve" else "rejected"
        self.status.value = f"<b>{done}</b> by {esc(self.approver.value.strip())}"
        self.approve_button.disabled = self.reject_button.disabled = True
        return out


class ApprovalsWidget(w.VBox):
    """Every pending approval as an :class:`ApprovalCard` (or a line saying there is none)."""

    def __init__(self, approvals: Sequence[Any], approve: Decide, reject: Decide,
                 approver: str = "") -> None:
        self.cards = [ApprovalCard(a, approve, reject, approver) for a in approvals]
        head = w.HTML(f"<b>{len(self.cards)} pending approval(s)</b>" if self.cards
                      else "<b>no pending approvals</b>")
        super().__init__([head, *self.cards])
        self.approvals = list(approvals)

    def _repr_html_(self) -> str:
        """Static evidence where widgets are not rendered (nbconvert, GitHub)."""
        if not self.approvals:
            return "<p>no pending approvals</p>"
        return "<hr>".join(evidence_html(a) for a in self.approvals)
