"""One resolver: `%mlops drift`, `nbmlops.drift_panel` and `nbmlops drift` judge the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from nbmlops.cli import main
from nbmlops.drift.inputs import resolve_config, resolve_reference
from nbmlops.drift.windows import default_time_column


def verdicts(report: Any) -> dict[str, Any]:
    """Dataset, per-feature and per-window verdicts of a report (or its JSON form)."""
    d = report if isinstance(report, dict) else report.to_dict(include_state=False)
    return {"verdict": d["verdict"],
            "features": {n: f["status"] for n, f in d["features"].items()},
            "windows": [(w["key"], w["verdict"]) for w in d["windows"]]}


@pytest.fixture
def files(project: Path, ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> dict[str, str]:
    """Reference and current logs with a timestamp ``ts`` and a row id (which would drift)."""
    ref_df.assign(id=range(len(ref_df))).to_parquet(project / "ref.parquet")
    cur_df.assign(id=range(10**6, 10**6 + len(cur_df))).to_parquet(project / "cur.parquet")
    return {"ref": "ref.parquet", "cur": "cur.parquet"}


CASES = [
    # (magic/CLI flags, drift_panel keywords)
    (["--window", "1D", "--time-column", "ts", "-x", "id"],
     {"window": "1D", "time_column": "ts", "exclude": ["id"]}),
    (["--window", "1D", "-x", "id", "-x", "n_items"],  # the time column by the default rule
     {"window": "1D", "exclude": ["id", "n_items"]}),
    (["--target", "y", "--prediction", "score", "--time-column", "ts"],
     {"target": "y", "prediction": "score", "time_column": "ts"}),
]


@pytest.mark.parametrize(("flags", "kwargs"), CASES, ids=["time-column", "default-ts", "roles"])
def test_magic_panel_and_gate_give_the_same_verdicts(ip: Any, files: dict[str, str],
                                                     flags: list[str],
                                                     kwargs: dict[str, Any]) -> None:
    import nbmlops

    magic = ip.run_line_magic("mlops", " ".join(["drift", files["ref"], files["cur"], *flags]))
    panel = nbmlops.drift_panel(files["ref"], files["cur"], progress=False, **kwargs)
    gate = CliRunner().invoke(main, ["drift", files["ref"], files["cur"], *flags,
                                     "--format", "json"], catch_exceptions=False)
    assert gate.exit_code == 1, gate.output
    want = verdicts(json.loads(gate.output))
    assert verdicts(magic.report) == verdicts(panel.report) == want
    assert want["verdict"] == "drift" and want["features"]["amount"] == "drift"
    assert "ts" not in want["features"]  # the time column is never judged
    for column in kwargs.get("exclude", []):
        assert column not in want["features"]
    if "window" in kwargs:
        assert len(want["windows"]) == 5


def test_without_exclude_the_id_drifts(files: dict[str, str]) -> None:
    """The exclude case above is not vacuous."""
    prof = resolve_reference(files["ref"], window="1D")
    assert "id" in prof.columns and "ts" not in prof.columns
    report = prof.compare(files["cur"], window="1D", progress=False)
    assert report.features["id"].status == "drift" and report.time_column == "ts"


def test_time_column_rule() -> None:
    class Fitted:
        def __init__(self) -> None:
            self.options = {"time_column": "event_time"}

    assert default_time_column(None, "1D", "when") == "when"  # given: always wins
    assert default_time_column(Fitted(), "1D", None) == "event_time"
    assert default_time_column(None, "1D", None) == "ts"
    assert default_time_column(Fitted(), 500, None) is None  # row windows need no time
    assert default_time_column(Fitted(), None, None) is None


def test_reference_resolution(project: Path, ref_df: pd.DataFrame) -> None:
    fitted = resolve_reference(ref_df, time_column="ts", exclude=["n_items"])
    assert "ts" not in fitted.columns and "n_items" not in fitted.columns
    assert resolve_reference(fitted) is fitted
    fitted.save(project / "profile.json")
    loaded = resolve_reference("profile.json", exclude=["age"])  # a saved profile is as saved
    assert loaded.digest() == fitted.digest()
    ref_df.iloc[:50].to_json(project / "rows.json", orient="records", lines=True,
                             date_format="iso")
    as_data = resolve_reference("rows.json")  # JSON that is not a profile is data
    assert as_data.n_rows == 50 and as_data.source["kind"] == "files"
    no_ts = resolve_reference(ref_df.drop(columns=["ts"]), time_column="ts")
    assert no_ts.options["time_column"] is None  # training data without the log's time column


def test_config_resolution(project: Path) -> None:
    from nbmlops.drift.config import DriftConfig

    assert resolve_config() == DriftConfig()
    DriftConfig(alpha=0.05).save(project / "drift.yaml")  # the project's drift_config
    assert resolve_config().alpha == 0.05
    assert resolve_config({"alpha": 0.2}).alpha == 0.2


def test_labels_same_through_magic_panel_and_gate(ip: Any, files: dict[str, str],
                                                  cur_df: pd.DataFrame, project: Path) -> None:
    """--labels/--id-column (magic, CLI) and labels=/id_column= (panel) join the same labels."""
    import nbmlops

    flipped = pd.DataFrame({"id": range(10**6, 10**6 + len(cur_df)), "label": 1 - cur_df["y"]})
    flipped.to_parquet(project / "lab.parquet")
    flags = ["--target", "y", "--prediction", "score", "-x", "id", "--labels", "lab.parquet",
             "--id-column", "id"]
    magic = ip.run_line_magic("mlops", " ".join(["drift", files["ref"], files["cur"], *flags]))
    panel = nbmlops.drift_panel(files["ref"], files["cur"], progress=False, target="y",
                                prediction="score", exclude=["id"], labels="lab.parquet",
                                id_column="id")
    gate = CliRunner().invoke(main, ["drift", files["ref"], files["cur"], *flags, "--format",
                                     "json", "--fail-on", "performance"],
                              catch_exceptions=False)
    assert gate.exit_code == 1, gate.output
    d = json.loads(gate.output)
    assert d["performance"]["verdict"] == "degraded" and "performance" in d["fired"]
    for rep in (magic.report, panel.report):
        assert rep.performance["current"]["auc"] == pytest.approx(
            d["performance"]["current"]["auc"])
    with pytest.raises(Exception, match="not supported in live mode"):
        nbmlops.drift_panel(files["ref"], files["cur"], live="30s", target="y",
                            prediction="score", labels="lab.parquet", id_column="id")
