"""The ``nbmlops`` command: a click group whose commands load lazily.

Each area defines its commands in ``nbmlops/cli/<area>.py`` as plain click
commands that parse options and call one plain-API function. They are listed
in :data:`COMMANDS` and imported only when invoked, so ``nbmlops --help``
stays fast. Errors derived from :class:`~nbmlops.exceptions.NbmlopsError`
print one line and exit with the error's ``exit_code``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from nbmlops._version import __version__

#: command name -> ("module:attribute", one-line help shown by ``nbmlops --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("nbmlops.cli.demo:demo", "Run the quickstart notebook end to end (embedded store)."),
    "ui": ("nbmlops.cli.tracking:ui", "Start the MLflow UI for the project's store."),
    "runs": ("nbmlops.cli.tracking:runs", "List recent runs of an experiment."),
    "sync": ("nbmlops.cli.tracking:sync", "Upload runs spooled while the server was down."),
    "snapshot": ("nbmlops.cli.snapshot:snapshot", "Snapshot a data file into DVC."),
    "snapshots": ("nbmlops.cli.snapshot:snapshots", "List snapshot versions."),
    "run": ("nbmlops.cli.pipeline:run", "Run a notebook with parameters (papermill)."),
    "sweep": ("nbmlops.cli.pipeline:sweep", "Run a parameter grid in parallel kernels."),
    "export": ("nbmlops.cli.pipeline:export", "Write params.yaml + dvc.yaml stage for a notebook."),
    "pipeline": ("nbmlops.cli.pipeline:pipeline", "Notebook pipeline helpers (init)."),
    "ci": ("nbmlops.cli.pipeline:ci", "Write a ready CI workflow."),
    "drift": ("nbmlops.cli.drift:drift", "Drift gate: compare current data to a reference."),
    "audit": ("nbmlops.cli.audit:audit", "Verify a gate's hash-chained audit log."),
    "serve": ("nbmlops.cli.serve:serve", "Serve a registered model with prediction logging."),
    "init": ("nbmlops.cli.project:init", "Git-ignore local stores and outputs; set up DVC."),
    "model": ("nbmlops.cli.model:model", "Model registry: validate, promote, rollback, history."),
    "loop": ("nbmlops.cli.loop:loop", "Retraining loop: check drift, retrain, validate, sign-off."),
    "approvals": ("nbmlops.cli.loop:approvals", "Pending sign-offs of the loop: approve/reject."),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: D102
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: D102
        if cmd_name not in COMMANDS:
            return None
        module, _, attr = COMMANDS[cmd_name][0].partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:  # area not built yet / broken install
            msg = f"'{cmd_name}' is unavailable: {exc}"
            return click.Command(cmd_name, help=msg, callback=lambda: _fail(msg))

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the table without importing them."""
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        """Turn nbmlops errors into one line on stderr and their exit code."""
        from nbmlops.exceptions import NbmlopsError

        try:
            return super().invoke(ctx)
        except NbmlopsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a bug is not a verdict: never exit 1 (a gate's "fail")
            click.echo(f"error: internal error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(3)


def _fail(msg: str) -> None:
    click.echo(f"error: {msg}", err=True)
    sys.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nbmlops")
def main() -> None:
    """nbmlops: experiment runs, data snapshots, notebook pipelines and drift.

    Every command is a thin front over a plain Python function of the
    ``nbmlops`` package. Run ``nbmlops COMMAND --help`` for details.
    """
