"""The shared gate core: exit policy, hooks, the hash-chained audit log, `nbmlops audit verify`."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nbmlops.cli import main
from nbmlops.exceptions import DriftError, NbmlopsError
from nbmlops.gates import (
    BAD_INPUT,
    FAIL,
    GENESIS,
    PASS,
    AuditLog,
    Finish,
    audited,
    error_exit_code,
    exit_code,
    finish,
    verify_audit,
)

LEVELS = {"warn": 1, "drift": 2}


def write_log(path: Path, n: int = 4) -> list[dict]:
    log = AuditLog(path)
    return [log.append({"verdict": "ok", "i": i, "note": f"run {i}"}) for i in range(n)]


def verify(*args: str) -> object:
    return CliRunner().invoke(main, ["audit", "verify", *args], catch_exceptions=False)


# -- exit policy -------------------------------------------------------------------------
def test_exit_policy() -> None:
    assert [exit_code(v, "drift", LEVELS) for v in ("ok", "warn", "drift", "error")] == \
        [PASS, PASS, FAIL, BAD_INPUT]
    assert [exit_code(v, "warn", LEVELS) for v in ("ok", "warn", "drift", "skipped")] == \
        [PASS, FAIL, FAIL, PASS]
    assert error_exit_code(DriftError("bad input")) == BAD_INPUT
    assert error_exit_code(KeyError("a bug")) == BAD_INPUT  # a crash never reads as "fired"
    one = NbmlopsError("an error whose own code is 1")
    one.exit_code = 1
    assert error_exit_code(one) == BAD_INPUT


# -- the audit log ---------------------------------------------------------------------------
def test_lines_are_chained(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    written = write_log(path)
    lines = path.read_bytes().splitlines(keepends=True)
    assert [r["seq"] for r in written] == [1, 2, 3, 4]
    assert written[0]["prev"] == GENESIS
    for before, line in itertools.pairwise(lines):
        assert json.loads(line)["prev"] == hashlib.sha256(before).hexdigest()
    assert AuditLog(path).records() == written
    check = verify_audit(path)
    assert check.ok and check.lines == 4 and check.line is None
    assert check.head == hashlib.sha256(lines[-1]).hexdigest()
    assert str(check).startswith("OK: 4 line(s) intact")


@pytest.mark.parametrize("number", [1, 2, 4])
def test_one_edited_byte_is_found(tmp_path: Path, number: int) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = lines[number - 1].replace(b"run", b"ran", 1)  # one byte
    path.write_bytes(b"".join(lines))
    check = verify_audit(path)
    assert not check.ok and check.line == number
    assert "edited" in check.problem


def test_an_edited_byte_that_breaks_the_json_is_found(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    data = bytearray(path.read_bytes())
    data[data.index(b"\n") + 1] = ord("[")  # first byte of line 2
    path.write_bytes(bytes(data))
    check = verify_audit(path)
    assert (check.ok, check.line) == (False, 2) and "not valid JSON" in check.problem


@pytest.mark.parametrize("number", [1, 2, 3])
def test_a_removed_line_is_found(tmp_path: Path, number: int) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    lines = path.read_bytes().splitlines(keepends=True)
    del lines[number - 1]
    path.write_bytes(b"".join(lines))
    check = verify_audit(path)
    assert not check.ok and check.line == number
    assert f"seq is {number + 1}, expected {number}" in check.problem
    assert "removed" in check.problem


def test_older_unchained_lines_are_kept_and_chained_onto(tmp_path: Path) -> None:
    """A log written before lines carried hashes: its readers and its lines keep working."""
    path = tmp_path / "audit.jsonl"
    old = [json.dumps({"verdict": "ok", "exit_code": 0}) + "\n" for _ in range(2)]
    path.write_text("".join(old))
    new = AuditLog(path).append({"verdict": "drift", "exit_code": 1})
    assert new["seq"] == 3 and new["prev"] == hashlib.sha256(old[1].encode()).hexdigest()
    check = verify_audit(path)
    assert check.ok and check.unchained == 2
    assert [r["verdict"] for r in AuditLog(path).records()] == ["ok", "ok", "drift"]
    path.write_text(path.read_text() + old[0])  # an unchained line after chained ones
    assert verify_audit(path).line == 4


# -- the two ends of a run ----------------------------------------------------------------
def test_audited_records_errors_and_crashes(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    for exc in (DriftError("no such file"), KeyError("bug")):
        record = {"reference": "ref"}
        with pytest.raises(type(exc)), audited(record, log):
            raise exc
    got = log.records()
    assert [(r["verdict"], r["exit_code"]) for r in got] == [("error", 2), ("error", 2)]
    assert "no such file" in got[0]["error"] and verify_audit(log.path).ok


def test_finish_runs_the_hook_only_when_the_gate_fails(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    how = Finish(log, tmp_path, output=tmp_path / "out.md", hook="echo fired && exit 3",
                 hook_key="on_fail")
    ok = finish({"verdict": "ok"}, "# fine", PASS, how)
    assert ok.exit_code == PASS and "on_fail" not in ok.audit
    assert (tmp_path / "out.md").read_text() == "# fine"
    failed = finish({"verdict": "drift"}, "# drift", FAIL, how, report="the report")
    hook = failed.audit["on_fail"]
    assert hook["returncode"] == 3 and "fired" in hook["stdout_tail"]
    assert failed.report == "the report" and failed.audit["seq"] == 2
    assert log.records()[-1] == failed.audit


# -- nbmlops audit verify --------------------------------------------------------------------
def test_cli_verify_exit_codes(project: Path) -> None:
    default = project / ".nbmlops" / "drift_audit.jsonl"
    r = verify()
    assert r.exit_code == 2
    assert f"no audit log at {default}" in r.output and "first run" in r.output
    r = verify(str(project))  # a folder: unreadable as a log
    assert r.exit_code == 2 and "cannot read" in r.output
    write_log(default, 3)
    r = verify()  # default path: the drift gate's log in the project
    assert r.exit_code == 0, r.output
    assert "OK: 3 line(s) intact" in r.output
    lines = default.read_bytes().splitlines(keepends=True)
    default.write_bytes(lines[0] + lines[2])
    r = verify(str(default))
    assert r.exit_code == 1 and "TAMPERED: line 2" in r.output
    assert verify(str(project)).exit_code == 2  # a folder is unreadable, not tampered


def test_drift_gate_log_verifies_and_a_crash_exits_2(project: Path) -> None:
    """The drift gate writes through the core; a crash is audited and never exits 1."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=300)}).to_parquet(project / "ref.parquet")
    pd.DataFrame({"x": rng.normal(2, 1, 300)}).to_parquet(project / "cur.parquet")
    r = CliRunner().invoke(main, ["drift", "ref.parquet", "cur.parquet"])
    assert r.exit_code == 1, r.output
    broken = {"format": "nbmlops.drift.profile/1", "n_rows": 300, "columns": {"x": {}}}
    (project / "broken.json").write_text(json.dumps(broken))
    r = CliRunner().invoke(main, ["drift", "broken.json", "cur.parquet"])
    assert r.exit_code == 2 and "Corrupt drift reference profile" in r.output
    log = AuditLog(project / ".nbmlops" / "drift_audit.jsonl").records()
    assert [(e["verdict"], e["exit_code"]) for e in log] == [("drift", 1), ("error", 2)]
    assert verify().exit_code == 0
