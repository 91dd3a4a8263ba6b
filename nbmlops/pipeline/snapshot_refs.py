"""Snapshots a notebook loads and writes, found in its code without running it.

:func:`snapshot_names` (loads: the stage's deps) and :func:`snapshot_writes`
(writes: never a dep of the stage that writes them) read each code cell's AST,
IPython syntax first rewritten as IPython would
(:mod:`nbmlops.pipeline.ipython_syntax`).
"""

from __future__ import annotations

import ast
import shlex
from typing import Any

from nbmlops.pipeline.ipython_syntax import to_python
from nbmlops.pipeline.notebook import cell_source


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def snapshot_names(nb: dict[str, Any]) -> list[str]:
    """Names of snapshots the notebook loads (``x`` for ``x@2``), in order.

    Finds ``nbmlops.load("x", ...)``, ``load("x")`` imported from nbmlops and
    ``%mlops load x@2`` lines (IPython syntax is first rewritten as IPython
    would, without IPython: :mod:`nbmlops.pipeline.ipython_syntax`).
    """
    names: list[str] = []
    for cell in nb["cells"]:
        code = to_python(cell_source(cell)) if cell.get("cell_type") == "code" else None
        if code is not None:
            names += _loads_in(ast.parse(code))
    return _unique([n.split("@", 1)[0] for n in names if n])


def snapshot_writes(nb: dict[str, Any]) -> list[str]:
    """Names of snapshots the notebook writes (``nbmlops.snapshot(df, "x")``, the magic)."""
    names: list[str] = []
    for cell in nb["cells"]:
        code = to_python(cell_source(cell)) if cell.get("cell_type") == "code" else None
        if code is None:
            continue
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call):
                names += _written_by(node)
    return _unique(names)


def _written_by(node: ast.Call) -> list[str]:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "run_line_magic":
        args = [a.value for a in node.args if isinstance(a, ast.Constant)]
        if len(args) == 2 and args[0] == "mlops":
            return _magic_snapshot(str(args[1]))
        return []
    is_snapshot = (isinstance(func, ast.Attribute) and func.attr == "snapshot"
                   and _root_name(func.value) == "nbmlops") or (
        isinstance(func, ast.Name) and func.id == "snapshot")
    if not is_snapshot:
        return []
    name = node.args[1] if len(node.args) > 1 else next(
        (k.value for k in node.keywords if k.arg == "name"), None)
    if isinstance(name, ast.Constant) and isinstance(name.value, str):
        return [name.value]
    return []


def _magic_snapshot(line: str) -> list[str]:
    try:
        words = shlex.split(line)
    except ValueError:
        return []
    if len(words) < 2 or words[0] != "snapshot" or words[1].startswith("-"):
        return []
    for flag in ("--name", "-n"):
        if flag in words[2:-1]:
            return [words[words.index(flag) + 1]]
    named = [w.split("=", 1)[1] for w in words[2:] if w.startswith("--name=")]
    return named or [words[1]]


def _loads_in(tree: ast.AST) -> list[str]:
    aliases = {"load"} if _imports_load(tree) else set()
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run_line_magic":
            found += _magic_load(node)
        elif (isinstance(func, ast.Attribute) and func.attr == "load"
              and _root_name(func.value) == "nbmlops") or (
                isinstance(func, ast.Name) and func.id in aliases):
            first = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "name"), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
    return found


def _imports_load(tree: ast.AST) -> bool:
    return any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("nbmlops")
               and any(a.name == "load" and a.asname is None for a in n.names)
               for n in ast.walk(tree))


def _root_name(node: ast.AST) -> str:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else ""


def _magic_load(node: ast.Call) -> list[str]:
    args = [a.value for a in node.args if isinstance(a, ast.Constant)]
    if len(args) != 2 or args[0] != "mlops":
        return []
    try:
        words = shlex.split(str(args[1]))
    except ValueError:
        return []
    if len(words) >= 2 and words[0] == "load" and not words[1].startswith("-"):
        return [words[1]]
    return []
