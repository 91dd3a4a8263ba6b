"""The settings of one serving process (the ``nbmlops serve`` flags), checked once."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nbmlops.mlflow_gateway.scoring import ServingError, parse_ref
from nbmlops.serving.logger import labels_dir
from nbmlops.serving.writer import WriterOptions

#: request bodies above this many bytes are refused with 413
DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_AUDIT_LOG = ".nbmlops/serving_audit.jsonl"


def parse_canary(text: str | None, model: str) -> tuple[str | None, float]:
    """``ALIAS=0.1`` (or ``MODEL@ALIAS=0.1``) -> (``model@alias``, share)."""
    if not text:
        return None, 0.0
    ref, sep, share_text = text.rpartition("=")
    try:
        share = float(share_text)
    except ValueError:
        share = -1.0
    if not sep or not ref or not 0 < share <= 1:
        raise ServingError(f"--canary {text!r}: expected ALIAS=SHARE with 0 < SHARE <= 1, "
                           "e.g. challenger=0.1", parameter="canary")
    return _full_ref(ref, model), share


def _full_ref(ref: str, model: str) -> str:
    """``challenger`` -> ``model@challenger``; ``other@x`` and ``other/3`` stay."""
    return ref if ("@" in ref or "/" in ref) else f"{model}@{ref}"


@dataclass
class ServeOptions:
    """What to serve, where to log, how to route.

    Attributes
    ----------
    model
        ``NAME@ALIAS`` (followed), ``NAME/VERSION`` or ``NAME`` (latest version).
    tracking_uri
        The MLflow store holding the registry.
    log_dir, labels_dir
        Prediction log folder; labels folder (default: ``labels`` beside it).
    shadow
        ``ALIAS`` or ``NAME@ALIAS`` scored on every request, logged, never returned.
    canary
        ``ALIAS=SHARE``: that share of requests (or of key values) goes to ALIAS.
    canary_key
        Input column whose value keeps a key on the same side (sticky).
    poll
        Seconds between alias checks (0: only on ``POST /reload``).
    token
        Bearer token required by ``/feedback`` and ``/reload`` (None: open).
    max_body
        Largest request body in bytes (413 beyond).
    writer
        Log batching and back-pressure.
    monitor, every
        Reference for the in-process drift monitor and its interval (seconds).
    audit_log
        Hash-chained JSONL of alias switches and drift evaluations.
    """

    model: str
    tracking_uri: str
    log_dir: Path
    labels_dir: Path | None = None
    shadow: str | None = None
    canary: str | None = None
    canary_key: str | None = None
    poll: float = 30.0
    token: str | None = field(default=None, repr=False)
    max_body: int = DEFAULT_MAX_BODY
    writer: WriterOptions = field(default_factory=WriterOptions)
    monitor: str | None = None
    every: float = 600.0
    audit_log: Path = Path(DEFAULT_AUDIT_LOG)
    canary_ref: str | None = field(default=None, init=False)
    canary_share: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.log_dir = Path(self.log_dir)
        self.labels_dir = Path(self.labels_dir) if self.labels_dir else labels_dir(self.log_dir)
        self.canary_ref, self.canary_share = parse_canary(self.canary, self.name)
        if self.canary_key and not self.canary:
            raise ServingError("--canary-key needs --canary ALIAS=SHARE", parameter="canary_key")
        if self.max_body < 1 or self.poll < 0 or self.every <= 0:
            raise ServingError("--max-body and --every must be positive, --poll >= 0",
                               parameter="max_body")
        if self.token is None:
            self.token = os.environ.get("NBMLOPS_SERVE_TOKEN") or None

    @property
    def name(self) -> str:
        """The registered model name."""
        return parse_ref(self.model)[0]

    def refs(self) -> dict[str, str]:
        """Role -> registry reference (primary, canary, shadow)."""
        out = {"primary": self.model}
        if self.canary_ref:
            out["canary"] = self.canary_ref
        if self.shadow:
            out["shadow"] = _full_ref(self.shadow, self.name)
        return out
