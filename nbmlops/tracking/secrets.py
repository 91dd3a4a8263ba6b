"""Keep credentials out of MLflow.

Three rules, applied to everything a run writes:

1. a variable, parameter or tag whose *name* looks like a credential
   (:func:`is_secret_name`: ``password``, ``db_pass``, ``passphrase``,
   ``api_token``, ``creds``, ``AWS_SECRET_ACCESS_KEY`` ... but not
   ``max_tokens``, ``tokenizer`` or ``n_authors``) is never logged as a param
   or metric, and its value is hidden where it is assigned in text
   (``password = "[REDACTED]"`` stays runnable);
2. credential-shaped *values* anywhere in captured text (keys of AWS, GitHub,
   Slack, Hugging Face, OpenAI/Stripe, Google, Azure ``AccountKey=``, JWTs,
   bearer headers, PEM blocks, ``user:password@`` in URLs, Slack webhooks)
   become ``[REDACTED]``;
3. the *values* held by secret-named variables (rule 1) are remembered and
   every literal occurrence of them is replaced too, so ``print("pw", pw)``
   does not leak through the captured output (:class:`Redactor`).

Notebook files are redacted cell by cell through their JSON structure
(:func:`redact_notebook`), so quotes escaped with a backslash do not hide a value.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[REDACTED]"

#: whole words (after splitting a name on ``_``, ``-``, ``.`` and camelCase) that mark a credential
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "pw", "pass", "passphrase", "passcode", "secret", "secrets",
    "token", "apikey", "credential", "credentials", "creds", "cred", "auth", "oauth",
    "authorization", "cookie", "signature", "dsn", "sas", "pat", "privatekey", "accesskey",
})
#: ``<word>_key`` pairs that mark a credential (``api_key``, ``SECRET_KEY``, ``AccountKey``)
_KEY_OWNERS = frozenset({"api", "secret", "private", "access", "account", "session", "signing",
                         "encryption", "master", "client", "shared", "storage", "ssh", "sas"})
#: long unambiguous fragments found even inside run-together names (``DBPASSWORD``)
_FRAGMENTS = ("password", "passwd", "passphrase", "apikey", "credential", "secretkey",
              "accesskey", "privatekey", "accountkey")

_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD_SPLIT.split(name) if w]


def is_secret_name(name: str) -> bool:
    """``True`` when a variable/param/tag name looks like a credential.

    Decided on whole words, so ``max_tokens``, ``tokenizer``, ``n_authors``
    and ``bypass`` are ordinary names while ``api_token``, ``db_pass`` and
    ``AWS_SECRET_ACCESS_KEY`` are credentials.
    """
    words = _words(str(name))
    if any(w in _SECRET_WORDS for w in words):
        return True
    if any(a in _KEY_OWNERS and b in ("key", "keys") for a, b in itertools.pairwise(words)):
        return True
    flat = "".join(words)
    return any(f in flat for f in _FRAGMENTS)


_VALUE_PATTERNS: list[re.Pattern[str]] = [
    # PEM private key blocks
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
               re.S),
    # AWS access key ids
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    # bare AWS secret access keys: 40 base64 characters with upper, lower and digit
    # (a git sha is 40 *lower-case* hex characters: not matched)
    re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])"
               r"(?=[A-Za-z0-9/+]*[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
    # bearer / basic auth headers
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{16,}"),
    # GitHub, Slack, Hugging Face, OpenAI/Stripe-like, Google API keys, JWTs
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}\b"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),
    # Slack webhooks: the path is the credential
    re.compile(r"(?<=hooks\.slack\.com/)(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
    # Azure storage / service bus connection strings, SAS signatures
    re.compile(r"(?i)(?<=AccountKey=)[^;\s\"'\\]+"),
    re.compile(r"(?i)(?<=SharedAccessKey=)[^;\s\"'\\]+"),
    re.compile(r"(?<=[?&]sig=)[^&\s\"'\\]+"),
    # [user]:password@ in URLs (redis://:pw@, a password holding '@': up to the last '@')
    re.compile(r"(?<=://)[^\s/:@\"'\\]*:[^\s/\"'\\]*(?=@[^\s@/\"'\\]+(?:[/\s:?\"'\\]|$))"),
]

# `password = "..."`, `api_key: '...'`, `AWS_SECRET_ACCESS_KEY=...`, `password: str = "..."`:
# the name is checked by is_secret_name, the value hidden, the quotes kept.
_ASSIGNED = re.compile(
    r"(?P<name>(?<![\w$-])(?P<key>[A-Za-z_][\w.-]*?)\\?[\"']?"
    r"(?:\s*:\s*[A-Za-z_][\w.\[\]|]*)?\s*(?:==|[:=])\s*)"
    r"(?:(?P<q>\\?[\"'])(?P<val>(?:(?!(?P=q))[^\n]){4,}?)(?P=q)"
    r"|(?P<bare>[^\s\"'#,;()\[\]{}\\]{4,})(?=[\s,;)}\]]|$))",
)
# `--password hunter2`, `--api-token=x` on command lines
_OPTION = re.compile(r"(?P<name>(?<![\w-])--?(?P<key>[A-Za-z][\w-]*)(?:\s+|=))"
                     r"(?P<val>[^\s\"'-][^\s\"']{3,})")
_LITERALS = frozenset({"None", "True", "False", "null", "true", "false", "none"})


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Replace credential-looking values in ``text`` with ``[REDACTED]``.

    Parameters
    ----------
    text
        Any captured text: source, history, a diff, output, a traceback.
    known
        Secret values seen elsewhere (held by secret-named variables): every
        occurrence of them is replaced too.
    """
    if not text:
        return text
    for value in sorted({v for v in known if len(v) >= 4}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern in _VALUE_PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _OPTION.sub(_keep_option, text)
    return _ASSIGNED.sub(_keep_name, text)


def _keep_option(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("key")) or REDACTED in match.group("val"):
        return match.group(0)
    return f"{match.group('name')}{REDACTED}"


def _keep_name(match: re.Match[str]) -> str:
    if not is_secret_name(match.group("key")):
        return match.group(0)
    quote = match.group("q")
    if quote:
        if REDACTED in match.group("val"):
            return match.group(0)
        return f"{match.group('name')}{quote}{REDACTED}{quote}"
    value = match.group("bare")
    if REDACTED in value or value in _LITERALS or (
            "." in value and re.fullmatch(r"[A-Za-z_][\w.]*", value)):
        return match.group(0)  # `token = args.token`: a reference, not the secret itself
    return f'{match.group("name")}"{REDACTED}"'


class Redactor:
    """:func:`redact` that also hides values held by secret-named variables.

    Feed it names and values with :meth:`learn` (a cell's namespace, injected
    parameters, environment variables); then every text it redacts has those
    values replaced wherever they appear.
    """

    def __init__(self) -> None:
        self.known: set[str] = set()

    def learn(self, items: Iterable[tuple[str, Any]]) -> Redactor:
        """Remember the string values of the secret-named ``(name, value)`` pairs."""
        for name, value in items:
            if isinstance(value, (str, bytes)) and is_secret_name(str(name)):
                text = value.decode(errors="replace") if isinstance(value, bytes) else value
                if len(text) >= 4:
                    self.known.add(text)
        return self

    def __call__(self, text: str) -> str:
        """Redact ``text`` (patterns, secret names and the learnt values)."""
        return redact(text, self.known)


def redact_notebook(text: str, red: Any = redact) -> str:
    """Redact a ``.ipynb`` file's text cell by cell (sources and text outputs).

    Works on the JSON structure, so escaped quotes (a backslash before ``"``) cannot hide a
    value; text that is not JSON is redacted as plain text.
    """
    try:
        nb = json.loads(text)
        cells = nb["cells"]
    except (ValueError, TypeError, KeyError):
        return str(red(text))
    injected = (nb.get("metadata") or {}).get("papermill", {}).get("parameters") or {}
    if isinstance(red, Redactor) and isinstance(injected, dict):
        red.learn(injected.items())  # papermill's copy of `-p api_token X`
    for cell in cells:
        if "source" in cell:
            cell["source"] = _red_lines(cell["source"], red)
        for output in cell.get("outputs", []) or []:
            if "text" in output:
                output["text"] = _red_lines(output["text"], red)
            for mime, data in (output.get("data") or {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    output["data"][mime] = _red_lines(data, red) if isinstance(
                        data, (str, list)) else data
    with contextlib.suppress(ValueError, TypeError):  # metadata (papermill's parameters)
        nb["metadata"] = json.loads(red(json.dumps(nb.get("metadata") or {})))
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def _red_lines(value: Any, red: Any) -> Any:
    if isinstance(value, list):
        joined = str(red("".join(str(v) for v in value)))
        return joined.splitlines(keepends=True)
    return red(value) if isinstance(value, str) else value


def redact_params(params: dict[str, Any]) -> dict[str, Any]:
    """Params with secret names given the value ``[REDACTED]``, other values redacted."""
    return {k: (REDACTED if is_secret_name(k) else
                redact(v) if isinstance(v, str) else v) for k, v in params.items()}
