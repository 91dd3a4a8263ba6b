"""``nbmlops snapshot FILE --name N`` and ``nbmlops snapshots [NAME]``."""

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


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", "-n", default=None, help="Snapshot name (default: the file's stem).")
@click.option("--message", "-m", default=None, help="Why this version exists.")
@click.option("--commit", is_flag=True, help="Git commit + tag snapshot/<name>/v<k>.")
@click.option("--push", is_flag=True, help="Push to the DVC remote and check dvc status -c.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def snapshot(file: Path, name: str | None, message: str | None, commit: bool, push: bool,
             as_json: bool) -> None:
    """Snapshot a Parquet or CSV file into DVC as the next version of NAME."""
    from nbmlops.config import load_config
    from nbmlops.versioning.api import snapshot as api_snapshot

    result = api_snapshot(read_file(file), name or file.stem, message=message, push=push,
                          commit=commit, config=load_config())
    click.echo(json.dumps(result.to_dict(), indent=1) if as_json else str(result))


@click.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def snapshots(name: str | None, as_json: bool) -> None:
    """List snapshot versions (all snapshots, or the versions of NAME)."""
    from nbmlops.config import load_config
    from nbmlops.versioning.api import snapshots as api_snapshots

    listing = api_snapshots(name, config=load_config())
    click.echo(json.dumps(listing.to_dict(), indent=1) if as_json else str(listing))
