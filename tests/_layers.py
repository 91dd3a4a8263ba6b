"""Read a package's import graph from its source and check it against a layer table.

Used by ``tests/test_layers.py``. Every ``import`` statement counts, at module
level, inside functions and under ``if TYPE_CHECKING:``: a lazy import is still
a dependency. The layer table is the markdown block between ``<!-- layers -->``
and ``<!-- /layers -->`` in ``docs/layers.md``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

#: only the fronts may import these (top-level distribution names)
JUPYTER = frozenset({"IPython", "ipykernel", "ipywidgets", "jupyter_server"})
EVERYTHING_ELSE = "everything else"


@dataclass(frozen=True)
class Layers:
    """Layer names, top first, and which first-level names belong to each."""

    order: tuple[str, ...]
    members: dict[str, str]  # first-level name -> layer
    default: str  # the layer of every other name

    def of(self, module: str) -> str:
        """The layer of dotted ``module`` (``pkg.tracking.query`` -> ``api``)."""
        parts = module.split(".")
        first = parts[1] if len(parts) > 1 else "__init__"
        return self.members.get(first, self.default)

    def rank(self, module: str) -> int:
        """Higher is further up (fronts highest)."""
        return len(self.order) - self.order.index(self.of(module))

    @property
    def top(self) -> str:
        """The highest layer (the fronts)."""
        return self.order[0]


def parse_layers(markdown: str) -> Layers:
    """Parse the ``| layer | modules |`` table between the layer markers."""
    match = re.search(r"<!-- layers -->(.*?)<!-- /layers -->", markdown, re.S)
    if match is None:
        raise ValueError("no <!-- layers --> ... <!-- /layers --> block")
    order: list[str] = []
    members: dict[str, str] = {}
    default = ""
    for line in match.group(1).strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] == "layer" or set(cells[0]) <= set("-: "):
            continue
        name, modules = cells
        order.append(name)
        if modules == EVERYTHING_ELSE:
            default = name
            continue
        for mod in modules.split(","):
            members[mod.strip().strip("`")] = name
    if not order or not default:
        raise ValueError(f"layer table needs rows and one {EVERYTHING_ELSE!r} row")
    return Layers(tuple(order), members, default)


def module_files(package: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package``."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imported_names(node: ast.AST, base: list[str]) -> list[str]:
    """Dotted names an import statement may load; for ``from x import y``: ``x.y``, then ``x``."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        anchor = base[: len(base) - node.level + 1]
        prefix = ".".join(anchor + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" for a in node.names] + [prefix]


def imports_of(path: Path, module: str, known: set[str]) -> dict[str, int]:
    """Modules of the package that ``module`` imports -> line of the first import.

    ``from pkg.area import mod`` is an edge to ``pkg.area.mod`` when that is a
    module, else to ``pkg.area`` (the name is an attribute of it). Parent
    packages are not edges: Python imports them for every module anyway.
    """
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    out: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = _imported_names(node, base)
        if not names:
            continue
        targets = []
        if isinstance(node, ast.ImportFrom):
            prefix = names[-1]
            for full in names[:-1]:
                targets.append(full if full in known else prefix)
        else:
            targets = names
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                out.setdefault(target, node.lineno)
    return out


def import_graph(package: Path) -> dict[str, dict[str, int]]:
    """Module -> {imported module of the package: line}.

    A package's ``__init__`` importing its own submodules is left out: a
    package face re-exporting its parts is not a dependency of design.
    """
    files = module_files(package)
    known = set(files)
    graph = {}
    for mod, path in files.items():
        edges = imports_of(path, mod, known)
        graph[mod] = {t: n for t, n in edges.items() if not t.startswith(mod + ".")}
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return sorted(found)


def cycle_edges(graph: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """The import edges inside one cycle, as ``a:line -> b`` lines."""
    members = set(component)
    return [f"{m}:{line} -> {t}" for m in component
            for t, line in sorted(graph[m].items()) if t in members]


def against_order(graph: dict[str, dict[str, int]], layers: Layers) -> list[str]:
    """Every import from a lower layer up to a higher one, as readable lines."""
    return [
        f"{m}:{line} ({layers.of(m)}) imports {t} ({layers.of(t)})"
        for m, targets in sorted(graph.items())
        for t, line in sorted(targets.items())
        if layers.rank(t) > layers.rank(m)
    ]


def _absolute_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every absolute import statement in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append((node.lineno, node.module))
    return found


def jupyter_below_fronts(package: Path, layers: Layers) -> list[str]:
    """Imports of IPython, ipykernel, ipywidgets or jupyter_server outside the fronts."""
    return sorted(f"{mod}:{line} ({layers.of(mod)}) imports {name}"
                  for mod, path in module_files(package).items() if layers.of(mod) != layers.top
                  for line, name in _absolute_imports(path) if name.split(".")[0] in JUPYTER)


def importers_of(package: Path, top_name: str) -> list[str]:
    """Every ``module:line`` that imports ``top_name`` (or one of its submodules)."""
    return sorted(f"{mod}:{line}" for mod, path in module_files(package).items()
                  for line, name in _absolute_imports(path) if name.split(".")[0] == top_name)


def oversized(package: Path, limit: int) -> list[tuple[int, str]]:
    """(lines, module) of every module longer than ``limit`` lines, largest first."""
    sizes = [(len(p.read_text(encoding="utf-8").splitlines()), m)
             for m, p in module_files(package).items()]
    return sorted(((n, m) for n, m in sizes if n > limit), reverse=True)


def function_sizes(package: Path) -> list[tuple[str, int, int]]:
    """(dotted name, lines of code, parameters) of every function under ``package``.

    Lines of code leave out the docstring, comments and blank lines; ``self``
    and ``cls`` are not counted as parameters. Nested functions count on their own.
    """
    out: list[tuple[str, int, int]] = []
    for module, path in module_files(package).items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((f"{module}.{node.name}", _code_lines(node, lines), _params(node)))
    return out


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    numbers = {i for stmt in body for i in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1)}
    return sum(1 for i in numbers if lines[i - 1].strip() and
               not lines[i - 1].strip().startswith("#"))


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    count = len(names) + (a.vararg is not None) + (a.kwarg is not None)
    return count - (1 if names[:1] in (["self"], ["cls"]) else 0)
