"""Light notebooks: sizes of what a drift panel leaves behind.

- the saved output of a panel over 1M rows, executed in a real kernel with its
  widget state stored (as JupyterLab/nbclient save it), stays under 500 KB;
- nbconvert's HTML export of that notebook shows the static fallback;
- ``report.to_html(path)`` is one standalone offline page under 5 MB;
- the static fallback stays small whatever the number of features.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROWS = 1_000_000

SETUP = f"""
import numpy as np
import pandas as pd
import nbmlops

rng = np.random.default_rng(0)
n_ref, n = 100_000, {ROWS}
reference = pd.DataFrame({{
    "amount": rng.gamma(4, 10, n_ref), "age": rng.integers(18, 80, n_ref),
    "channel": rng.choice(["web", "app", "shop"], n_ref), "score": rng.uniform(0, 1, n_ref)}})
live = pd.DataFrame({{
    "ts": pd.Timestamp("2026-01-01", tz="UTC")
          + pd.to_timedelta(np.sort(rng.uniform(0, 10 * 86400, n)), unit="s"),
    "amount": rng.gamma(4, 11, n), "age": rng.integers(18, 80, n),
    "channel": rng.choice(["web", "app", "shop", "kiosk"], n, p=[.4, .3, .2, .1]),
    "score": rng.uniform(0, 1, n)}})
profile = nbmlops.drift.fit_reference(reference)
"""
SHOW = """panel = nbmlops.drift_panel(profile, live, time_column="ts", window="1D")
panel"""
SAVE = """panel.report.to_html("report.html")
print(len(live), panel.report.n_cur)"""


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The 1M-row panel notebook executed in a real kernel and saved with widget state."""
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("sizes")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(SHOW),
                nbformat.v4.new_code_cell(SAVE)]
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    path = folder / "panel.ipynb"
    nbformat.write(nb, path)
    return path, nb


@pytest.mark.slow
def test_saved_notebook_of_a_1m_row_panel_is_light(executed: tuple[Path, Any]) -> None:
    path, nb = executed
    assert nb.cells[2].outputs[0]["text"].split() == [str(ROWS), str(ROWS)]
    outputs = nb.cells[1].outputs
    assert "application/vnd.jupyter.widget-view+json" in outputs[-1]["data"]
    # the static verdict is an output of its own (shown where no widget can be)
    assert any("Dataset verdict" in o.get("data", {}).get("text/html", "") for o in outputs)
    assert nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    size = path.stat().st_size
    assert size < 500_000, f"saved notebook is {size:,} bytes"


@pytest.mark.slow
def test_nbconvert_html_export_shows_the_static_view(executed: tuple[Path, Any]) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(executed[1])
    assert "Dataset verdict" in body and "nbmlops-feature-table" in body
    assert "amount" in body and "kiosk" in body


@pytest.mark.slow
def test_report_to_html_is_standalone_offline_under_5mb(executed: tuple[Path, Any]) -> None:
    page = executed[0].parent / "report.html"
    size = page.stat().st_size
    assert size < 5_000_000, f"report.html is {size:,} bytes"
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']https?:", text)  # plotly.js inlined
    assert text.count("plotly.js v") <= 2  # once (its banner may name itself twice)
    assert "amount" in text and "channel" in text


def test_static_fallback_stays_small_with_many_features() -> None:
    import numpy as np
    import pandas as pd

    from nbmlops.drift.profile import fit_reference
    from nbmlops.widgets.panel_html import static_html

    rng = np.random.default_rng(1)
    cols = {f"f{i:03d}": rng.normal(0, 1, 500) for i in range(150)}
    ref = pd.DataFrame(cols)
    cur = pd.DataFrame({k: v + (0.8 if k < "f010" else 0.0) for k, v in cols.items()})
    report = fit_reference(ref).compare(cur)
    html = static_html(report)
    assert html.count("<tr data-feature=") == 10 and "and 140 more feature(s)" in html
    assert len(html) < 20_000
