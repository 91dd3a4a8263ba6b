"""The user's own metric names first, autolog's after: one order for every summary."""

from __future__ import annotations

import json

from nbmlops.tracking.ranking import own_first, own_names

AUTOLOGGED = {"training_score": 0.9, "training_log_loss": 0.2, "val_auc": 0.8, "auc": 0.7}


def test_own_names_follow_the_runs_tag_else_leave_out_training_metrics() -> None:
    assert own_names(json.dumps(["val_auc", "auc", "gone"]), AUTOLOGGED) == ["val_auc", "auc"]
    assert own_names(None, AUTOLOGGED) == ["val_auc", "auc"]
    assert own_names("not json", AUTOLOGGED) == ["val_auc", "auc"]
    assert own_names(None, {"training_score": 1.0}) == ["training_score"]


def test_own_first_keeps_every_value_and_puts_the_users_first() -> None:
    ordered = own_first(AUTOLOGGED, ["auc", "val_auc", "auc", "missing"])
    assert list(ordered) == ["auc", "val_auc", "training_score", "training_log_loss"]
    assert ordered == AUTOLOGGED
    assert own_first(AUTOLOGGED, []) == AUTOLOGGED
