"""``nbmlops serve MODEL@ALIAS``: MLflow's scoring app with prediction logging and metrics."""

from __future__ import annotations

import sys
from pathlib import Path

import click


def _seconds(text: str, flag: str) -> float:
    from nbmlops.drift.tail import parse_interval
    from nbmlops.exceptions import UsageArgumentError

    try:
        return parse_interval(text)
    except UsageArgumentError:
        raise click.BadParameter(f"{text!r} is not an interval like 30s or 10m",
                                 param_hint=flag) from None


@click.command()
@click.argument("model")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--log-dir", default="logs/predictions", show_default=True,
              help="Prediction log folder (hour-partitioned Parquet).")
@click.option("--labels-dir", default=None, help="Labels log folder [default: 'labels' beside "
              "--log-dir].")
@click.option("--shadow", default=None, metavar="ALIAS", help="Also score every request with "
              "this alias; log it, never return it.")
@click.option("--canary", default=None, metavar="ALIAS=SHARE", help="Send SHARE of requests "
              "(0-1) to ALIAS, e.g. challenger=0.1.")
@click.option("--canary-key", default=None, metavar="COLUMN", help="Route by this input column "
              "(the same value always goes the same way).")
@click.option("--poll", default="30s", show_default=True, help="How often to re-read the "
              "aliases (0: only POST /reload).")
@click.option("--token", default=None, envvar="NBMLOPS_SERVE_TOKEN", help="Bearer token for "
              "/feedback and /reload [env NBMLOPS_SERVE_TOKEN].")
@click.option("--max-body", default="10MB", show_default=True, help="Largest request body.")
@click.option("--log-policy", type=click.Choice(["block", "drop"]), default="block",
              show_default=True, help="Full log queue: answer 503 (block) or drop and count.")
@click.option("--batch-rows", default=5000, show_default=True, type=int,
              help="Write a log file after this many rows...")
@click.option("--flush-every", default="1s", show_default=True, help="...or when the oldest "
              "queued row is this old (bounds the rows a SIGKILL loses).")
@click.option("--queue-rows", default=100_000, show_default=True, type=int,
              help="Log queue bound, rows.")
@click.option("--monitor", default=None, metavar="REF", help="Run the drift monitor on the log "
              "against this reference (snapshot name, file or profile JSON).")
@click.option("--every", default="10m", show_default=True, help="Drift monitor interval.")
@click.option("--audit-log", default=None, help="Audit log of alias switches and drift "
              "[default: .nbmlops/serving_audit.jsonl].")
def serve(model: str, **kw: str) -> None:
    """Serve registered MODEL (NAME@ALIAS, NAME/VERSION or NAME) with prediction logging.

    Same requests and responses as `mlflow models serve` (POST /invocations),
    plus POST /feedback (late labels), POST /reload and GET /metrics. The
    service follows the alias: when it moves, new requests go to the new
    version. Stops cleanly on SIGTERM/SIGINT, flushing the log.
    """
    from nbmlops.config import load_config
    from nbmlops.serving.options import DEFAULT_AUDIT_LOG, ServeOptions
    from nbmlops.serving.server import Bind
    from nbmlops.serving.server import serve as run
    from nbmlops.serving.writer import WriterOptions

    cfg = load_config()
    writer = WriterOptions(batch_rows=int(kw["batch_rows"]),
                           max_age=_seconds(kw["flush_every"], "--flush-every"),
                           max_queue_rows=int(kw["queue_rows"]), policy=kw["log_policy"])
    poll = 0.0 if str(kw["poll"]).strip() in ("0", "0s") else _seconds(kw["poll"], "--poll")
    opts = ServeOptions(
        model, cfg.tracking_uri, Path(kw["log_dir"]),
        labels_dir=Path(kw["labels_dir"]) if kw["labels_dir"] else None,
        shadow=kw["shadow"], canary=kw["canary"], canary_key=kw["canary_key"], poll=poll,
        token=kw["token"], max_body=_size(kw["max_body"]), writer=writer,
        monitor=kw["monitor"], every=_seconds(kw["every"], "--every"),
        audit_log=cfg.path(kw["audit_log"] or DEFAULT_AUDIT_LOG))
    sys.exit(run(opts, Bind(kw["host"], int(kw["port"]))))


def _size(text: str) -> int:
    units = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
    t = str(text).strip().upper()
    num = t.rstrip("KMGB")
    unit = t[len(num):]
    try:
        return int(float(num) * units[unit])
    except (ValueError, KeyError):
        raise click.BadParameter(f"{text!r} is not a size like 10MB",
                                 param_hint="--max-body") from None
