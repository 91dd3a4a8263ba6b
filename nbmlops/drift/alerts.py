"""Alerts on drift state changes: one JSON POST per change (ok -> drift, drift -> ok).

A sink is written ``webhook:URL`` (CLI ``--alert``, ``alert:`` in ``drift.yaml``).
:class:`Alerter` keeps the last state per sink (in memory, or in a small JSON
file so successive CI runs chain) and posts only when the state changes, with
retries; every evaluation, a negative one too, can be appended to an
:class:`~nbmlops.gates.AuditLog`. The drift gate (:mod:`nbmlops.drift.gate`) and
the headless monitor (:mod:`nbmlops.drift.monitor`) use it.

The state of a report is that of its latest judged window (windowed report)
or its verdict: ``drift`` when it is ``drift``, ``ok`` when ``ok`` or ``warn``;
an ``error`` leaves the state unchanged. Payload::

    {"event": "drift" | "recovered", "state": ..., "previous": ..., "verdict": ...,
     "reason": ..., "window": ..., "drifted": [...], "report": LINK, "time": ...}
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbmlops.exceptions import DriftError
from nbmlops.fileio import atomic_write


@dataclass(frozen=True)
class Webhook:
    """A URL that receives one JSON POST per state change.

    Attributes
    ----------
    url
        ``http://`` or ``https://`` address.
    retries
        Attempts after the first when the receiver is unreachable or answers 5xx.
    timeout, backoff
        Seconds per attempt; the wait before retry ``i`` is ``backoff * 2**i``.
    """

    url: str
    retries: int = 3
    timeout: float = 5.0
    backoff: float = 0.5

    def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload``; ``{"url", "status", "attempts", "error"}`` (never raises)."""
        body = json.dumps(payload, default=str).encode()
        error = None
        for attempt in range(1, self.retries + 2):
            req = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": "nbmlops-drift-alert"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return {"url": self.url, "status": resp.status, "attempts": attempt,
                            "error": None}
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
                if exc.code < 500:
                    return {"url": self.url, "status": exc.code, "attempts": attempt,
                            "error": error}
            except (urllib.error.URLError, OSError) as exc:
                error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
            if attempt <= self.retries:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        return {"url": self.url, "status": None, "attempts": self.retries + 1, "error": error}


def parse_sink(spec: str) -> Webhook:
    """``webhook:URL`` as a :class:`Webhook` (a clear error otherwise)."""
    kind, _, url = str(spec).partition(":")
    if kind != "webhook" or not url.startswith(("http://", "https://")):
        raise DriftError(f"--alert must be webhook:http(s)://..., got {spec!r}.",
                         parameter="alert")
    return Webhook(url)


def state_of(report: Any) -> str | None:
    """``drift``, ``ok`` or None (no judged window: state unchanged)."""
    verdicts = [w.verdict for w in report.windows if w.verdict in ("ok", "warn", "drift")]
    verdict = verdicts[-1] if verdicts else report.verdict
    if verdict not in ("ok", "warn", "drift"):
        return None
    return "drift" if verdict == "drift" else "ok"


@dataclass
class Alerter:
    """Post on state changes to each sink; remember the state; audit every evaluation.

    Parameters
    ----------
    sinks
        ``webhook:URL`` strings or :class:`Webhook` objects.
    state_path
        JSON file keeping the last state per sink between processes (None: memory).
    audit_log
        :class:`~nbmlops.gates.AuditLog` path that gets one record per evaluation.
    link
        Report address put in every payload (a file path or URL).
    """

    sinks: list[Any]
    state_path: str | os.PathLike[str] | None = None
    audit_log: str | os.PathLike[str] | None = None
    link: str | None = None
    _states: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.sinks = [s if isinstance(s, Webhook) else parse_sink(s) for s in self.sinks]
        if self.state_path is not None and Path(self.state_path).is_file():
            try:
                self._states = dict(json.loads(Path(self.state_path).read_text("utf-8")))
            except (ValueError, OSError):
                self._states = {}

    def notify(self, report: Any, link: str | None = None) -> dict[str, Any]:
        """Judge ``report``'s state; post to every sink whose last state differs.

        Returns
        -------
        dict
            ``{"state", "changed": [urls], "posts": [send results]}`` (also audited).
        """
        state = state_of(report)
        posts, changed = [], []
        for sink in self.sinks:
            previous = self._states.get(sink.url, "ok")
            if state is None or state == previous:
                continue
            changed.append(sink.url)
            result = sink.send(_payload(report, state, previous, link or self.link))
            posts.append(result)
            if result["error"] is None:
                self._states[sink.url] = state
        if changed and self.state_path is not None:
            atomic_write(Path(self.state_path), json.dumps(self._states))
        out = {"state": state, "changed": changed, "posts": posts}
        if self.audit_log is not None:
            from nbmlops.gates import AuditLog

            AuditLog(self.audit_log).append({
                "time": _now(), "kind": "drift-evaluation", "verdict": report.verdict,
                "reason": report.reason, "windows": {w.key: w.verdict for w in report.windows},
                "alerts": out})
        return out


def _payload(report: Any, state: str, previous: str, link: str | None) -> dict[str, Any]:
    judged = [w for w in report.windows if w.verdict in ("ok", "warn", "drift")]
    last = judged[-1] if judged else None
    return {"event": "drift" if state == "drift" else "recovered", "state": state,
            "previous": previous, "verdict": report.verdict, "reason": report.reason,
            "window": last.key if last else None,
            "drifted": last.drifted if last else report.drifted,
            "signals": list(last.signals) if last else [], "report": link, "time": _now()}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
