"""The drift panel: an ipywidgets view of a :class:`~nbmlops.drift.report.DriftReport`.

Built by :func:`nbmlops.widgets.drift.drift_panel` (``nbmlops.drift_panel``). It
shows, from the report's cached summaries (never raw rows):

- a header with the dataset verdict, period and windows, row counts and thresholds;
- the feature table ranked by severity (status badges, sparklines over windows,
  change in missing share, new/vanished categories);
- the drill-down of the selected feature: distributions on the reference bins,
  ECDFs with the KS distance, per-bin PSI contributions, effect per window;
- a tab with prediction drift, realised and estimated performance per window;
- a window selector and threshold controls that re-derive verdicts from the
  summaries (:meth:`DriftReport.with_config` / :meth:`DriftReport.select_windows`),
  and "export config" writing the YAML the CI gate reads.

Figures are plotly ``FigureWidget`` objects (:mod:`nbmlops.widgets.figure_widget`)
that live in the widget tree for the panel's whole life: a selection, window or
threshold change restyles their traces and layout in place (one batched
message per figure), it never replaces them. The pure builders of
:mod:`nbmlops.drift.figures` compute what they show. The static verdict and
table (:mod:`nbmlops.widgets.panel_html`) are an output of their own, hidden by
the live widget's CSS, shown where no widget can be (a reopened notebook, GitHub).

The panel only draws: inputs are resolved by :mod:`nbmlops.drift.inputs` (as
for the CI gate), windows and control edits are drift rules
(:meth:`DriftReport.window`, :meth:`DriftConfig.with_setting`) and live mode is
a headless :class:`~nbmlops.drift.monitor.DriftMonitor` reporting to the panel.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import ipywidgets as w

from nbmlops._html import esc as _esc
from nbmlops.drift import figures as figs
from nbmlops.drift.config import DriftConfig
from nbmlops.exceptions import DriftError
from nbmlops.widgets import panel_html as static
from nbmlops.widgets import performance_tab
from nbmlops.widgets.panel_controls import calibrated_value
from nbmlops.widgets.panel_controls import controls as _controls
from nbmlops.widgets.panel_controls import figure_widget as _figure_widget
from nbmlops.widgets.panel_controls import row as _row

DRILL = ("distribution", "ecdf", "psi", "timeline")
PERF_METRICS = ("fpr", "accuracy", "precision", "recall", "auc")


class DriftPanel(w.VBox):
    """Interactive drift report (see module docstring).

    Parameters
    ----------
    report
        The :class:`DriftReport` to show; it must hold its summaries
        (``report.state``) for the window selector and threshold controls.
    export_path
        Default path of "export config" (the CI gate's YAML).
    """

    def __init__(self, report: Any, export_path: str | os.PathLike[str] = "drift.yaml",
                 **kwargs: Any) -> None:
        self._base = report
        self.config = report.config
        self.report = report
        self.figures: dict[str, Any] = {}
        self.monitor: Any = None
        self._syncing = False
        self._lock = threading.RLock()  # live updates (thread) vs. control changes (kernel)
        self._cache: dict[str, Any] = {}  # config digest -> whole-period report
        self._build(str(export_path))
        super().__init__(children=[self.header, self.busy, self.live_box, self.tabs],
                         **kwargs)
        self.add_class("nbmlops-drift-panel")
        self._render()

    # -- layout ------------------------------------------------------------------
    def _build(self, export_path: str) -> None:
        self.header = w.HTML()
        self.header.add_class("nbmlops-panel-header")
        self.busy = w.HTML()
        self.live_status = w.HTML()
        self.stop_button = w.Button(description="Stop live", icon="stop",
                                    button_style="warning")
        self.stop_button.on_click(lambda _: self.stop())
        self.live_box = w.HBox([self.live_status, self.stop_button],
                               layout=w.Layout(display="none"))
        self.window = w.Dropdown(description="Window", options=[("all windows", "all")],
                                 value="all", layout=w.Layout(width="360px"))
        self.window.observe(self._on_window, "value")
        self.feature = w.Select(description="Feature", options=[], rows=6,
                                layout=w.Layout(width="360px"))
        self.feature.add_class("nbmlops-feature-select")
        self.feature.observe(self._on_feature, "value")
        self.table = w.HTML()
        self.table.add_class("nbmlops-table")
        self.drill = {k: _figure_widget(f"nbmlops-drill-{k}") for k in DRILL}
        drill = w.VBox([_row(self.drill["distribution"], self.drill["ecdf"]),
                        _row(self.drill["psi"], self.drill["timeline"])])
        drill.add_class("nbmlops-drill")
        self.heatmap = _figure_widget("nbmlops-heatmap")
        self.heatmap_box = _row(self.heatmap)  # hidden when there is a single window
        features_tab = w.VBox([w.HBox([self.window, self.feature]), self.table, self.heatmap_box,
                               drill])
        self.metric = w.Dropdown(description="Metric", options=PERF_METRICS, value="fpr")
        self.metric.observe(lambda _: self._render_prediction(), "value")
        self.pred_out = {k: _figure_widget(f"nbmlops-pred-{k}")
                         for k in ("distribution", "timeline", "performance")}
        self.perf_note = performance_tab.note_widget()
        pred_tab = w.VBox([_row(self.pred_out["distribution"], self.pred_out["timeline"]),
                           self.metric, self.perf_note, _row(self.pred_out["performance"])])
        self.tabs = w.Tab(children=[features_tab, pred_tab, self._build_settings(export_path)])
        for i, title in enumerate(("Features", "Prediction & performance", "Thresholds")):
            self.tabs.set_title(i, title)
        self.figures.update({**self.drill, "heatmap": self.heatmap,
                             "prediction": self.pred_out["distribution"],
                             "prediction_timeline": self.pred_out["timeline"],
                             "performance": self.pred_out["performance"]})
        self._tab_of = {k: 1 if k.startswith(("prediction", "performance")) else 0
                        for k in self.figures}
        self._stale: set[str] = set()  # figures changed while their tab was hidden
        self.tabs.observe(self._on_tab, "selected_index")

    def _build_settings(self, export_path: str) -> w.VBox:
        style = {"description_width": "150px"}
        lay = w.Layout(width="330px")
        self.controls = {key: make(description=label, style=style, layout=lay, **extra)
                         for key, (make, label, extra) in _controls().items()}
        #: a bad value's message, shown beside its control (nothing is clamped silently)
        self.control_msgs = {key: w.HTML() for key in self.controls}
        for key, c in self.controls.items():
            c.observe(self._on_control, "value")
            c.add_class(f"nbmlops-control-{key}")
        self.export_path = w.Text(value=export_path, description="config file", style=style,
                                  layout=lay)
        self.export_button = w.Button(description="Export config", icon="download")
        self.export_button.on_click(lambda _: self.export_config())
        self.export_button.add_class("nbmlops-export")
        self.settings_status = w.HTML()
        self.settings_status.add_class("nbmlops-settings-status")
        rows = [w.HBox([c, self.control_msgs[k]]) for k, c in self.controls.items()]
        return w.VBox([*rows, w.HBox([self.export_path, self.export_button]),
                       self.settings_status])

    # -- state changes -------------------------------------------------------------
    def set_base(self, report: Any) -> None:
        """Replace the report (live mode) keeping the thresholds and window in force."""
        with self._lock:
            self._base = report
            self._cache.clear()
        self._apply()

    def set_config(self, config: Any) -> None:
        """Re-derive every verdict under ``config`` (a DriftConfig, dict or YAML path)."""
        self.config = DriftConfig.coerce(config)
        if self.monitor is not None:  # live reports are judged under the rules in force
            self.monitor.config = self.config
        self._apply()

    def select_window(self, key: str) -> None:
        """Show window ``key`` (``"all"``: the whole period)."""
        self.window.value = key

    def select_feature(self, name: str) -> None:
        """Show the drill-down of feature ``name``."""
        if name not in self._selectable():
            raise DriftError(f"No feature {name!r} in this report.", column=name)
        self.feature.value = name

    def _apply(self) -> None:
        with self._lock:
            self._full = self._full_for(self.config)
            self.report = self._full.window(self.window.value)
            self._render()

    def _full_for(self, config: Any) -> Any:
        """The whole-period report under ``config`` (re-derived once per distinct config)."""
        if self._base.config == config:
            return self._base
        key = config.digest()
        if key not in self._cache:
            self.busy.value = "<i>re-deriving verdicts from the summaries…</i>"
            try:
                self._cache[key] = self._base.with_config(config)
            finally:
                self.busy.value = ""
            while len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[key]

    def _on_window(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._apply()

    def _on_feature(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"]:
            with self._lock:
                self._render_drill()
                self._sync_controls()
                self.table.value = static.table_html(self.report, selected=self.feature.value)

    def _on_control(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        key = next(k for k, c in self.controls.items() if c is change["owner"])
        try:
            cfg = self.config.with_setting(key, change["new"], feature=self.feature.value)
        except Exception as exc:  # ConfigError: show it beside the control, keep the old rules
            msg = f'<span style="color:#c62828">{_esc(exc)} (not applied)</span>'
            self.settings_status.value = self.control_msgs[key].value = msg
            return
        self.settings_status.value = self.control_msgs[key].value = ""
        self.set_config(cfg)

    def export_config(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the thresholds in force as the YAML the CI gate reads; return the path."""
        from nbmlops.drift.inputs import default_config_path

        target = Path(path or self.export_path.value).resolve()
        self.config.save(target)
        default = target == default_config_path().resolve()
        note = (" It is now this project's default: the next panel, <code>%mlops drift</code> "
                "and <code>nbmlops drift</code> read it (delete it for the built-in rules)."
                if default else f" CI: <code>nbmlops drift ... --config {_esc(target)}</code>.")
        self.settings_status.value = f"Wrote the thresholds to <code>{_esc(target)}</code>.{note}"
        return target

    def _selectable(self) -> list[str]:
        names = [f.name for f in static.feature_rows(self.report)]
        if self.report.prediction is not None:
            names.append(self.report.prediction.name)
        return names

    def _render(self) -> None:
        self._syncing = True
        try:
            rep = self.report
            self.header.value = (static.PANEL_CSS + static.hide_fallback_css(self.model_id)
                                 + static.header_html(rep, self.window.value))
            opts = [("all windows", "all")] + [
                (f"{figs.short_key(wr.key)} ({wr.n_rows:,} rows)", wr.key)
                for wr in self._windows()]
            if list(self.window.options) != opts:
                keep = self.window.value
                self.window.options = opts
                self.window.value = keep if keep in [v for _, v in opts] else "all"
            names = [f.name for f in static.feature_rows(rep)]
            labels = [(f"{rep.features[n].status.upper():7} {n}", n) for n in names]
            old = self.feature.value
            if list(self.feature.options) != labels:
                self.feature.options = labels
            self.feature.value = old if old in names else (names[0] if names else None)
            self.table.value = static.table_html(rep, selected=self.feature.value)
            self._sync_controls()
        finally:
            self._syncing = False
        self._render_drill()
        self._render_heatmap()
        self._render_prediction()
        self._update_fallback()

    def _render_heatmap(self) -> None:
        """Which feature drifted when: effect / threshold per feature and window."""
        fig = figs.panel_heatmap(self._full_or_base())
        self.heatmap_box.layout.display = "none" if fig is None else None
        if fig is not None:
            self._show("heatmap", fig)

    def _windows(self) -> list[Any]:
        return list(getattr(self, "_full", self._base).windows)

    def _sync_controls(self) -> None:
        was, self._syncing = self._syncing, True
        try:
            f = self.report.features.get(self.feature.value or "")
            thr = f.threshold if f is not None else None
            values = {**self.config.settings(),
                      "feature_threshold": float(thr) if isinstance(thr, int | float) else None}
            for k, v in values.items():
                if v is None and (auto := calibrated_value(self.report, k)) is not None:
                    v, self.control_msgs[k].value = auto
                if v is not None:
                    self.controls[k].value = v
        finally:
            self._syncing = was

    def _feature(self, name: str | None) -> Any:
        rep = self.report
        if name in rep.features:
            return rep.features[name]
        if rep.prediction is not None and rep.prediction.name == name:
            return rep.prediction
        return None

    def _render_drill(self) -> None:
        f = self._feature(self.feature.value)
        if f is None:
            for k in DRILL:
                self._show(k, figs.empty(figs.base_figure(""), "no feature selected"))
            return
        drill = {
            "distribution": figs.distribution_figure(f), "ecdf": figs.ecdf_figure(f),
            "psi": figs.psi_figure(f), "timeline": figs.timeline_figure(self._full_or_base(),
                                                                         f.name)}
        for k, fig in drill.items():
            self._show(k, fig)

    def _full_or_base(self) -> Any:
        return getattr(self, "_full", self._base)

    def _render_prediction(self) -> None:
        rep, full = self.report, self._full_or_base()
        pred = rep.prediction
        if pred is not None:
            self._show("prediction", figs.distribution_figure(pred))
            self._show("prediction_timeline", figs.timeline_figure(full, pred.name))
        else:
            for k in ("prediction", "prediction_timeline"):
                self._show(k, figs.empty(figs.base_figure("prediction"),
                                         "no prediction column in the reference profile"))
        self._show("performance", performance_tab.render(self, full))

    def _show(self, key: str, fig: Any) -> None:
        """Update the figure widget ``key`` in place to show ``fig`` (:mod:`nbmlops.drift.figures`).

        Floats are rounded to 5 significant digits (small widget state). A figure
        changed while its tab is hidden is redrawn when the tab opens: plotly
        measures text against a hidden (zero-size) container otherwise.
        """
        import plotly.graph_objects as go

        from nbmlops.widgets.figure_widget import update_in_place

        target = self.figures[key]
        fig = go.Figure(figs.round_floats(fig.to_dict()))
        fig.update_layout(autosize=True, width=None, height=fig.layout.height or figs.HEIGHT)
        update_in_place(target, fig)
        if self.tabs.selected_index != self._tab_of[key]:
            self._stale.add(key)

    def _on_tab(self, change: dict[str, Any]) -> None:
        with self._lock:
            for key in sorted(self._stale):
                if self._tab_of[key] == change["new"]:
                    self._stale.discard(key)
                    fig = self.figures[key]  # autosize off and on: plotly measures its box again
                    fig.layout.autosize = False
                    fig.layout.autosize = True

    # -- live mode -----------------------------------------------------------------
    def show_live_status(self, monitor: Any) -> None:
        """Show the live monitor's state (called from its thread)."""
        self.live_box.layout.display = "flex"
        state = "watching" if monitor.running else "stopped"
        err = f' <span style="color:#c62828">error: {monitor.error}</span>' \
            if monitor.error else ""
        self.live_status.value = (f"<b>live</b> {state} <code>{monitor.tail.spec}</code> every "
                                  f"{monitor.interval:g}s: {monitor.tail.rows_read:,} rows read, "
                                  f"{monitor.polls} polls{err}")
        self.stop_button.disabled = not monitor.running

    def stop(self) -> None:
        """Stop live mode (no-op when not live)."""
        if self.monitor is not None:
            self.monitor.stop()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view and a one-line text (the static view is its own output)."""
        bundle = {k: v for k, v in (super()._repr_mimebundle_(**kwargs) or {}).items()
                  if k != "text/html"}
        bundle["text/plain"] = (f"nbmlops drift panel: {self.report.verdict.upper()} "
                                "(interactive; run the notebook to use it)")
        return bundle

    def fallback_bundle(self) -> dict[str, str]:
        """Static verdict and table, own output: shown when no widget can be (hidden by its CSS)."""
        return {"text/html": static.static_html(self.report, panel_id=self.model_id),
                "text/plain": self.report.summary()}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        self._fallback = display(self.fallback_bundle(), raw=True, display_id=True)
        display(self._repr_mimebundle_(), raw=True)

    def _update_fallback(self) -> None:  # the saved notebook shows the verdict in force
        if getattr(self, "_fallback", None) is not None:
            self._fallback.update(self.fallback_bundle(), raw=True)
