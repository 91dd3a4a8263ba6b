"""The parameters cell: AST types, roles, coercion, and tagging in place."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import nbformat
import pytest

from nbmlops.exceptions import ParameterError, PipelineError
from nbmlops.pipeline.parameters import (
    Parameter,
    candidate_index,
    coerce,
    parse_parameters,
    resolve_values,
    tag_parameters_cell,
)

from .conftest import TRAIN, write_notebook

CELL = '''\
C: float = 1  # inverse regularisation
max_iter = 200
name = "lbfgs"
flag = False
layers: list[int] = [64, 32]
opts = {"a": 1}
maybe: str | None = None
anything = None
old: "Optional[int]" = 3
model_path = "out/model.joblib"  # out: the model
metrics_path = "out/metrics.json"  # metrics
data = "data/x.csv"  # dep: input table
not_a_param = len("x")
x = y = 2.5
'''


def test_types_from_annotations_and_literals() -> None:
    params = parse_parameters(CELL)
    types = {n: (p.type, p.optional) for n, p in params.items()}
    assert types == {
        "C": ("float", False), "max_iter": ("int", False), "name": ("str", False),
        "flag": ("bool", False), "layers": ("list", False), "opts": ("dict", False),
        "maybe": ("str", True), "anything": ("any", True), "old": ("int", True),
        "model_path": ("str", False), "metrics_path": ("str", False), "data": ("str", False),
        "x": ("float", False), "y": ("float", False),
    }
    assert params["C"].default == 1 and params["C"].help == "inverse regularisation"
    assert (params["model_path"].role, params["model_path"].help) == ("out", "the model")
    assert params["metrics_path"].role == "metrics"
    assert params["data"].role == "dep"


def test_parameters_cell_must_be_python() -> None:
    with pytest.raises(PipelineError, match="not valid Python"):
        parse_parameters("x = (", where="nb.ipynb cell 1")


C = Parameter("C", "float", 1.0)
N = Parameter("n", "int", 1)
B = Parameter("flag", "bool", False)
S = Parameter("name", "str", "a")
L = Parameter("layers", "list", [1])
OPT = Parameter("maybe", "str", None, optional=True)
A = Parameter("anything", "any", None, optional=True)


@pytest.mark.parametrize(("param", "value", "text", "expected"), [
    (C, "0.5", True, 0.5), (C, 2, False, 2.0), (C, "1e-3", True, 0.001),
    (N, "300", True, 300), (N, 300.0, False, 300), (N, "007", True, 7),
    (B, "true", True, True), (B, "False", True, False), (B, True, False, True),
    (S, "300", True, "300"), (S, "x y", False, "x y"),
    (L, "[1, 2]", True, [1, 2]), (L, [3], False, [3]),
    (OPT, "None", True, None), (OPT, None, False, None), (OPT, "x", True, "x"),
    (A, "3", True, 3), (A, "hello", True, "hello"), (A, {"k": 1}, False, {"k": 1}),
])
def test_coerce_accepts(param: Parameter, value: object, text: bool, expected: object) -> None:
    got = coerce(param, value, from_text=text)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("param", "value", "text"), [
    (C, "abc", True), (C, True, False), (C, [1.0], False), (C, None, False),
    (N, "1.5", True), (N, 1.5, False), (N, False, False),
    (B, "maybe", True), (B, 1, False),
    (S, 3, False), (L, "[1,", True), (L, {"a": 1}, False),
])
def test_coerce_refuses_naming_the_parameter(param: Parameter, value: object, text: bool) -> None:
    with pytest.raises(ParameterError) as err:
        coerce(param, value, from_text=text)
    assert err.value.parameter == param.name
    assert repr(param.name) in str(err.value) and param.type in str(err.value)


def test_unknown_parameter_is_an_error() -> None:
    declared = parse_parameters("C = 1.0\nseed = 0")
    with pytest.raises(ParameterError, match=r"Unknown parameter 'c'.*declared: C, seed"):
        resolve_values(declared, {"c": 2.0})
    assert resolve_values(declared, {"C": "2"}, text={"C"}) == {"C": 2.0}


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
