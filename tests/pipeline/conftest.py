"""Fixtures of the pipeline tests: small notebooks written with nbformat."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "notebooks" / "train.ipynb"


def write_notebook(path: Path, params: str | None, *cells: str, tag: bool = True) -> Path:
    """Write a python3 notebook: an optional parameters cell, then ``cells``."""
    nb_cells = [new_markdown_cell("# test notebook")]
    if params is not None:
        nb_cells.append(new_code_cell(params, metadata={"tags": ["parameters"]} if tag else {}))
    nb_cells += [new_code_cell(c) for c in cells]
    nb = new_notebook(cells=nb_cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.fixture
def train_nb(project: Path) -> Path:
    """notebooks/train.ipynb copied into the test project."""
    dest = project / "notebooks" / "train.ipynb"
    dest.parent.mkdir(exist_ok=True)
    shutil.copy(TRAIN, dest)
    return dest
