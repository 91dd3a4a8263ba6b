"""``nbmlops init``: make the working directory's project ready (git-ignore lines, DVC)."""

from __future__ import annotations

import click


@click.command()
@click.option("--no-dvc", is_flag=True, help="Only write .gitignore lines; leave DVC alone.")
def init(no_dvc: bool) -> None:
    """Add the .gitignore lines a project needs (once) and initialise DVC.

    Ignored: mlflow.db, mlartifacts/, .nbmlops/, outputs/sweeps/, *.executed.ipynb,
    drift.html. dvc.lock stays committed, as DVC wants.
    """
    from nbmlops._git import ensure_gitignore
    from nbmlops.config import load_config

    config = load_config()
    root = config.project_root
    added = ensure_gitignore(root)
    click.echo(f".gitignore: added {', '.join(added)}" if added
               else ".gitignore: already has nbmlops's lines")
    if no_dvc:
        return
    from nbmlops.versioning.dvcfiles import open_repo

    if (root / ".dvc").is_dir():
        click.echo(f"DVC: already initialised at {root}")
        return
    open_repo(root, init=True).close()
    click.echo(f"DVC: initialised at {root} (commit .dvc/ and .gitignore)")
