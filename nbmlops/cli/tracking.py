"""``nbmlops ui``, ``nbmlops runs``, ``nbmlops sync``: options -> one plain-API call."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import click


@click.command()
@click.option("--port", type=int, default=None, help="Port (default: a free one).")
def ui(port: int | None) -> None:
    """Start the MLflow UI for the project's store and keep it running (Ctrl-C stops it)."""
    from nbmlops.config import load_config
    from nbmlops.tracking.ui import start_ui

    server = start_ui(load_config(), port=port)
    click.echo(f"MLflow UI: {server.url}  (Ctrl-C to stop)")
    if server.proc is None:
        return

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM (CI cancel, `kill`) stops the UI like Ctrl-C

    signal.signal(signal.SIGTERM, on_term)
    try:
        while server.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        server.stop()


@click.command()
@click.option("--experiment", "-e", default=None, help="Experiment (default: configured).")
@click.option("--last", "-n", type=int, default=20, show_default=True, help="How many runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--all", "-a", "show_all", is_flag=True,
              help="Also show the params and metrics MLflow's autolog recorded.")
def runs(experiment: str | None, last: int, as_json: bool, show_all: bool) -> None:
    """List recent runs: your own metrics (primary first) and params; --all adds autolog's."""
    from nbmlops.config import load_config
    from nbmlops.tracking.query import runs as api_runs

    table = api_runs(experiment, last=last, config=load_config(), show_all=show_all)
    click.echo(json.dumps(table.to_dict(), indent=1, default=str) if as_json else str(table))


@click.command()
def sync() -> None:
    """Upload runs spooled while the tracking server was unreachable."""
    from nbmlops.config import load_config
    from nbmlops.tracking.spool import sync as api_sync

    result = api_sync(load_config())
    click.echo(str(result))
    if result.waiting:
        raise SystemExit(1)
