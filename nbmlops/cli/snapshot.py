"""``nbmlops snapshot FILE --name N``, ``nbmlops snapshot push|pull`` and ``nbmlops snapshots``.

``snapshot`` is a group whose default is taking a snapshot of a file:
``nbmlops snapshot data.csv`` works as before, while ``push`` and ``pull``
move every catalogued version to and from the DVC remote.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


def read_file(path: Path) -> object:
    """Read a Parquet, CSV or TSV file (by suffix only) as a pandas DataFrame."""
    import pandas as pd

    from nbmlops.exceptions import UsageArgumentError

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".tsv"):
        return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    raise UsageArgumentError(f"{path}: unknown format {suffix or '(no suffix)'!r}; give a "
                             ".parquet, .csv or .tsv file.", path=str(path))


class _DefaultToFile(click.Group):
    """A group that runs its ``file`` command when the first word is no subcommand."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["file", *args]
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with click.Context(file_command, info_name=ctx.info_name, parent=ctx.parent) as sub:
            file_command.format_help(sub, formatter)
        formatter.write_paragraph()
        formatter.write_text("Also: `nbmlops snapshot push [NAME...]` and `nbmlops snapshot pull "
                             "[NAME...]` push/pull every catalogued version to/from the DVC "
                             "remote (see --help of each).")


@click.group(cls=_DefaultToFile)
def snapshot() -> None:
    """Snapshot a Parquet or CSV file into DVC as the next version of NAME."""


@snapshot.command("file")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", "-n", default=None, help="Snapshot name (default: the file's stem).")
@click.option("--message", "-m", default=None, help="Why this version exists.")
@click.option("--commit", is_flag=True, help="Git commit + tag snapshot/<name>/v<k>.")
@click.option("--push", is_flag=True, help="Push to the DVC remote and check dvc status -c.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def file_command(file: Path, name: str | None, message: str | None, commit: bool, push: bool,
                 as_json: bool) -> None:
    """Snapshot a Parquet or CSV file into DVC as the next version of NAME."""
    from nbmlops.config import load_config
    from nbmlops.versioning.api import snapshot as api_snapshot

    # --name "" is a name the user gave (and refused as such), not "no name"
    result = api_snapshot(read_file(file), file.stem if name is None else name,
                          message=message, push=push,
                          commit=commit, config=load_config())
    click.echo(json.dumps(result.to_dict(), indent=1) if as_json else str(result))


_REMOTE = click.option("--remote", "remote_name", default=None,
                        help="DVC remote (default: MLOps.dvc_remote, else DVC's default).")


@snapshot.command("push")
@click.argument("names", nargs=-1)
@_REMOTE
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def push(names: tuple[str, ...], remote_name: str | None, as_json: bool) -> None:
    """Push EVERY catalogued version (of NAMES, default all snapshots) to the DVC remote.

    Also pins each version (<name>.versions/v<k>.parquet.dvc; commit them) so
    plain `dvc push`, `dvc pull` and `dvc gc -w` see every version too.
    Exit 1 when a version is in neither the local cache nor the remote.
    """
    _sync("push", names, remote_name, as_json)


@snapshot.command("pull")
@click.argument("names", nargs=-1)
@_REMOTE
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def pull(names: tuple[str, ...], remote_name: str | None, as_json: bool) -> None:
    """Pull EVERY catalogued version (of NAMES, default all snapshots) from the DVC remote.

    After it, every version in the catalogs loads (e.g. in a fresh clone).
    Exit 1 when a version is on no remote.
    """
    _sync("pull", names, remote_name, as_json)


def _sync(action: str, names: tuple[str, ...], remote_name: str | None, as_json: bool) -> None:
    import sys

    from nbmlops.config import load_config
    from nbmlops.versioning.sync import pull_all, push_all

    run = push_all if action == "push" else pull_all
    result = run(list(names) or None, remote_name=remote_name, config=load_config())
    click.echo(json.dumps(result.to_dict(), indent=1) if as_json else str(result))
    sys.exit(0 if result.ok else 1)


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def snapshots(name: str | None, as_json: bool) -> None:
    """List snapshot versions (all snapshots, or the versions of NAME)."""
    from nbmlops.config import load_config
    from nbmlops.versioning.api import snapshots as api_snapshots

    listing = api_snapshots(name, config=load_config())
    click.echo(json.dumps(listing.to_dict(), indent=1) if as_json else str(listing))
