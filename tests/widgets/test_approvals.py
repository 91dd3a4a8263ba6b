"""The approvals widget draws the evidence and calls the injected approve / reject.

The widget is tested without the loop engine: ``Approval`` here is a plain
dataclass mirroring the contract's fields, and approve / reject are recorders
(the engine's own tests cover what approving does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from nbmlops.exceptions import NbmlopsError
from nbmlops.widgets.approvals import ApprovalsWidget, evidence_html


@dataclass
class Approval:
    """The contract's Approval (nbmlops.loop.pending_approvals items)."""

    model: str = "fraud"
    version: str = "2"
    alias: str = "champion"
    requested_at: str = "2026-10-15T00:00:00Z"
    validation: dict[str, Any] = field(default_factory=lambda: {
        "verdict": "pass",
        "rows": [{"metric": "roc_auc", "slice": "overall", "champion": 0.96, "candidate": 0.98,
                  "delta": 0.02, "status": "pass"},
                 {"metric": "roc_auc", "slice": "merchant=travel", "champion": 0.89,
                  "candidate": 0.86, "delta": -0.03, "status": "fail"}]})
    trained_on: str = "fraud-train@2"
    run_id: str = "abc123"
    iteration: str = "it-7"


class Recorder:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.error = error

    def __call__(self, model: str, version: str, *, approver: str, reason: str) -> str:
        self.calls.append((model, version, approver, reason))
        if self.error:
            raise self.error
        return "ok"


def test_evidence_shows_lineage_and_each_rule_row() -> None:
    html = evidence_html(Approval())
    for text in ("fraud v2", "@champion", "fraud-train@2", "abc123", "it-7", "PASS",
                 "merchant=travel", "roc_auc"):
        assert text in html
    assert html.count("<tr") == 3          # header + 2 rule rows
    assert "#fde2e1" in html               # the failing slice is marked


def test_approve_calls_the_engine_with_approver_and_reason() -> None:
    approve, reject = Recorder(), Recorder()
    widget = ApprovalsWidget([Approval()], approve=approve, reject=reject, approver="risk-lead")
    card = widget.cards[0]
    card.reason.value = "FPR back to 2% on the holdout"
    card.approve_button.click()
    assert approve.calls == [("fraud", "2", "risk-lead", "FPR back to 2% on the holdout")]
    assert reject.calls == []
    assert "approved" in card.status.value
    assert card.approve_button.disabled and card.reject_button.disabled


def test_reject_and_engine_refusal_is_shown_not_raised() -> None:
    refusing = Recorder(NbmlopsError("four-eyes: the approver trained this model"))
    widget = ApprovalsWidget([Approval(), Approval(version="3")], approve=refusing,
                             reject=Recorder())
    first, second = widget.cards
    first.approver.value = "ds-1"
    first.approve_button.click()
    assert "four-eyes" in first.status.value
    assert not first.approve_button.disabled       # still decidable
    second.approver.value = "risk-lead"
    second.reason.value = "worse on travel"
    second.reject_button.click()
    assert "rejected" in second.status.value


def test_no_pending_approvals() -> None:
    widget = ApprovalsWidget([], approve=Recorder(), reject=Recorder())
    assert "no pending approvals" in widget.children[0].value
    assert "no pending approvals" in widget._repr_html_()


@pytest.mark.parametrize("summary", [{}, {"verdict": "fail"}])
def test_missing_rows_say_so(summary: dict[str, Any]) -> None:
    assert "no per-rule rows" in evidence_html(Approval(validation=summary))


def test_magic_is_registered() -> None:
    from nbmlops.magics import SUBCOMMANDS

    assert SUBCOMMANDS["approvals"].target == "nbmlops.magics.loop:approvals"
    assert callable(SUBCOMMANDS["approvals"].load())


def test_magic_shows_the_widget(ip: Any) -> None:
    import importlib.util

    if importlib.util.find_spec("nbmlops.loop") is None:
        pytest.skip("nbmlops.loop (the retraining engine, issue 17) is not on this branch yet")
    from nbmlops.magics import MLOps

    ip.run_line_magic("mlops", "approvals fraud --approver risk-lead")
    magics = ip.magics_manager.registry[MLOps.__name__]
    widget = magics.state["loop"]["approvals"]
    assert isinstance(widget, ApprovalsWidget)
    assert widget.approvals == []              # a fresh project: nothing pending
