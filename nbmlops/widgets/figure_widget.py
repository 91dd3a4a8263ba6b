"""plotly ``FigureWidget`` for panels, without 5 MB of JavaScript per figure in the notebook.

plotly 7's :class:`plotly.graph_objects.FigureWidget` is an ``anywidget``
whose ``_esm`` trait holds plotly's whole widget bundle (~5 MB, plotly.js
included). That trait is synced widget state, so JupyterLab and nbclient save
it once *per figure* in the notebook's ``metadata.widgets``: a panel with ten
figures would add ~50 MB to the saved notebook.

:class:`PanelFigure` is a ``FigureWidget`` whose ``_esm`` is a small loader.
The first figure shown in a page asks the kernel for plotly's bundle through a
widget custom message (not part of the saved state), imports it once, and all
figures of the page share it. Everything else (traces, layout, in-place
updates, ``batch_update``) is plotly's own ``FigureWidget``.
"""

from __future__ import annotations

from copy import deepcopy
from functools import cache
from typing import Any

MSG = "nbmlops-plotly-bundle"
SYNC = "nbmlops-plotly-sync"

#: loader module: fetch plotly's widget bundle from the kernel once per page, then
#: delegate initialize/render to it. Without a kernel (a saved notebook reopened),
#: it gives up after a while and says so instead of waiting forever.
LOADER = """
const KEY = "__nbmlopsPlotlyWidget";
// ask the kernel (custom message) and resolve with [msg, buffers], or null after `ms`
function ask(model, type, ms) {
  return new Promise((resolve) => {
    const on = (msg, buffers) => {
      if (!msg || msg.type !== type) return;
      clearTimeout(timer);
      model.off("msg:custom", on);
      resolve([msg, buffers]);
    };
    const timer = setTimeout(() => { model.off("msg:custom", on); resolve(null); }, ms);
    model.on("msg:custom", on);
    model.send({type});
  });
}
function bundle(model) {
  if (!globalThis[KEY]) {
    globalThis[KEY] = ask(model, "@MSG@", 30000).then((reply) => {
      if (!reply) { delete globalThis[KEY]; return null; }
      const url = URL.createObjectURL(new Blob([reply[1][0]], {type: "text/javascript"}));
      return import(url).catch((err) => {
        delete globalThis[KEY];
        console.error(err);
        return null;
      });
    });
  }
  return globalThis[KEY];
}
export default () => {
  let ready = null;
  return {
    initialize(ctx) {
      // not awaited: anywidget delivers the kernel's replies only once initialize returned.
      // Once plotly's code is here, the kernel refreshes the figure's full state
      // (updates sent before were not watched yet), then plotly's model takes over.
      ready = bundle(ctx.model).then(async (mod) => {
        if (!mod || !(await ask(ctx.model, "@SYNC@", 30000))) return null;
        const inner = mod.default();
        inner.initialize(ctx);
        return inner;
      });
    },
    async render(ctx) {
      const inner = await ready;
      if (inner) return inner.render(ctx);
      ctx.el.textContent = "plotly figure: run the notebook's cells to draw it";
    },
  };
};
""".replace("@MSG@", MSG).replace("@SYNC@", SYNC)


@cache
def _bundle() -> bytes:
    from pathlib import Path

    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_bytes()


@cache
def figure_class() -> type:
    """The :class:`PanelFigure` class (built on first use: plotly is imported lazily)."""
    import plotly.graph_objects as go

    class PanelFigure(go.FigureWidget):
        """A ``FigureWidget`` whose saved state holds a loader, not plotly's bundle."""

        _esm = LOADER

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.on_msg(self._send_bundle)

        def _send_bundle(self, _widget: Any, content: Any, _buffers: Any) -> None:
            kind = content.get("type") if isinstance(content, dict) else None
            if kind == MSG:
                self.send({"type": MSG}, buffers=[_bundle()])
            elif kind == SYNC:  # the view's plotly model starts now: send the current figure
                self._widget_layout = deepcopy(self._layout_obj._props)
                self._widget_data = deepcopy(self._data)
                self.send({"type": SYNC})

    PanelFigure.__module__ = __name__
    return PanelFigure


def panel_figure(fig: Any = None) -> Any:
    """A :class:`PanelFigure` holding ``fig``'s traces and layout (empty when None)."""
    return figure_class()(fig)


def update_in_place(target: Any, fig: Any) -> Any:
    """Make the figure widget ``target`` show ``fig`` without replacing it.

    Traces keep their objects when ``fig`` has the same trace types in the same
    order (their properties are restyled in one batch); otherwise they are
    swapped. The layout is replaced as a whole (titles, axes, annotations).
    Returns ``target``.
    """
    # what plotly's diff would not send when it disappears: say it explicitly
    fig.update_xaxes(visible=fig.layout.xaxis.visible is not False)
    fig.update_yaxes(visible=fig.layout.yaxis.visible is not False)
    if target.layout.annotations and not fig.layout.annotations:
        target.layout.annotations = ()
    kinds = [t.type for t in fig.data]
    if [t.type for t in target.data] != kinds:
        target.data = ()
        target.add_traces(list(fig.data))
        with target.batch_update():
            target.layout = fig.layout
        return target
    with target.batch_update():
        for old, new in zip(target.data, fig.data, strict=True):
            old.update(new.to_plotly_json(), overwrite=True)
        target.layout = fig.layout
    return target
