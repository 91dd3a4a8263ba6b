"""The drift panel's building blocks: threshold controls (one widget per setting), figure rows."""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from nbmlops.drift.config import (
    CATEGORICAL_EFFECTS,
    CATEGORICAL_TESTS,
    CORRECTIONS,
    NUMERIC_EFFECTS,
    NUMERIC_TESTS,
)
from nbmlops.drift.figures import HEIGHT


def controls() -> dict[str, tuple[Any, str, dict[str, Any]]]:
    """The threshold controls: setting key -> (widget class, label, arguments)."""
    number = {"step": 0.01}  # unbounded: a bad value is refused with a message, never clamped
    return {
        "numeric_test": (w.Dropdown, "numeric test", {"options": NUMERIC_TESTS}),
        "numeric_effect": (w.Dropdown, "numeric effect", {"options": NUMERIC_EFFECTS}),
        "numeric_threshold": (w.FloatText, "numeric threshold", number),
        "categorical_test": (w.Dropdown, "categorical test", {"options": CATEGORICAL_TESTS}),
        "categorical_effect": (w.Dropdown, "categorical effect",
                               {"options": CATEGORICAL_EFFECTS}),
        "categorical_threshold": (w.FloatText, "categorical threshold", number),
        "alpha": (w.FloatText, "alpha", {"step": 0.01}),
        "multiple_testing": (w.Dropdown, "multiple testing", {"options": CORRECTIONS}),
        "drift_share": (w.FloatText, "drift share >", {"step": 0.05}),
        "feature_threshold": (w.FloatText, "selected feature thr.", {}),
        "performance_tolerance": (w.FloatText, "performance tolerance", {"step": 0.01}),
    }


def figure_widget(cls: str) -> Any:
    """A panel figure as wide as its box: no fixed width, it follows the output area."""
    from nbmlops.widgets.figure_widget import panel_figure

    fig = panel_figure()
    fig.update_layout(autosize=True, height=HEIGHT)
    fig.add_class(cls).add_class("nbmlops-fig")
    return fig


def row(*figures: Any) -> Any:
    """Figures side by side, sharing the output area's width."""
    return w.HBox(list(figures), layout=w.Layout(width="100%")).add_class("nbmlops-fig-row")
