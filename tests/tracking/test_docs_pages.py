"""docs/magics.md lists every %mlops subcommand; docs/tracking.md's plain-API example runs."""

from __future__ import annotations

from pathlib import Path

from nbmlops.magics import SUBCOMMANDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_magics_reference_lists_every_subcommand():
    text = (DOCS / "magics.md").read_text()
    for name, sub in SUBCOMMANDS.items():
        prefix = "%%mlops" if sub.cell else "%mlops"
        assert f"`{prefix} {name}`" in text, name


def test_plain_api_example_from_tracking_page(project):
    import nbmlops

    ns: dict = {}
    result = nbmlops.capture_run("C = 0.5\nscore = C * 2", ns, name="api")
    assert (result.status, result.params, result.metrics) == (
        "FINISHED", {"C": "0.5"}, {"score": 1.0})
