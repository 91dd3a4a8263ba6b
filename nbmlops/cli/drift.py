"""``nbmlops drift REF CUR``: the CI drift gate (options -> :func:`nbmlops.drift.gate.run_gate`)."""

from __future__ import annotations

import sys
from typing import Any

import click


@click.command()
@click.argument("reference")
@click.argument("current", nargs=-1, required=True)
@click.option("--window", "-w", default=None,
              help="Per-window verdicts: a frequency on --time-column ('1h', '1D', '7D') or a "
                   "row count.")
@click.option("--time-column", "-t", default=None,
              help="Timestamp column for --window (default: the profile's, else 'ts').")
@click.option("--config", "-c", "config", default=None,
              help="Drift YAML (default: the project's drift.yaml when present).")
@click.option("--fail-on", default="drift", show_default=True,
              help="What exits 1, comma-separated: drift, warn (warn or drift), performance "
                   "(degraded), quality (missing/retyped/all-NaN columns). drift and warn "
                   "include quality.")
@click.option("--format", "-f", "fmt", type=click.Choice(["md", "json", "html"]), default="md",
              show_default=True, help="Report format.")
@click.option("--output", "-o", default=None,
              help="Write the report here (default: stdout; html needs a file).")
@click.option("--mlflow", "log_mlflow", is_flag=True,
              help="Log statistics and the report to an MLflow run in the project's store.")
@click.option("--on-drift", default=None,
              help="Shell command to run when the gate fires (outcome goes to the audit log).")
@click.option("--audit-log", default=None,
              help="Append-only JSONL audit log (default .nbmlops/drift_audit.jsonl).")
@click.option("--target", default=None, help="Label column (when REF is data).")
@click.option("--prediction", default=None, help="Model output column (when REF is data).")
@click.option("--exclude", "-x", multiple=True,
              help="Column to leave out (repeatable; when REF is data), e.g. an id column.")
@click.option("--labels", "-l", default=None,
              help="Late labels: Parquet/CSV/JSONL file, folder or glob with the id column and "
                   "the target (or a 'label' column), joined to CURRENT.")
@click.option("--id-column", default=None,
              help="Column joining --labels to CURRENT (default request_id).")
@click.option("--alert", multiple=True,
              help="webhook:URL posted once per state change ok->drift, drift->ok (repeatable).")
def drift(reference: str, current: tuple[str, ...], **flags: Any) -> None:
    """Compare CURRENT data with REFERENCE and exit 0 (pass), 1 (the gate fired) or 2 (bad input).

    REFERENCE is a saved profile JSON, a Parquet/CSV/JSONL file, folder or glob,
    or a snapshot name such as train@3. CURRENT is files, folders, globs or a
    snapshot name (several paths are read as one dataset). The gate fires on
    data drift and data-quality failures by default (--fail-on). Every run is
    appended to the audit log.
    """
    from nbmlops.drift.gate import GateOptions, run_gate
    from nbmlops.exceptions import NbmlopsError
    from nbmlops.gates import error_exit_code

    if flags["fmt"] == "html" and flags["output"] is None:  # megabytes of HTML on a terminal
        from nbmlops.exceptions import UsageArgumentError

        raise UsageArgumentError("--format html needs --output FILE (e.g. -o drift.html).",
                                 parameter="--output")
    cur: object = current[0] if len(current) == 1 else list(current)
    try:
        options = GateOptions(**{**flags, "exclude": list(flags["exclude"]) or None,
                                 "alert": tuple(flags["alert"])})
        result = run_gate(reference, cur, options)
    except NbmlopsError:
        raise
    except Exception as exc:  # a crash is not "the gate fired": never exit 1
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(error_exit_code(exc))
    if options.output is None:
        click.echo(result.text)
    else:
        fired = ", ".join(result.report.fired) or "nothing fired"
        click.echo(f"{result.report.verdict}: {result.report.reason} [{fired}] "
                   f"(report: {options.output})")
    if result.audit.get("on_drift"):
        hook = result.audit["on_drift"]
        click.echo(f"on-drift: {hook['command']!r} exited {hook.get('returncode')}", err=True)
    sys.exit(result.exit_code)
