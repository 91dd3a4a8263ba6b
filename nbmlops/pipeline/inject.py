"""Safe parameter injection: only identifiers as names, only JSON-like values.

papermill writes ``f"{name} = {value}"`` without checking the name, and
renders values of types it does not know as ``f'"{val}"'`` without escaping,
so a parameter name with a newline, a YAML ``!!binary`` value, a tuple or an
object can run code in the kernel. Here a name must be a Python identifier
and not a keyword, a value must be ``None``, ``bool``, ``int``, ``float``,
``str`` or lists/dicts (string keys) of them, and each value is rendered with
:func:`repr` and checked to parse back to the very same value.
"""

from __future__ import annotations

import ast
import copy
import keyword
import math
from typing import Any

from nbmlops.exceptions import ParameterError
from nbmlops.pipeline.notebook import INJECTED_TAG

HEADER = "# Parameters (injected by nbmlops)"
_MAX_DEPTH = 50


def check_parameter_name(name: Any) -> str:
    """Return ``name`` if it is a safe parameter name, else raise.

    Raises
    ------
    ParameterError
        When ``name`` is not a string, not an identifier, or a keyword.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ParameterError(f"Parameter name {name!r} is not a Python identifier.",
                             parameter=str(name))
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ParameterError(f"Parameter name {name!r} is a Python keyword.", parameter=name)
    if name.startswith("__"):
        raise ParameterError(f"Parameter name {name!r} is reserved (dunder).", parameter=name)
    return name


def check_value(name: str, value: Any, _depth: int = 0) -> None:
    """Raise unless ``value`` is JSON-like (None, bool, int, float, str, list, dict).

    Raises
    ------
    ParameterError
        Naming the parameter and the offending type.
    """
    if _depth > _MAX_DEPTH:
        raise ParameterError(f"Parameter {name!r} is nested too deeply.", parameter=name)
    if value is None or isinstance(value, (bool, str)):
        return
    if type(value) in (int, float):
        return
    if type(value) is list:
        for item in value:
            check_value(name, item, _depth + 1)
        return
    if type(value) is dict:
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParameterError(
                    f"Parameter {name!r} has a dict key {key!r} that is not a string.",
                    parameter=name)
            check_value(name, item, _depth + 1)
        return
    raise ParameterError(
        f"Parameter {name!r} has a value of type {type(value).__name__} ({_short(value)}); "
        "only None, bool, int, float, str and lists/dicts of them can be injected.",
        parameter=name,
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def render_value(value: Any) -> str:
    """Python source for a checked JSON-like value."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, list):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {render_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def render(values: dict[str, Any]) -> str:
    """The source of the injected-parameters cell for ``values``.

    Every name and value is checked first, and the rendered source is parsed
    back to make sure it assigns exactly these values and does nothing else.

    Raises
    ------
    ParameterError
        For an unsafe name or value.
    """
    lines = [HEADER]
    for name, value in values.items():
        check_parameter_name(name)
        check_value(name, value)
        lines.append(f"{name} = {render_value(value)}")
    source = "\n".join(lines) + "\n"
    _verify(source, values)
    return source


def _verify(source: str, values: dict[str, Any]) -> None:
    tree = ast.parse(source)
    if len(tree.body) != len(values):  # pragma: no cover - defence in depth
        raise ParameterError("Injected parameters did not render to plain assignments.")
    for node, (name, value) in zip(tree.body, values.items(), strict=False):
        ok = (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id == name)
        if ok and isinstance(node, ast.Assign):
            ok = _same(_eval_literal(node.value), value)
        if not ok:  # pragma: no cover - defence in depth
            raise ParameterError(f"Parameter {name!r} did not render to a literal.",
                                 parameter=name)


def _eval_literal(node: ast.expr) -> Any:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "float" and len(node.args) == 1):
        return float(ast.literal_eval(node.args[0]))
    if isinstance(node, ast.List):
        return [_eval_literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {ast.literal_eval(k): _eval_literal(v)  # type: ignore[arg-type]
                for k, v in zip(node.keys, node.values, strict=False)}
    return ast.literal_eval(node)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=False))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def inject(nb: dict[str, Any], values: dict[str, Any], after: int | None) -> dict[str, Any]:
    """Return a copy of ``nb`` with an ``injected-parameters`` cell after cell ``after``.

    An existing injected cell is replaced. With ``after=None`` the cell goes
    first. The values are also recorded in ``metadata.papermill.parameters``.
    """
    out = copy.deepcopy(nb)
    source = render(values)
    cells = [c for c in out["cells"] if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    if after is not None:  # the index may shift when an old injected cell is dropped
        tagged = nb["cells"][after]
        after = next(i for i, c in enumerate(cells) if c.get("metadata") == tagged.get("metadata")
                     and c.get("source") == tagged.get("source"))
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [INJECTED_TAG]},
        "outputs": [],
        "source": source,
    }
    if _wants_ids(out):
        cell["id"] = f"nbmlops-injected-{len(cells)}"
    cells.insert(0 if after is None else after + 1, cell)
    out["cells"] = cells
    meta = out.setdefault("metadata", {}).setdefault("papermill", {})
    meta["parameters"] = copy.deepcopy(values)
    return out


def _wants_ids(nb: dict[str, Any]) -> bool:
    return (nb.get("nbformat", 4), nb.get("nbformat_minor", 0)) >= (4, 5)
