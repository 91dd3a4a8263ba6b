"""``%mlops parameters`` and ``%mlops export``: arguments -> one plain-API call.

Both act on the notebook *file*. Without a path they use the notebook this
kernel runs, when it can be found (Jupyter server, VS Code, ``nbmlops run``).
After ``%mlops parameters`` reload the notebook from disk (Jupyter offers
to) so the editor shows the new tag and does not save over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from IPython.core.magic_arguments import argument, magic_arguments

from nbmlops.exceptions import UsageArgumentError


def _notebook(magics: Any, given: str | None) -> Path:
    if given:
        return Path(given)
    from nbmlops.magics._kernel import notebook_path

    found = notebook_path(getattr(magics, "shell", None))
    if found is None:
        raise UsageArgumentError("Cannot tell which notebook this kernel runs; pass its path, "
                                 "e.g. `%mlops parameters notebooks/train.ipynb`.")
    return found


@magic_arguments()
@argument("notebook", nargs="?", default=None,
          help="The .ipynb file (default: the notebook of this kernel).")
@argument("--cell", type=int, default=None,
          help="Index of the cell to tag (default: the first cell of literal assignments).")
def parameters(magics: Any, args: Any) -> Any:
    """Tag the notebook's parameters cell (papermill's `parameters` tag).

    Tags the first code cell made only of literal assignments (or --cell N)
    and shows the parameters with their types (from annotations or literals).
    Nothing else in the file changes.
    """
    from nbmlops.pipeline.tagging import tag_parameters_cell

    return tag_parameters_cell(_notebook(magics, args.notebook), index=args.cell)


@magic_arguments()
@argument("notebook", nargs="?", default=None,
          help="The .ipynb file (default: the notebook of this kernel).")
@argument("--stage", default=None, help="Stage and params.yaml section (default: stem).")
@argument("--params-file", default="params.yaml", help="Parameters file (default params.yaml).")
@argument("--dvc-file", default="dvc.yaml", help="Pipeline file (default dvc.yaml).")
def export(magics: Any, args: Any) -> Any:
    """Write/update params.yaml and the notebook's dvc.yaml stage.

    The stage runs `nbmlops run -f params.yaml:<stage>` (values never go
    through a shell), depends on the notebook and the snapshots it loads (not
    those it writes), and outputs the files the parameters cell marks
    `# out:` / `# metrics:`. Then `!dvc repro` (after `!dvc init` outside a
    DVC repository).
    """
    from nbmlops.pipeline.export import export as run_export

    return run_export(_notebook(magics, args.notebook), stage=args.stage,
                      params_file=args.params_file, dvc_file=args.dvc_file,
                      config=magics.resolved_config())
