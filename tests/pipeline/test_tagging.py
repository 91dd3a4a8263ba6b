"""Tagging the parameters cell in place: the candidate cell, byte-identical files."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import nbformat
import pytest

from nbmlops.exceptions import PipelineError
from nbmlops.pipeline.tagging import candidate_index, tag_parameters_cell

from .conftest import TRAIN, write_notebook


def test_candidate_is_first_cell_of_literal_assignments(tmp_path: Path) -> None:
    nb = {"cells": [
        {"cell_type": "markdown", "source": "a = 1"},
        {"cell_type": "code", "source": "import os\nx = 1"},
        {"cell_type": "code", "source": "x = f(1)"},
        {"cell_type": "code", "source": "# settings\nalpha = 0.5\nname: str = 'a'\n"},
        {"cell_type": "code", "source": "beta = 1"},
    ]}
    assert candidate_index(nb) == 3
    assert candidate_index({"cells": nb["cells"][:3]}) is None


def _untagged_copy(tmp_path: Path) -> tuple[Path, str]:
    nb = json.loads(TRAIN.read_text())
    for cell in nb["cells"]:
        cell["metadata"].pop("tags", None)
    text = json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    path = tmp_path / "train.ipynb"
    path.write_text(text)
    return path, text


def test_tagging_changes_only_the_tag(tmp_path: Path) -> None:
    path, before = _untagged_copy(tmp_path)
    result = tag_parameters_cell(path)
    after = path.read_text()
    assert result.changed and result.index == 1
    assert list(result.parameters) == ["C", "max_iter", "seed", "n_samples", "metrics_path",
                                       "model_path"]
    # byte comparison: the only added lines are the tags of that one cell
    diff = [d for d in difflib.ndiff(before.splitlines(), after.splitlines())
            if d[:1] in "+-?"]
    assert [d.strip() for d in diff if d.startswith("-")] == ['-    "metadata": {},']
    assert [d.strip() for d in diff if d.startswith("+")] == [
        '+    "metadata": {', '+     "tags": [', '+      "parameters"', '+     ]', '+    },']
    assert after == TRAIN.read_text()  # the committed notebook is exactly this
    assert nbformat.validate(nbformat.reads(after, as_version=4)) is None
    # idempotent: a second call changes nothing
    again = tag_parameters_cell(path)
    assert not again.changed and path.read_text() == after
    assert "C: float = 1.0" in str(again)


def test_tag_moves_to_the_chosen_cell_and_bad_choices_fail(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "nb.ipynb", "a = 1", "b = 2")
    result = tag_parameters_cell(path, index=2)
    nb = nbformat.read(str(path), as_version=4)
    assert result.changed and "tags" not in nb.cells[1].metadata
    assert nb.cells[2].metadata.tags == ["parameters"]
    with pytest.raises(PipelineError, match=r"Cell 0 .* not a code cell"):
        tag_parameters_cell(path, index=0)
    none = write_notebook(tmp_path / "none.ipynb", None, "import os")
    with pytest.raises(PipelineError, match="no code cell made only of literal assignments"):
        tag_parameters_cell(none)
