"""Keep credentials out of MLflow.

Two rules: a variable whose *name* looks like a credential is never logged as
a param or metric, and text we capture (cell source, history, git diff,
stdout) has credential-looking *values* replaced by ``[REDACTED]``.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

_SECRET_NAME = re.compile(
    r"(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|credential|"
    r"private[_-]?key|access[_-]?key|auth|session[_-]?key|cookie|signature|dsn)"
)

_VALUE_PATTERNS: list[re.Pattern[str]] = [
    # PEM private key blocks
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
               re.S),
    # AWS access key ids
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    # bearer / basic auth headers
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{16,}"),
    # GitHub, Slack, OpenAI/Stripe-like, Google API keys, JWTs
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
    # user:password@ in URLs
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"),
]

# `password = "..."`, `api_key: '...'`, `AWS_SECRET_ACCESS_KEY=...` -> keep the name, hide the value
_ASSIGNED = re.compile(
    r"(?P<name>\b\w*(?:passw(?:or)?d|passwd|secret|token|api[_-]?key|apikey|credential|"
    r"access[_-]?key|private[_-]?key)\w*\b[\"']?\s*[:=]\s*)"
    r"(?:(?P<q>[\"'])(?P<val>[^\"'\n]{4,})(?P=q)|(?P<bare>[^\s\"'#,;()\[\]{}]{4,})(?=\s|$))",
    re.I,
)


def is_secret_name(name: str) -> bool:
    """``True`` when a variable/param name looks like a credential."""
    return bool(_SECRET_NAME.search(name))


def redact(text: str) -> str:
    """Replace credential-looking values in ``text`` with ``[REDACTED]``."""
    if not text:
        return text
    for pattern in _VALUE_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _ASSIGNED.sub(_keep_name, text)


def _keep_name(match: re.Match[str]) -> str:
    value = match.group("val") or match.group("bare") or ""
    if REDACTED in value:
        return match.group(0)
    quote = match.group("q") or ""
    return f"{match.group('name')}{quote}{REDACTED}{quote}"
