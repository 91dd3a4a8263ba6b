"""``nbmlops audit verify [PATH]``: check a gate's hash-chained audit log (:mod:`nbmlops.gates`)."""

from __future__ import annotations

import sys

import click


@click.group()
def audit() -> None:
    """Gate audit logs (append-only JSONL, each line chained to the one before)."""


@audit.command()
@click.argument("path", required=False)
def verify(path: str | None) -> None:
    """Check the audit log PATH and exit 0 (intact), 1 (edited or removed lines), 2 (unreadable).

    PATH defaults to the drift gate's log, .nbmlops/drift_audit.jsonl in the
    project. Prints OK with the head hash (keep it elsewhere to detect a cut
    tail later) or the first bad line and what is wrong with it.
    """
    from nbmlops.config import load_config
    from nbmlops.drift.gate import DEFAULT_AUDIT_LOG
    from nbmlops.gates import verify_audit

    target = path or str(load_config().path(DEFAULT_AUDIT_LOG))
    try:
        check = verify_audit(target)
    except FileNotFoundError:
        hint = "" if path else " (a gate writes it on its first run: nbmlops drift REF CUR)"
        click.echo(f"error: no audit log at {target}{hint}.", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"error: cannot read {target}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # a crash must not read as "tampered" (exit 1)
        click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
    click.echo(f"{target}: {check}")
    sys.exit(0 if check.ok else 1)
