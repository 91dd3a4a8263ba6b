"""The parameters cell: AST types, roles and coercion."""

from __future__ import annotations

import pytest

from nbmlops.exceptions import ParameterError, PipelineError
from nbmlops.pipeline.parameters import Parameter, coerce, parse_parameters, resolve_values

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
