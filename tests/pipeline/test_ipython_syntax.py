"""IPython cell syntax as Python without IPython: the same code as IPython's own transform."""

from __future__ import annotations

import ast
import json

import pytest
from IPython.core.inputtransformer2 import TransformerManager

from nbmlops.pipeline.export import snapshot_names
from nbmlops.pipeline.ipython_syntax import to_python

from .conftest import ROOT

CELLS = [
    "%mlops load train@2\n%mlops load --help",
    "x = %mlops load train@1\ny = 1",
    "!ls -l\nfiles = !ls\na, b = !ls\nx = !!ls",
    "%%bash\necho hi",
    "\n\n%%mlops run --name x\nimport nbmlops\nnbmlops.load('a')",
    "obj?\nobj??\n?obj",
    "for i in range(2):\n    %time f(i)\n",
    "s = '''\n%notmagic\n!not shell\n'''",
    "%matplotlib   inline  ",
    "  %mlops load x",
    "x = %time",
    "%mlops drift a b --window 1D \\\n    --target y",
    "def f(:\n    pass",
    "",
]


def _ipython(source: str) -> str | None:
    try:
        return ast.dump(ast.parse(TransformerManager().transform_cell(source)))
    except SyntaxError:
        return None


def _ours(source: str) -> str | None:
    code = to_python(source)
    return None if code is None else ast.dump(ast.parse(code))


def _repo_cells() -> list[str]:
    return [("".join(c["source"])) for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
            for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("source", CELLS + _repo_cells())
def test_same_python_as_ipython(source: str) -> None:
    assert _ours(source) == _ipython(source)


def test_a_real_syntax_error_stays_one() -> None:
    assert to_python("x = (1,\n%mlops load a") is None
    assert to_python("def f(:\n    pass") is None


def test_snapshot_names_without_ipython() -> None:
    cells = ["%load_ext nbmlops", "train_v1 = %mlops load train@1\nprint(train_v1)",
             "%mlops load features@2  # pinned", "!dvc pull\nimport nbmlops\n"
             "ref = nbmlops.load('reference')", "%%bash\nnbmlops.load('in_bash')",
             "s = '''\n%mlops load in_a_string\n'''"]
    nb = {"cells": [{"cell_type": "code", "source": c} for c in cells]}
    assert snapshot_names(nb) == ["train", "features", "reference"]
