"""The drift panel in a real browser: JupyterLab + Debian's headless Chromium.

The test starts JupyterLab on 127.0.0.1 (no token), opens the tutorial
notebook ``notebooks/drift_panel.ipynb`` in Chromium driven by Playwright
(Playwright's own browser is never downloaded), runs all cells, waits for the
panel's feature table and plotly figure, selects another drifting feature and
checks the drill-down changed. A screenshot is saved in the test's tmp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbmlops.drift.config import DriftConfig
from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab serving a copy of the tutorial notebook; yields (base URL, folder)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "drift_panel.ipynb", root)
    home = root / ".jupyter-home"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings")}
    port = free_port()
    log = (root / "lab.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         f"--port={port}", "--ServerApp.token=", "--ServerApp.password=",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={root}",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/api/status", proc)
        yield base, root
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _title(page: object, cls: str) -> str:
    loc = page.locator(f".{cls} .gtitle").first  # type: ignore[attr-defined]
    return str(loc.text_content(timeout=60_000))


def _open_and_run_all(page: Any, url: str) -> None:
    """Open a notebook in JupyterLab and, once its kernel is idle, Run > Run All Cells."""
    from playwright.sync_api import expect

    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    expect(page.locator(".jp-StatusBar-TextItem").filter(has_text="| Idle")).to_have_count(
        1, timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel").filter(has_text="Run All Cells").first.click()


def test_tutorial_panel_in_jupyterlab(lab: tuple[str, Path], chromium: str,
                                      tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, root = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            _open_and_run_all(page, f"{base}/lab/tree/drift_panel.ipynb")

            panel = page.locator(".nbmlops-drift-panel").first
            expect(panel.locator(".nbmlops-feature-table")).to_be_visible(timeout=120_000)
            expect(panel.locator(".js-plotly-plot").first).to_be_attached(timeout=60_000)
            rows = panel.locator(".nbmlops-feature-table")
            for text in ("amount", "channel", "drift"):  # retried: the table fills after it shows
                expect(rows).to_contain_text(text, timeout=60_000)

            before = _title(panel, "nbmlops-drill-distribution")
            assert before.startswith("amount")  # the most drifted feature is shown first
            select = panel.locator(".nbmlops-feature-select select")
            labels = select.locator("option").all_text_contents()
            target = next(i for i, t in enumerate(labels) if "channel" in t)
            assert "drift" in labels[target].lower()
            select.select_option(index=target)
            expect(panel.locator(".nbmlops-drill-distribution .gtitle").first).to_contain_text(
                "channel", timeout=60_000)
            expect(panel.locator(".nbmlops-drill-psi .gtitle").first).to_contain_text(
                "channel", timeout=60_000)
            # the drill-down redrew with the categories, including the new one
            expect(panel.locator(".nbmlops-drill-distribution .xtick").filter(
                has_text="<unseen>")).to_have_count(1, timeout=30_000)
            assert _title(panel, "nbmlops-drill-distribution") != before

            # one window: the header says so and the verdicts are that day's
            panel.locator(".widget-dropdown select").first.select_option(index=1)
            expect(panel.locator(".nbmlops-panel-header")).to_contain_text(
                "showing window", timeout=60_000)
            expect(panel.locator(".nbmlops-feature-table")).not_to_contain_text(
                "drift", timeout=60_000)
            panel.locator(".widget-dropdown select").first.select_option(index=0)
            expect(panel.locator(".nbmlops-panel-header")).not_to_contain_text(
                "showing window", timeout=60_000)

            # settle on a threshold in the Thresholds tab and export it for the CI gate
            panel.locator(".lm-TabBar-tab").filter(has_text="Thresholds").first.click()
            box = panel.locator(".nbmlops-control-numeric_threshold input")
            box.fill("5")
            box.press("Enter")
            expect(panel.locator(".nbmlops-panel-header")).to_contain_text(
                "wasserstein ≥ 5.0", timeout=60_000)
            expect(panel.locator(".nbmlops-panel-header")).to_contain_text(
                "Drifted: channel", timeout=60_000)
            panel.locator(".nbmlops-export").click()
            expect(panel.locator(".nbmlops-settings-status")).to_contain_text(
                "Wrote", timeout=30_000)
            exported = DriftConfig.load(root / "drift.yaml")
            assert exported.numeric.threshold == 5.0

            # the prediction tab draws its figures when it is opened (not while hidden)
            panel.locator(".lm-TabBar-tab").filter(has_text="Prediction").first.click()
            expect(panel.locator(".nbmlops-pred-performance .gtitle")).to_contain_text(
                "fpr per window", timeout=60_000)
            expect(panel.locator(".nbmlops-pred-timeline .gtitle")).to_contain_text(
                "score", timeout=60_000)
            # drawn, not blank: the fpr line has its points and the figure its full size
            expect(panel.locator(".nbmlops-pred-performance .scatterlayer .point").first
                   ).to_be_attached(timeout=30_000)
            perf = panel.locator(".nbmlops-pred-performance .main-svg").first.bounding_box()
            assert perf is not None and perf["width"] > 400 and perf["height"] > 200
            page.screenshot(path=str(tmp_path / "drift_panel_prediction.png"), full_page=True)

            # back on Features, the drill-down follows the new threshold
            panel.locator(".lm-TabBar-tab").filter(has_text="Features").first.click()
            labels = select.locator("option").all_text_contents()
            select.select_option(index=next(i for i, t in enumerate(labels) if "amount" in t))
            expect(panel.locator(".nbmlops-drill-timeline .legendtext").filter(
                has_text="threshold 5")).to_have_count(1, timeout=60_000)
            # the same FigureWidget went back from channel to amount: no stale notes
            expect(panel.locator(".nbmlops-drill-ecdf .legendtext").filter(
                has_text="KS D")).to_have_count(1, timeout=60_000)
            expect(panel.locator(".nbmlops-drill-ecdf .annotation")).to_have_count(0)

            # the magic's panel (second one) rendered from the Parquet folder too
            expect(page.locator(".nbmlops-drift-panel")).to_have_count(2, timeout=120_000)
            drill = panel.locator(".nbmlops-drill-timeline .main-svg").first
            drill.scroll_into_view_if_needed()
            box = drill.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 200
            shot = tmp_path / "drift_panel.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


PANEL_CELL = """\
from tests.widgets.test_drift_panel import make_data
import nbmlops, nbmlops.drift
ref, cur = make_data()
profile = nbmlops.drift.fit_reference(ref, target="label", prediction="score")
nbmlops.drift_panel(profile, cur, time_column="ts", window="1D")
"""


def _write_notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PANEL_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)


def _outside(page: Any, inner: str, outer: str) -> list[str]:
    """Boxes matching ``inner`` whose right edge passes their ``outer`` ancestor's."""
    return list(page.evaluate(
        """([inner, outer]) => [...document.querySelectorAll(inner)].filter((el) => {
             const box = el.getBoundingClientRect(), area = el.closest(outer);
             return box.width > 0 && area && box.right > area.getBoundingClientRect().right + 1;
           }).map((el) => el.className.baseVal || el.className)""", [inner, outer]))


def test_panel_fits_1280px_and_a_reopened_notebook_shows_the_static_view(
        lab: tuple[str, Path], chromium: str, tmp_path: Path) -> None:
    """Figures follow the output area at 1280×900 with the file browser open; saved and
    reopened (JupyterLab saves no widget state), the verdict and table still show."""
    from playwright.sync_api import expect, sync_playwright

    base, root = lab
    _write_notebook(root / "reopen.ipynb")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # a workspace of its own: only this notebook is open (not the tutorial's)
            _open_and_run_all(page, f"{base}/lab/workspaces/reopen/tree/reopen.ipynb?reset")
            expect(page.locator(".jp-DirListing").first).to_be_visible(timeout=30_000)
            panel = page.locator(".nbmlops-drift-panel").first
            expect(panel.locator(".nbmlops-feature-table")).to_be_visible(timeout=120_000)
            expect(panel.locator(".nbmlops-drill-ecdf .main-svg").first).to_be_attached(
                timeout=60_000)
            expect(page.locator(".nbmlops-static-fallback")).to_be_hidden()  # the widget is live
            time.sleep(2)  # plotly's autosize settles
            assert page.locator(".jp-OutputArea-output .nbmlops-fig .main-svg").count() >= 4
            assert _outside(page, ".nbmlops-fig, .nbmlops-fig .main-svg",
                            ".jp-OutputArea-output") == []
            tab = panel.locator(".lm-TabBar-tab").filter(has_text="Prediction & performance")
            assert tab.first.evaluate("el => el.scrollWidth <= el.clientWidth")  # whole label
            tab.first.click()
            expect(panel.locator(".nbmlops-pred-performance .main-svg").first).to_be_visible(
                timeout=60_000)
            time.sleep(1)
            assert _outside(page, ".nbmlops-fig, .nbmlops-fig .main-svg",
                            ".jp-OutputArea-output") == []
            page.screenshot(path=str(tmp_path / "panel_1280.png"), full_page=True)

            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 60
            while "nbmlops-static-fallback" not in (root / "reopen.ipynb").read_text():
                assert time.monotonic() < deadline, "the notebook was not saved"
                time.sleep(0.5)
            page.reload()
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            static = page.locator(".nbmlops-static-fallback").first
            expect(static).to_be_visible(timeout=60_000)
            expect(static).to_contain_text("Dataset verdict", timeout=30_000)
            expect(static.locator(".nbmlops-feature-table")).to_contain_text("amount")
            page.screenshot(path=str(tmp_path / "panel_reopened.png"), full_page=True)
        finally:
            browser.close()
