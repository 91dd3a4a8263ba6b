"""Safe injection: the cases papermill lets through are refused; data stays data.

Each hostile case is first shown to run code through papermill's own Python
translator (so the test proves something), then shown to be refused by
nbmlops before any kernel starts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from papermill.translators import translate_parameters

from nbmlops.exceptions import ParameterError
from nbmlops.pipeline.inject import check_parameter_name, inject, render
from nbmlops.pipeline.plan import load_params_file, prepare

from .conftest import write_notebook

SIDE_EFFECT = 'globals().__setitem__("pwned", 1)'


def _runs_code(source: str) -> bool:
    ns: dict[str, Any] = {}
    exec(compile(source, "<injected>", "exec"), ns)
    return ns.get("pwned") == 1


@pytest.fixture
def nb(project: Path) -> Path:
    return write_notebook(project / "nb.ipynb", 'p = None\nname = "x"', "print(p, name)")


def test_name_with_newline_and_code_is_refused(nb: Path) -> None:
    evil = f"x = 0\n{SIDE_EFFECT}\ny"
    assert _runs_code(translate_parameters("python3", "python", {evil: 1}))  # papermill: runs
    with pytest.raises(ParameterError, match="not a Python identifier") as err:
        prepare(nb, {evil: 1})
    assert err.value.parameter == evil
    with pytest.raises(ParameterError):
        render({evil: 1})


@pytest.mark.parametrize("name", ["class", "match", "None", "__builtins__", "1x", "a-b", "", 3])
def test_keywords_and_non_identifiers_are_refused(name: Any) -> None:
    with pytest.raises(ParameterError):
        check_parameter_name(name)


def test_yaml_binary_value_is_refused(nb: Path, project: Path) -> None:
    import yaml

    payload = f'" + str({SIDE_EFFECT}) + "'
    text = "p: !!binary " + __import__("base64").b64encode(payload.encode()).decode() + "\n"
    (project / "params.yaml").write_text(text)
    value = yaml.safe_load(text)["p"]  # SafeLoader allows !!binary -> bytes
    assert _runs_code(translate_parameters("python3", "python", {"p": value}))  # papermill: runs
    given = load_params_file(project / "params.yaml")
    with pytest.raises(ParameterError, match=r"'p' has a value of type bytes") as err:
        prepare(nb, given)
    assert err.value.parameter == "p"


class Sneaky:
    def __str__(self) -> str:
        return f'" + str({SIDE_EFFECT}) + "'


@pytest.mark.parametrize("value", [
    (1, 2), Sneaky(), {1, 2}, b"x", [1, (2,)], {"k": Sneaky()}, {1: "int key"},
    __import__("datetime").date(2024, 1, 1),
])
def test_non_json_values_are_refused(nb: Path, value: Any) -> None:
    if isinstance(value, Sneaky):  # papermill renders objects unescaped: runs
        assert _runs_code(translate_parameters("python3", "python", {"p": value}))
    with pytest.raises(ParameterError, match="'p'") as err:
        prepare(nb, {"p": value})
    assert err.value.parameter == "p"


HOSTILE = [
    'quote " inside', "single ' inside", "trailing backslash \\", 'escaped \\" quote',
    "new\nline", 'triple """ quotes', "triple ''' quotes", "line\u2028separator",
    "nul\x00byte", f'" + str({SIDE_EFFECT}) + "', f"'; {SIDE_EFFECT}; '",
    "\\n not a newline", "{braces} and %s and ${dvc}", "tab\tand\rreturn",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip_as_data(text: str) -> None:
    source = render({"s": text, "nested": {text: [text]}})
    ns: dict[str, Any] = {}
    exec(compile(source, "<injected>", "exec"), ns)
    assert ns["s"] == text and ns["nested"] == {text: [text]}
    assert "pwned" not in ns


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=True, allow_infinity=True),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(json_like)
def test_any_json_like_value_round_trips(value: Any) -> None:
    ns: dict[str, Any] = {}
    exec(compile(render({"v": value}), "<injected>", "exec"), ns)
    assert _same(value, ns["v"])


def test_inject_places_cell_after_parameters_and_replaces_old_one() -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "t"},
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "a = 1",
         "outputs": [], "execution_count": None},
        {"cell_type": "code", "metadata": {}, "source": "print(a)", "outputs": [],
         "execution_count": None},
    ]}
    once = inject(nb, {"a": 2}, 1)
    assert [c["source"].splitlines()[-1] for c in once["cells"]][1:3] == ["a = 1", "a = 2"]
    assert once["cells"][2]["metadata"]["tags"] == ["injected-parameters"]
    assert once["metadata"]["papermill"]["parameters"] == {"a": 2}
    twice = inject(once, {"a": 3}, 1)
    assert len(twice["cells"]) == 4 and twice["cells"][2]["source"].endswith("a = 3\n")
    assert nb["cells"][1]["source"] == "a = 1" and len(nb["cells"]) == 3  # input untouched
