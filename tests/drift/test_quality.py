"""Issue 11's drift rows: data-quality failures fail the gate; hostile inputs exit 2, never 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nbmlops.drift import fit_reference

N = 3000
rng = np.random.default_rng(11)
REF = pd.DataFrame({"a": rng.normal(size=N), "b": rng.normal(size=N),
                    "c": rng.choice(["x", "y", "z"], N)})

QUALITY = [
    ("missing column", REF.drop(columns="a"), "a", "column missing"),
    ("dtype changed", REF.assign(a=REF["a"].map(lambda v: f"{v:.3f}x")), "a", "dtype changed"),
    ("all NaN", REF.assign(a=np.nan), "a", "missing or infinite"),
    ("all inf", REF.assign(a=np.inf), "a", "infinite"),
]


@pytest.mark.parametrize(("cur", "col", "what"), [q[1:] for q in QUALITY],
                         ids=[q[0] for q in QUALITY])
def test_quality_verdict(cur: pd.DataFrame, col: str, what: str) -> None:
    rep = fit_reference(REF).compare(cur)
    assert rep.quality["verdict"] == "fail"
    assert what in rep.quality["problems"][col]
    assert "data quality" in rep.fired
    assert rep.exit_code() == 1 and rep.exit_code("warn") == 1
    assert rep.exit_code("performance") == 0  # only what is listed (drift/warn imply quality)
    assert json.loads(rep.to_json())["quality"]["verdict"] == "fail"
    assert "data quality FAIL" in rep.summary()


def test_clean_data_has_no_quality_problem() -> None:
    rep = fit_reference(REF).compare(REF.sample(frac=0.5, random_state=1))
    assert rep.quality == {"verdict": "ok", "problems": {}} and rep.fired == []
    assert rep.exit_code() == 0


def _gate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbmlops", "drift", *args], cwd=project,
                          capture_output=True, text=True, timeout=300)


def test_gate_fails_on_quality_by_default(project: Path) -> None:
    REF.to_parquet(project / "ref.parquet")
    REF.drop(columns="a").to_parquet(project / "cur.parquet")
    r = _gate(project, "ref.parquet", "cur.parquet")
    assert r.returncode == 1, r.stderr
    assert "data quality FAIL: a: column missing" in r.stdout
    r = _gate(project, "ref.parquet", "cur.parquet", "--fail-on", "performance")
    assert r.returncode == 0
    log = [json.loads(x) for x in (project / ".nbmlops/drift_audit.jsonl").read_text()
           .splitlines()]
    assert log[0]["fired"] == ["data quality"] and log[0]["exit_code"] == 1


def test_hostile_inputs_exit_2_with_one_line(project: Path) -> None:
    REF.to_parquet(project / "ref.parquet")
    fit_reference(REF).save(project / "ref.json")
    REF.assign(a=np.where(np.arange(N) % 2, 1e308, -1e308)).to_parquet(project / "big.parquet")
    REF.assign(c=[[1, 2]] * N).to_parquet(project / "lists.parquet")
    (project / "bad.parquet").write_bytes(b"not parquet at all")
    prof = json.loads((project / "ref.json").read_text())
    prof["columns"] = list(prof["columns"].values())
    (project / "listcols.json").write_text(json.dumps(prof))
    cases = [
        (["ref.json", "big.parquet"], "values as large as 1e+308"),
        (["ref.parquet", "big.parquet"], "values as large as 1e+308"),
        (["ref.json", "ref.parquet", "--window", "9999999999999999999D", "--time-column", "a"],
         "too long"),
        (["ref.json", "ref.parquet", "--window", "99999999999999999999999"], "too large"),
        (["ref.json", "bad.parquet"], "Cannot read"),
        (["ref.json", "lists.parquet"], "holds ndarrays"),
        (["lists.parquet", "ref.parquet"], "holds ndarrays"),
        (["listcols.json", "ref.parquet"], "Corrupt drift reference profile"),
        (["ref.json", "ref.parquet", "--fail-on", "sometimes"], "--fail-on takes"),
    ]
    for args, message in cases:
        r = _gate(project, *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr[-500:])
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], \
            (args, r.stderr[-500:])


def test_cli_turns_a_crash_into_exit_3_not_1() -> None:
    """An unexpected exception in any command is 'internal error', exit 3: never a verdict."""
    import click
    from click.testing import CliRunner

    from nbmlops.cli import LazyGroup

    @click.group(cls=LazyGroup)
    def grp() -> None:
        pass

    @grp.command()
    def boom() -> None:
        raise ZeroDivisionError("bug")

    grp.list_commands = lambda ctx: ["boom"]  # type: ignore[method-assign]
    grp.get_command = lambda ctx, name: boom  # type: ignore[method-assign]
    r = CliRunner().invoke(grp, ["boom"])
    assert r.exit_code == 3 and "internal error: ZeroDivisionError: bug" in r.output
