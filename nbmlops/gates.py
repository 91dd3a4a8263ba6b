"""The gate core shared by every CI gate (the drift gate now, model validation next).

A gate judges something, renders the judgement, optionally runs a hook when
it fails, and appends one record to a tamper-evident audit log. This module
holds what does not depend on what is judged:

- :class:`GateResult`: exit code, rendered text, the judged object and the audit record;
- the exit policy: :data:`PASS` (0), :data:`FAIL` (1, the gate fires) and
  :data:`BAD_INPUT` (2); :func:`exit_code` maps a verdict to a code and
  :func:`error_exit_code` maps an exception to one — a crash never exits
  with 1, so CI never reads a bug as "the gate fired";
- :func:`run_hook`: run a shell command, keep its outcome for the audit log;
- :class:`AuditLog`: append-only JSONL where each line carries the SHA-256 of
  the line before it (``prev``), its own position (``seq``) and the SHA-256
  of its own content (``hash``); :func:`verify_audit` reports the first
  edited or removed line;
- :func:`audited` and :func:`finish`: the two ends of a gate run.

>>> log = AuditLog(".nbmlops/drift_audit.jsonl")              # doctest: +SKIP
>>> with audited(record, log):                                # doctest: +SKIP
...     verdict, text = judge()
>>> code = exit_code(verdict, "drift", {"warn": 1, "drift": 2})  # doctest: +SKIP
>>> result = finish(record, text, code, Finish(log, root))    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASS, FAIL, BAD_INPUT = 0, 1, 2
#: ``prev`` of the first line of a log
GENESIS = "0" * 64


@dataclass
class GateResult:
    """Outcome of a gate run.

    Attributes
    ----------
    exit_code
        :data:`PASS`, :data:`FAIL` or :data:`BAD_INPUT`.
    text
        The rendered judgement (Markdown, JSON or HTML).
    report
        The judged object (a :class:`~nbmlops.drift.report.DriftReport` ...).
    audit
        The record appended to the audit log (with its ``seq``, ``prev`` and ``hash``).
    """

    exit_code: int
    text: str
    report: Any = None
    audit: dict[str, Any] = field(default_factory=dict)


# -- exit policy ---------------------------------------------------------------------------
def exit_code(verdict: str, fail_on: str, levels: Mapping[str, int]) -> int:
    """The exit code of ``verdict`` when the gate fails on ``fail_on`` or worse.

    Parameters
    ----------
    verdict
        The judged verdict; ``"error"`` (nothing could be judged) is :data:`BAD_INPUT`.
    fail_on
        The least severe verdict that fails the gate (a key of ``levels``).
    levels
        Severity of each failing verdict (higher is worse); verdicts not in it pass.

    Returns
    -------
    int
        :data:`PASS`, :data:`FAIL` or :data:`BAD_INPUT`.
    """
    if verdict == "error":
        return BAD_INPUT
    return FAIL if levels.get(verdict, 0) >= levels[fail_on] > 0 else PASS


def error_exit_code(exc: BaseException) -> int:
    """The exit code of a gate that raised ``exc``: never :data:`FAIL`.

    An :class:`~nbmlops.exceptions.NbmlopsError` keeps its own ``exit_code``
    (bad input is 2) unless that is 0 or 1; anything else is a crash: 2.
    """
    from nbmlops.exceptions import NbmlopsError

    code = exc.exit_code if isinstance(exc, NbmlopsError) else BAD_INPUT
    return code if code not in (PASS, FAIL) else BAD_INPUT


# -- hook ----------------------------------------------------------------------------------
def run_hook(command: str, cwd: str | os.PathLike[str]) -> dict[str, Any]:
    """Run ``command`` in a shell in ``cwd``; return its outcome for the audit log.

    Returns
    -------
    dict
        ``command``, ``seconds``, ``returncode`` and the last 2000 characters of
        ``stdout_tail``/``stderr_tail`` (or ``error`` when it could not start).
    """
    t0 = time.monotonic()
    try:
        proc = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True,
                              check=False)
        out: dict[str, Any] = {"returncode": proc.returncode,
                               "stdout_tail": proc.stdout[-2000:],
                               "stderr_tail": proc.stderr[-2000:]}
    except OSError as exc:
        out = {"returncode": None, "error": str(exc)}
    return {"command": command, "seconds": round(time.monotonic() - t0, 3), **out}


# -- audit log -----------------------------------------------------------------------------
def _dumps(record: Mapping[str, Any]) -> str:
    return json.dumps(record, default=str, sort_keys=True)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _own_hash(record: Mapping[str, Any]) -> str:
    """SHA-256 of the record's canonical JSON without its ``hash`` field."""
    return _sha(_dumps({k: v for k, v in record.items() if k != "hash"}).encode())


class AuditLog:
    """An append-only, hash-chained JSONL audit log.

    Each appended line is the record plus ``seq`` (its 1-based line number),
    ``prev`` (SHA-256 of the previous line's bytes, newline included, or
    :data:`GENESIS`) and ``hash`` (SHA-256 of the line's own canonical JSON
    without ``hash``). The file is opened in append mode, locked while the
    line is written, flushed and fsynced; earlier lines are never rewritten.

    Parameters
    ----------
    path
        The JSONL file (created with its folder on first append).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def append(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append ``record`` as one chained line; return what was written (as a dict)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as fh:
            _lock(fh)
            last, count = _last_line(fh)
            seq = _next_seq(last, count, fh)
            line = {**record, "seq": seq, "prev": _sha(last) if last else GENESIS}
            line["hash"] = _own_hash(line)
            fh.write((_dumps(line) + "\n").encode())
            fh.flush()
            os.fsync(fh.fileno())
        return line

    def records(self) -> list[dict[str, Any]]:
        """Every record, in order (no verification: see :func:`verify_audit`)."""
        text = self.path.read_text(encoding="utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def _lock(fh: Any) -> None:
    """An exclusive lock until ``fh`` closes, so two gates never chain to the same line."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: appends of one line are rarely concurrent
        return
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)


def _last_line(fh: Any) -> tuple[bytes, int | None]:
    """The last line's bytes (newline included; ``b""`` for an empty file) read from the end.

    The second value is the file's line count when the whole file was read, else None.
    """
    end = fh.seek(0, os.SEEK_END)
    pos, buf = end, b""
    while pos > 0:
        step = min(1 << 16, pos)
        pos -= step
        fh.seek(pos)
        buf = fh.read(step) + buf
        cut = buf.rfind(b"\n", 0, len(buf) - 1)
        if cut >= 0:
            return buf[cut + 1:], None
    return buf, (1 if buf else 0)


def _next_seq(last: bytes, count: int | None, fh: Any) -> int:
    """``seq`` of the next line: the last line's + 1, or the line count + 1 for older logs."""
    try:
        seq = json.loads(last).get("seq") if last else 0
    except (ValueError, AttributeError):
        seq = None
    if isinstance(seq, int):
        return seq + 1
    if count is None:  # a log written before lines were chained: count once
        fh.seek(0)
        count = sum(1 for _ in fh)
    return count + 1


@dataclass
class AuditCheck:
    """What :func:`verify_audit` found.

    Attributes
    ----------
    ok
        True when every chained line is intact and none is missing.
    lines
        Lines in the file.
    line, problem
        The first bad line (1-based) and what is wrong with it (None/"" when ok).
    head
        SHA-256 of the last line: record it elsewhere (CI log) to detect a
        removed or rewritten tail later.
    unchained
        Leading lines written before lines carried hashes (not verifiable).
    """

    ok: bool
    lines: int
    line: int | None = None
    problem: str = ""
    head: str = GENESIS
    unchained: int = 0

    def __str__(self) -> str:
        if not self.ok:
            return f"TAMPERED: line {self.line}: {self.problem}"
        older = f" ({self.unchained} older unchained line(s) not verifiable)" \
            if self.unchained else ""
        return f"OK: {self.lines} line(s) intact{older}; head sha256 {self.head}"


def verify_audit(path: str | os.PathLike[str]) -> AuditCheck:
    """Check the hash chain of an audit log; report the first edited or removed line.

    Parameters
    ----------
    path
        The JSONL audit log.

    Returns
    -------
    AuditCheck
        ``ok`` and, when not, the first bad line and the problem.

    Raises
    ------
    OSError
        When the file cannot be read (missing, a folder, no permission).
    """
    data = Path(path).read_bytes()
    lines = data.splitlines(keepends=True)
    prev, chained, unchained = GENESIS, False, 0
    for number, raw in enumerate(lines, 1):
        problem, record = _check_line(raw, number, prev)
        if record is not None and "hash" not in record and not chained:
            unchained += 1  # a line from before the chain: it only feeds the next prev
        elif problem:
            return AuditCheck(False, len(lines), number, problem, prev, unchained)
        else:
            chained = True
        prev = _sha(raw)
    return AuditCheck(True, len(lines), head=prev, unchained=unchained)


def _check_line(raw: bytes, number: int, prev: str) -> tuple[str, dict[str, Any] | None]:
    """``(problem, record)`` of one line given the hash of the line before it."""
    if not raw.endswith(b"\n"):
        return "incomplete last line (no newline): cut or edited", None
    try:
        record = json.loads(raw)
    except ValueError:
        return "not valid JSON: edited", None
    if not isinstance(record, dict):
        return "not a JSON object: edited", None
    if "hash" not in record:
        return "no hash: an unchained line after chained ones (edited or inserted)", record
    if record["hash"] != _own_hash(record):
        return "content does not match its hash: edited", record
    seq = record.get("seq")
    if seq != number:
        what = (f"line(s) {number}..{seq - 1} removed before it" if isinstance(seq, int)
                and seq > number else "a line was inserted before it")
        return f"seq is {seq}, expected {number}: {what}", record
    if record.get("prev") != prev:
        return "prev does not match the line before it: that line was edited", record
    return "", record


# -- the two ends of a gate run ------------------------------------------------------------
@contextmanager
def audited(record: dict[str, Any], audit: AuditLog) -> Iterator[dict[str, Any]]:
    """Inside the block, any exception is appended to ``audit`` (verdict ``error``) and re-raised.

    ``record`` gets ``verdict="error"``, ``exit_code`` (:func:`error_exit_code`) and
    ``error``; a crash is recorded as well as bad input.
    """
    try:
        yield record
    except Exception as exc:
        record.update(verdict="error", exit_code=error_exit_code(exc), error=str(exc))
        audit.append(record)
        raise


@dataclass(frozen=True)
class Finish:
    """Where a gate's outcome goes.

    Attributes
    ----------
    audit
        The audit log.
    cwd
        Folder the hook runs in (the project root).
    output
        Write the rendered text here (None: the caller prints it).
    hook, hook_key
        Shell command run when the gate fails, and the audit-record key of its outcome.
    """

    audit: AuditLog
    cwd: Path
    output: str | os.PathLike[str] | None = None
    hook: str | None = None
    hook_key: str = "hook"


def finish(record: dict[str, Any], text: str, code: int, how: Finish,
           report: Any = None) -> GateResult:
    """Write the output, run the hook on :data:`FAIL`, append the audit record.

    Parameters
    ----------
    record
        The audit record built so far (verdicts, input hashes ...); ``exit_code``
        and the hook's outcome are added.
    text
        The rendered judgement.
    code
        The gate's exit code (:func:`exit_code`).
    how
        Output file, hook and audit log.
    report
        The judged object, returned in the result.

    Returns
    -------
    GateResult
    """
    if how.output is not None:
        from nbmlops.fileio import atomic_write

        atomic_write(Path(how.output), text)
    record["exit_code"] = code
    if code == FAIL and how.hook:
        record[how.hook_key] = run_hook(how.hook, how.cwd)
    written = how.audit.append(record)
    return GateResult(exit_code=code, text=text, report=report, audit=written)
