"""``nbmlops demo``: the quickstart, end to end, on the embedded defaults."""

from __future__ import annotations

import json

import click


@click.command()
@click.option("--dir", "folder", default="nbmlops-demo", show_default=True,
              type=click.Path(file_okay=False), help="Project folder to create for the demo.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def demo(folder: str, as_json: bool, quiet: bool) -> None:
    """Execute notebooks/quickstart.ipynb in a real kernel and say where results are.

    The demo makes FOLDER its own project (a git repository), runs the
    quickstart against an embedded SQLite MLflow store (FOLDER/mlflow.db) and
    the local DVC cache (no server needed), then prints the runs it made and
    how to open the MLflow UI.
    """
    from nbmlops.demo import run_demo

    if not as_json:
        click.echo(f"Running the quickstart notebook in {folder} (first run takes a minute)…")
    result = run_demo(folder, progress=not (quiet or as_json))
    click.echo(json.dumps(result.to_dict(), indent=2) if as_json else str(result))
