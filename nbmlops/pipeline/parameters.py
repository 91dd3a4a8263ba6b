"""The parameters cell: find it, tag it, read its typed parameters (AST).

The parameters cell is the code cell tagged ``parameters`` (papermill's
convention). Its assignments declare the notebook's parameters; their types
come from annotations (``C: float = 1.0``) or else from the literal value
(``max_iter = 200`` is an ``int``). A trailing comment is the help text; a
comment starting with ``out:``, ``metrics:`` or ``dep:`` also marks the value
as a path the notebook writes, its metrics file, or a file it reads (used by
sweeps and the DVC export).

Values given from outside (``-p``, ``-f params.yaml``, the API) are checked
and coerced against these declarations by :func:`resolve_values`.
"""

from __future__ import annotations

import ast
import io
import json
import math
import tokenize
from dataclasses import dataclass, field
from typing import Any

from nbmlops.exceptions import ParameterError, PipelineError
from nbmlops.pipeline.inject import check_parameter_name, check_value
from nbmlops.pipeline.notebook import cell_source, tagged_index

ROLES = ("out", "metrics", "dep")

#: declared type name -> Python types accepted as-is
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (float,),
    "bool": (bool,),
    "str": (str,),
    "list": (list,),
    "dict": (dict,),
    "any": (),
}


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a notebook.

    Attributes
    ----------
    name
        The variable name.
    type
        ``int``, ``float``, ``bool``, ``str``, ``list``, ``dict`` or ``any``
        (a ``None`` default without annotation).
    default
        The literal value in the parameters cell.
    optional
        ``None`` is accepted (default ``None`` or ``Optional[...]`` annotation).
    help
        The trailing comment, without a role prefix.
    role
        ``out``, ``metrics``, ``dep`` or ``None`` (from the comment prefix).
    """

    name: str
    type: str
    default: Any
    optional: bool = False
    help: str = ""
    role: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict view."""
        return {
            "name": self.name, "type": self.type, "default": self.default,
            "optional": self.optional, "help": self.help, "role": self.role,
        }


@dataclass
class ParametersCell:
    """The parameters cell of a notebook and what it declares."""

    index: int | None
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def defaults(self) -> dict[str, Any]:
        """Name -> default value."""
        return {name: p.default for name, p in self.parameters.items()}

    def with_role(self, role: str) -> list[Parameter]:
        """Parameters marked ``role`` (``out``, ``metrics``, ``dep``)."""
        return [p for p in self.parameters.values() if p.role == role]


def read_parameters(nb: Any, where: str = "notebook") -> ParametersCell:
    """Read the tagged parameters cell of ``nb`` (a notebook dict).

    Parameters
    ----------
    nb
        Notebook as loaded by ``json``/``nbformat``.
    where
        Name used in error messages (the notebook path).

    Returns
    -------
    ParametersCell
        ``index`` is ``None`` when no cell is tagged ``parameters``.
    """
    index = tagged_index(nb)
    if index is None:
        return ParametersCell(None)
    source = cell_source(nb["cells"][index])
    return ParametersCell(index, parse_parameters(source, where=f"{where} cell {index}"))


def parse_parameters(source: str, where: str = "parameters cell") -> dict[str, Parameter]:
    """Declared parameters of a parameters-cell ``source`` (AST, no execution).

    Statements other than assignments of literals to names are skipped (they
    are code, not parameters); a later assignment overrides an earlier one.

    Raises
    ------
    PipelineError
        When the cell is not valid Python.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise PipelineError(f"The parameters cell ({where}) is not valid Python: {exc.msg} "
                            f"(line {exc.lineno}).", path=where) from None
    comments = _comments_by_line(source)
    out: dict[str, Parameter] = {}
    for node in tree.body:
        for param in _declared(node, comments):
            out[param.name] = param
    return out


def _declared(node: ast.stmt, comments: dict[int, str]) -> list[Parameter]:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        if node.value is None or not is_literal(node.value):
            return []
        value = ast.literal_eval(node.value)
        type_name, optional = _annotation_type(node.annotation)
        if type_name is None:
            type_name, optional = _literal_type(value)
        names = [node.target.id]
    elif isinstance(node, ast.Assign) and is_literal(node.value):
        names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        value = ast.literal_eval(node.value)
        type_name, optional = _literal_type(value)
    else:
        return []
    role, help_text = _role(comments.get(node.end_lineno or node.lineno, ""))
    return [Parameter(n, type_name, value, optional or value is None, help_text, role)
            for n in names]


def is_literal(node: ast.AST) -> bool:
    """True when ``node`` is a literal of a JSON-like value (what can be a parameter)."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return _json_like(value)


def _json_like(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    return False


def _literal_type(value: Any) -> tuple[str, bool]:
    if value is None:
        return "any", True
    for name, types in _TYPES.items():
        if types and type(value) in types:
            return name, False
    return "any", False


def _annotation_type(node: ast.expr) -> tuple[str | None, bool]:
    """``float`` / ``list[int]`` / ``Optional[str]`` / ``str | None`` -> (type, optional)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None, False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
        nones = [p for p in parts if isinstance(p, ast.Constant) and p.value is None]
        rest = [p for p in parts if p not in nones]
        if nones and len(rest) == 1:
            return _annotation_type(rest[0])[0], True
        return None, False
    if isinstance(node, ast.Subscript):
        base = _dotted(node.value)
        if base in {"Optional", "typing.Optional"}:
            return _annotation_type(node.slice)[0], True
        node = node.value
    name = _dotted(node)
    mapping = {"List": "list", "Dict": "dict", "typing.List": "list", "typing.Dict": "dict",
               "Any": "any", "typing.Any": "any", "object": "any"}
    name = mapping.get(name, name)
    return (name, False) if name in _TYPES else (None, False)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _comments_by_line(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    except (tokenize.TokenError, SyntaxError):  # pragma: no cover - parsed fine above
        pass
    return comments


def _role(comment: str) -> tuple[str | None, str]:
    head, sep, rest = comment.partition(":")
    if sep and head.strip().lower() in ROLES:
        return head.strip().lower(), rest.strip()
    if comment.strip().lower() in ROLES:
        return comment.strip().lower(), ""
    return None, comment


# ---------------------------------------------------------------- coercion


def coerce(param: Parameter, value: Any, *, from_text: bool = False) -> Any:
    """Check ``value`` against ``param``'s declared type and convert it.

    Parameters
    ----------
    param
        The declaration.
    value
        The given value.
    from_text
        ``value`` came from the command line (``-p NAME VALUE``) as text and
        is parsed for the declared type (``"300"`` -> 300 for an ``int``).

    Raises
    ------
    ParameterError
        Naming the parameter, the declared type and the value.
    """
    if from_text:
        value = _parse_text(param, value)
    if value is None:
        if param.optional:
            return None
        _refuse(param, value)
    kind = param.type
    if kind == "any":
        return value
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    is_bool_as_number = kind in {"int", "float"} and isinstance(value, bool)
    if isinstance(value, _TYPES[kind]) and not is_bool_as_number:
        return value
    _refuse(param, value)
    return None  # pragma: no cover - _refuse raises


def _refuse(param: Parameter, value: Any) -> None:
    want = param.type + (" or None" if param.optional else "")
    raise ParameterError(
        f"Parameter {param.name!r} must be {want} (declared in the parameters cell), "
        f"got {value!r} ({type(value).__name__}).",
        parameter=param.name,
    )


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _parse_text(param: Parameter, text: Any) -> Any:
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if param.optional and stripped in {"None", "null", "~"}:
        return None
    kind = param.type
    try:
        if kind == "str":
            return text
        if kind == "int":
            return int(stripped)
        if kind == "float":
            value = float(stripped)
            if math.isnan(value) and stripped.lower() != "nan":  # pragma: no cover
                raise ValueError
            return value
        if kind == "bool":
            if stripped.lower() in _TRUE:
                return True
            if stripped.lower() in _FALSE:
                return False
            raise ValueError
        if kind in {"list", "dict"}:
            return json.loads(stripped)
    except ValueError:
        return text  # the type check that follows names the parameter
    # "any": JSON if it parses as JSON, else the text itself
    try:
        return json.loads(stripped)
    except ValueError:
        return text


def resolve_values(
    declared: dict[str, Parameter],
    given: dict[str, Any],
    *,
    text: frozenset[str] | set[str] = frozenset(),
    where: str = "the notebook",
) -> dict[str, Any]:
    """Check and coerce ``given`` values against the ``declared`` parameters.

    Parameters
    ----------
    declared
        From :func:`read_parameters`.
    given
        Name -> value (from ``-f``, ``-p`` or the API).
    text
        Names whose value came from the command line as text.
    where
        The notebook, for messages.

    Returns
    -------
    dict
        The coerced values, in ``given`` order.

    Raises
    ------
    ParameterError
        For an unknown name or a value that does not fit the declared type.
    """
    out: dict[str, Any] = {}
    for name, value in given.items():
        check_parameter_name(name)
        if name not in declared:
            known = ", ".join(declared) or "none"
            raise ParameterError(
                f"Unknown parameter {name!r} for {where} (declared: {known}).", parameter=name
            )
        out[name] = coerce(declared[name], value, from_text=name in text)
        check_value(name, out[name])
    return out
