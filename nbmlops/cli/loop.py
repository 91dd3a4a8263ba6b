"""``nbmlops loop --once|--watch 1h`` and ``nbmlops approvals [list|approve|reject]``.

Exit codes of ``loop``: 0 no trigger / pending approval / promoted, 1 the
iteration failed (notebook, validation, rejection), 2 bad input or waiting
for labels.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from dataclasses import asdict
from typing import Any

import click


@click.command()
@click.option("--once", is_flag=True, help="Run (or resume) one iteration and exit.")
@click.option("--watch", "every", default=None, metavar="PERIOD",
              help="Run an iteration every PERIOD (e.g. 1h) until stopped.")
@click.option("--config", "-c", "path", default=None,
              help="Loop file (default mlops.yaml, else [tool.nbmlops.loop] in pyproject.toml).")
@click.option("--stop-after", default=None,
              type=click.Choice(["check", "snapshot", "train", "register", "validate"]),
              help="Debug: stop after this step (the next run resumes there).")
@click.option("--now", default=None, metavar="ISO",
              help="The iteration's time (default now, UTC): replay or backfill a log.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def loop(once: bool, every: str | None, path: str | None, stop_after: str | None,
         now: str | None, as_json: bool) -> None:
    """Check the service's recent log and, on a trigger, retrain, validate and ask sign-off."""
    from nbmlops.loop import load_loop_config, run_once, watch

    if once == bool(every):
        raise click.UsageError("give exactly one of --once or --watch PERIOD.")
    cfg = load_loop_config(path)
    if every:
        watch(cfg, every)
        return
    when = None
    if now:
        try:
            when = _dt.datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(f"{now!r} is not an ISO time", param_hint="--now") from None
        when = when if when.tzinfo else when.replace(tzinfo=_dt.timezone.utc)
    result = run_once(cfg, now=when, stop_after=stop_after)
    click.echo(json.dumps(result.to_dict(), indent=1, default=str) if as_json else result.table())
    sys.exit(result.exit_code)


@click.group(invoke_without_command=True)
@click.option("--model", "-m", default=None, help="Only this model.")
@click.option("--json", "as_json", is_flag=True, help="Print the pending requests as JSON.")
@click.pass_context
def approvals(ctx: click.Context, model: str | None, as_json: bool) -> None:
    """Pending sign-offs of the loop; approve (promotes) or reject (alias unchanged)."""
    if ctx.invoked_subcommand is None:
        _list(model, as_json)


@approvals.command("list")
@click.option("--model", "-m", default=None, help="Only this model.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_(model: str | None, as_json: bool) -> None:
    """List pending sign-offs."""
    _list(model, as_json)


def _list(model: str | None, as_json: bool) -> None:
    from nbmlops.loop import pending_approvals

    items = pending_approvals(model)
    if as_json:
        click.echo(json.dumps([asdict(a) for a in items], indent=1, default=str))
        return
    if not items:
        click.echo("no pending approvals.")
    for a in items:
        v = a.validation or {}
        click.echo(f"{a.model} v{a.version} -> @{a.alias}  requested {a.requested_at}  "
                   f"validation {v.get('verdict', '?')} ({v.get('id', '')})  "
                   f"trained on {a.trained_on}  iteration {a.iteration}")


def _decision_options(f: Any) -> Any:
    f = click.option("--reason", "-r", default=None, help="Why (kept in the audit).")(f)
    f = click.option("--approver", required=True, help="Who decides.")(f)
    f = click.argument("version")(f)
    return click.argument("model")(f)


@approvals.command()
@_decision_options
def approve(model: str, version: str, approver: str, reason: str | None) -> None:
    """Approve MODEL VERSION: promote it to its alias (four-eyes applies)."""
    from nbmlops.loop import approve as do

    click.echo(str(do(model, version, approver=approver, reason=reason)))


@approvals.command()
@_decision_options
def reject(model: str, version: str, approver: str, reason: str | None) -> None:
    """Reject MODEL VERSION: the alias stays; the reason goes to the audit."""
    from nbmlops.loop import reject as do

    item = do(model, version, approver=approver, reason=reason or "")
    click.echo(f"rejected {item.model} v{item.version} by {approver}; @{item.alias} unchanged.")
