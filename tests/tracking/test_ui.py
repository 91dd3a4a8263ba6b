"""``%mlops ui`` starts a real ``mlflow ui`` on a free localhost port; cards then link to it."""

from __future__ import annotations

import urllib.request

import pytest

pytestmark = pytest.mark.slow


def test_ui_starts_links_and_reuses(ip, capsys):
    from nbmlops.tracking import ui

    ip.run_cell("%%mlops run --name first\nv = 1")
    ip.run_line_magic("mlops", "ui")
    magics = ip.magics_manager.registry["MLOps"]
    url = magics.ui_url
    try:
        assert url.startswith("http://127.0.0.1:")
        assert url in capsys.readouterr().out
        with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
            assert resp.status == 200
        ip.run_cell("%%mlops run --name second\nv = 2")
        result = magics.state["tracking"]["last"]
        html = result._repr_mimebundle_()["text/html"]
        assert f'href="{url}/#/experiments/{result.experiment_id}/runs/{result.run_id}"' in html
        assert ui.start_ui(magics.resolved_config()).url == url  # reused, not a second UI
    finally:
        ui._RUNNING[url].stop()
