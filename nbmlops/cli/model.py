"""``nbmlops model validate|promote|rollback|history|list``: options -> one registry call each."""

from __future__ import annotations

import sys
from typing import Any

import click


@click.group()
def model() -> None:
    """Model registry: validate a candidate, promote with sign-off, roll back, read history.

    Exit codes: 0 pass / done, 1 the validation gate fails, 2 bad input or refused.
    """


@model.command()
@click.argument("candidate")
@click.option("--against", "-a", default=None, help="Champion reference (default NAME@champion).")
@click.option("--data", "-d", required=True, help="Holdout: a snapshot (holdout@2) or a file.")
@click.option("--target", "-t", required=True, help="Label column.")
@click.option("--slices", "-s", default=None,
              help="Comma-separated slices: column, column:4 (bins), or a condition.")
@click.option("--rule", "-r", "rules", multiple=True,
              help="METRIC:KEY=VALUE[,KEY=VALUE] (MLflow MetricThreshold keys), repeatable; "
                   "or one JSON dict.")
@click.option("--no-ci", is_flag=True, help="Judge point values only (MLflow's semantics).")
@click.option("--n-boot", type=int, default=1000, show_default=True, help="Bootstrap replicates.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--min-slice-size", type=int, default=100, show_default=True,
              help="Smaller slices get status 'too small'.")
@click.option("--threshold", type=float, default=None,
              help="Decision threshold (default: the champion's).")
@click.option("--output", "-o", default=None, help="Also write the report (.json or .html).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="What to print.")
def validate(candidate: str, **flags: Any) -> None:
    """Validate CANDIDATE (e.g. fraud@challenger) against the champion on a holdout."""
    from nbmlops.gates import error_exit_code
    from nbmlops.registry.rules import rules_from_strings
    from nbmlops.registry.validate import validate as api_validate

    if flags["slices"] is not None and not flags["slices"].strip():
        flags["slices"] = ""
    try:
        result = api_validate(
            candidate, against=flags["against"], data=flags["data"], target=flags["target"],
            slices=flags["slices"], rules=rules_from_strings(flags["rules"]),
            ci=not flags["no_ci"], n_boot=flags["n_boot"], seed=flags["seed"],
            min_slice_size=flags["min_slice_size"], threshold=flags["threshold"])
    except Exception as exc:
        from nbmlops.exceptions import NbmlopsError

        if isinstance(exc, NbmlopsError):
            raise
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)  # a crash never exits 1
        sys.exit(error_exit_code(exc))
    if flags["output"]:
        result.save(flags["output"])
    click.echo(result.to_json() if flags["fmt"] == "json" else result.to_text())
    sys.exit(result.exit_code)


@model.command()
@click.argument("name")
@click.argument("version")
@click.option("--to", "alias", default="champion", show_default=True, help="Alias to move.")
@click.option("--approver", default=None, help="Who signs off (required).")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
@click.option("--force", is_flag=True, help="Skip validation and four-eyes (needs --reason).")
def promote(name: str, version: str, alias: str, approver: str | None, reason: str | None,
            force: bool) -> None:
    """Point NAME@ALIAS at VERSION after a passing validation and a sign-off."""
    from nbmlops.registry.promote import promote as api_promote

    click.echo(str(api_promote(name, version, to=alias, approver=approver, reason=reason,
                               force=force)))


@model.command()
@click.argument("name")
@click.option("--to", "alias", default="champion", show_default=True, help="Alias to restore.")
@click.option("--reason", default=None, help="Why (kept in the audit log).")
def rollback(name: str, alias: str, reason: str | None) -> None:
    """Give NAME@ALIAS back to its previous holder."""
    from nbmlops.registry.promote import rollback as api_rollback

    click.echo(str(api_rollback(name, to=alias, reason=reason)))


@model.command()
@click.argument("name")
def history(name: str) -> None:
    """Who registered, validated, promoted and rolled back NAME: when, why, on which data."""
    from nbmlops.registry.views import history as api_history

    click.echo(str(api_history(name)))


@model.command(name="list")
@click.argument("name", required=False)
def list_(name: str | None) -> None:
    """Registered models, or NAME's versions with aliases, lineage and validation."""
    from nbmlops.registry.views import models

    click.echo(str(models(name)))
