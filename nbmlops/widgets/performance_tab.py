"""The drift panel's performance view: realised and estimated performance per window.

A thin front: the figure and the note are built by
:mod:`nbmlops.drift.figures_performance` from the report; this module keeps
the metric dropdown's options in step with the report's task (binary,
multiclass, regression) and updates the note widget.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from nbmlops.drift import figures_performance as perf_figs


def note_widget() -> w.HTML:
    """The HTML line above the figure (verdict, task, calibration warning)."""
    note = w.HTML()
    note.add_class("nbmlops-performance-note")
    return note


def render(panel: Any, report: Any) -> Any:
    """Sync ``panel.metric``'s options and ``panel.perf_note``; return the figure to show."""
    options = perf_figs.metric_options(report)
    if tuple(panel.metric.options) != options:
        was = panel._syncing
        panel._syncing = True
        try:
            keep = panel.metric.value
            panel.metric.options = options
            panel.metric.value = keep if keep in options else options[0]
        finally:
            panel._syncing = was
    if hasattr(panel, "perf_note"):
        panel.perf_note.value = perf_figs.note_html(report)
    return perf_figs.performance_figure(report, panel.metric.value)
