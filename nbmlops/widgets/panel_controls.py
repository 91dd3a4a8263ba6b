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


def calibrated_value(report: Any, key: str) -> tuple[float, str] | None:
    """What a calibrated (``threshold: auto``) control shows: a value and the note beside it.

    ``None`` when ``key`` is not a kind's threshold or the report judged no
    feature of that kind. The value is the median of the per-feature
    thresholds calibrated on the reference; the note gives their range.
    """
    kind = key.removesuffix("_threshold")
    if kind not in ("numeric", "categorical"):
        return None
    found = sorted(float(f.threshold) for f in report.features.values()
                   if f.kind == kind and isinstance(f.threshold, int | float))
    if not found:
        return None
    median = round(found[len(found) // 2], 4)
    spread = f"{found[0]:.3g}" if found[0] == found[-1] else f"{found[0]:.3g}–{found[-1]:.3g}"
    return median, (f'<span style="color:#555">auto: calibrated per feature ({spread}); '
                    "a number fixes one threshold for all</span>")


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
