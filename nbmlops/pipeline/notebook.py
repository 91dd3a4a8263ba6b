"""Notebook files and cells: read a notebook, its cells' source and tags.

The plain helpers every pipeline module shares (parameters, injection,
tagging, the runner and the DVC export), kept apart so none of them has to
import another for a cell's source.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from nbmlops.exceptions import PipelineError

#: the tag of the parameters cell (papermill's convention)
TAG = "parameters"
#: the tag of the cell nbmlops injects after it
INJECTED_TAG = "injected-parameters"

_USES_MLFLOW = re.compile(
    r"^\s*(%%?mlops\b|%load_ext\s+nbmlops|(import|from)\s+(mlflow|nbmlops)\b)", re.MULTILINE)


def read_notebook(path: Path) -> dict[str, Any]:
    """The notebook JSON at ``path`` (checked to be a v4 notebook).

    Raises
    ------
    PipelineError
        When the file is not an ``.ipynb``, is missing, unreadable or not nbformat 4.
    """
    if path.suffix != ".ipynb":
        raise PipelineError(f"{path} is not a notebook (.ipynb).", path=str(path))
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"Notebook {path} does not exist.", path=str(path)) from None
    except (OSError, ValueError) as exc:
        raise PipelineError(f"Notebook {path} cannot be read: {exc}", path=str(path)) from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or "cells" not in nb:
        raise PipelineError(f"Notebook {path} is not an nbformat 4 notebook.", path=str(path))
    return nb


def cell_source(cell: Any) -> str:
    """The source of a notebook cell as one string."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def cell_tags(cell: Any) -> list[str]:
    """The tags of a cell (empty when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []) or [])


def tagged_index(nb: Any, tag: str = TAG) -> int | None:
    """Index of the first cell tagged ``tag`` (default ``parameters``), else ``None``."""
    for i, cell in enumerate(nb["cells"]):
        if tag in cell_tags(cell):
            return i
    return None


def uses_mlflow(nb: dict[str, Any]) -> bool:
    """True when the notebook loads MLflow in its kernel anyway (magics or imports)."""
    return any(cell.get("cell_type") == "code" and _USES_MLFLOW.search(cell_source(cell))
               for cell in nb["cells"])
