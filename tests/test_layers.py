"""The package imports in one direction: the layer table in the docs is what the code does.

Static checks read every import statement of ``nbmlops/`` (``tests/_layers.py``);
runtime checks import each area in a fresh interpreter and look at ``sys.modules``.
The checker itself is tested on small synthetic packages at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests._layers import (
    JUPYTER,
    Layers,
    against_order,
    cycle_edges,
    cycles,
    function_sizes,
    import_graph,
    importers_of,
    jupyter_below_fronts,
    module_files,
    oversized,
    parse_layers,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nbmlops"
#: no module over this many lines (docs/development.md: "modules a reader can hold")
MAX_LINES = 400
#: no function over this many lines of code (docstring, comments and blank lines not counted)
MAX_FUNCTION_LINES = 60
#: no function with more parameters than this (self/cls not counted)
MAX_PARAMETERS = 8


#: the layer table of docs/development.md (between its <!-- layers --> markers)
LAYERS = parse_layers((ROOT / "docs" / "development.md").read_text(encoding="utf-8"))


def _report(title: str, lines: list[str]) -> str:
    return f"{len(lines)} {title}:\n  " + "\n  ".join(lines)


# -- static: the import graph read from the source ------------------------------------------


def test_every_subpackage_is_named_in_the_layer_table() -> None:
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    # the one MLflow gateway is a package of the core, which the table names as "everything else"
    unnamed = sorted(subpackages - set(LAYERS.members) - {"mlflow_gateway"})
    assert not unnamed, f"add these packages to the layer table of docs/development.md: {unnamed}"


def test_no_import_cycles() -> None:
    graph = import_graph(PACKAGE)
    found = cycles(graph)
    lines = [f"{' <-> '.join(c)}\n    " + "\n    ".join(cycle_edges(graph, c)) for c in found]
    assert not found, _report("import cycles (each with its edges, module:line -> module)", lines)


def test_imports_follow_the_layer_order() -> None:
    upward = against_order(import_graph(PACKAGE), LAYERS)
    order = " > ".join(LAYERS.order)
    assert not upward, _report(f"imports against the layer order ({order})", upward)


def test_no_jupyter_imports_below_the_fronts() -> None:
    found = jupyter_below_fronts(PACKAGE, LAYERS)
    assert not found, _report(f"imports of {sorted(JUPYTER)} below the {LAYERS.top}", found)


def test_only_the_gateway_imports_mlflow() -> None:
    # one client policy (timeouts, retries, private internals) for every MLflow call
    outside = [m for m in importers_of(PACKAGE, "mlflow")
               if not m.startswith("nbmlops.mlflow_gateway")]
    assert not outside, _report("mlflow imported outside nbmlops/mlflow_gateway/", outside)


def test_modules_stay_small() -> None:
    big = [f"{m}: {n} lines" for n, m in oversized(PACKAGE, MAX_LINES)]
    assert not big, _report(f"modules over {MAX_LINES} lines", big)


#: documented public entry points that keep their keyword arguments for users
#: (each builds its options object once; nothing below them takes more than 8)
PUBLIC_KEYWORD_APIS = {
    "nbmlops.pipeline.runner.run_notebook", "nbmlops.pipeline.sweep.sweep",
    "nbmlops.drift.profile.fit_reference", "nbmlops.drift.engine.compare",
}


def test_functions_stay_short_and_take_few_parameters() -> None:
    long, wide = [], []
    for name, code_lines, params in function_sizes(PACKAGE):
        if code_lines > MAX_FUNCTION_LINES:
            long.append(f"{name}: {code_lines} lines of code")
        if params > MAX_PARAMETERS and name not in PUBLIC_KEYWORD_APIS:
            wide.append(f"{name}: {params} parameters")
    assert not long, _report(f"functions over {MAX_FUNCTION_LINES} lines of code", long)
    assert not wide, _report(f"functions over {MAX_PARAMETERS} parameters (use an options "
                             "object)", wide)


# -- runtime: what importing an area really loads ------------------------------------------

_PROBE = r"""
import importlib, json, pkgutil, sys, traceback

FORBIDDEN = set(sys.argv[1].split(","))
chains = {}


class Spy:  # notes who imports a forbidden package first; the real finders do the import
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in FORBIDDEN and top not in chains:
            frames = [f for f in traceback.extract_stack()[:-1] if "<frozen" not in f.filename]
            chains[top] = [f"{f.filename}:{f.lineno}: {f.line}" for f in frames]
        return None


sys.meta_path.insert(0, Spy())
skipped = []
for name in sys.argv[2:]:
    module = importlib.import_module(name)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), name + "."):
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:  # an optional extra (e.g. pyspark) is not installed
            if (exc.name or "").startswith("nbmlops"):
                raise
            skipped.append(f"{info.name}: {exc}")
loaded = sorted(m for m in FORBIDDEN if m in sys.modules)
print(json.dumps({"loaded": loaded, "chains": chains, "skipped": skipped}))
"""


def _import_fresh(modules: list[str]) -> dict[str, Any]:
    """Import ``modules`` and all their submodules in a new interpreter; report what loaded."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(sorted(JUPYTER)), *modules],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _areas(layers: Layers) -> list[str]:
    below = layers.order[1:-1]  # neither the fronts nor the core
    return sorted(name for name, layer in layers.members.items() if layer in below)


def _core_modules(layers: Layers) -> list[str]:
    return sorted(m for m in module_files(PACKAGE) if m != "nbmlops"
                  and layers.of(m) == layers.default)


def _check_fresh_import(modules: list[str]) -> None:
    result = _import_fresh(modules)
    loaded, chains = result["loaded"], result["chains"]
    lines = [f"{top}, first imported by:\n    " + "\n    ".join(chains.get(top, ["?"]))
             for top in loaded]
    assert not loaded, _report(f"front packages loaded by importing {', '.join(modules)}", lines)


@pytest.mark.parametrize("area", _areas(LAYERS))
def test_area_imports_no_ipython_or_widgets(area: str) -> None:
    if not (PACKAGE / area).is_dir():
        pytest.skip(f"nbmlops/{area}/ does not exist yet")
    _check_fresh_import([f"nbmlops.{area}"])


def test_core_imports_no_ipython_or_widgets() -> None:
    _check_fresh_import(_core_modules(LAYERS))


# -- the checker itself, on synthetic packages -----------------------------------------------

TABLE = """
<!-- layers -->
| layer | modules |
|---|---|
| fronts | `cli`, `__init__` |
| api | `area`, `other` |
| core | everything else |
<!-- /layers -->
"""


def _package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    for rel, text in {"__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    return pkg


def test_parse_layers_reads_order_members_and_default() -> None:
    layers = parse_layers(TABLE)
    assert layers.order == ("fronts", "api", "core")
    assert layers.members == {"cli": "fronts", "__init__": "fronts", "area": "api",
                              "other": "api"}
    assert (layers.of("pkg"), layers.of("pkg.area.x"), layers.of("pkg.config")) == (
        "fronts", "api", "core")
    with pytest.raises(ValueError, match="no <!-- layers -->"):
        parse_layers("| layer | modules |")


def test_layer_table_agrees_with_the_documented_picture() -> None:
    assert LAYERS.order == ("fronts", "loop", "api", "core")
    assert LAYERS.default == "core"
    assert {m for m, layer in LAYERS.members.items() if layer == "api"} == {
        "tracking", "versioning", "pipeline", "drift", "registry", "serving"}


def test_checker_passes_a_clean_package(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "__init__.py": "from pkg.area import api\n",  # a face importing its parts: fine
        "cli/__init__.py": "import IPython\nfrom pkg.area.api import run\n",
        "area/__init__.py": "from pkg.area.api import run\n",
        "area/api.py": "from pkg import config\nfrom pkg.other import helper\n",
        "other/helper.py": "from pkg.config import load\n",
        "config.py": "import json\n",
    })
    graph = import_graph(pkg)
    layers = parse_layers(TABLE)
    assert graph["pkg.area.api"] == {"pkg.config": 1, "pkg.other.helper": 2}
    assert graph["pkg"] == {}  # the face's own parts are left out
    assert cycles(graph) == []
    assert against_order(graph, layers) == []
    assert jupyter_below_fronts(pkg, layers) == []


def test_checker_finds_cycles_upward_and_lazy_jupyter_imports(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "cli.py": "",
        "area/__init__.py": "",
        "area/a.py": "from pkg.area import b\n",
        "area/b.py": "def f():\n    from .c import x\n",  # lazy and relative still count
        "area/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.area.a\n",
        "area/render.py": "def show():\n    import ipywidgets\n    from pkg import cli\n",
        "config.py": "from pkg import __version__\n",  # the face is a front
    })
    graph = import_graph(pkg)
    layers = parse_layers(TABLE)
    (cycle,) = cycles(graph)
    assert cycle == ["pkg.area.a", "pkg.area.b", "pkg.area.c"]
    assert cycle_edges(graph, cycle) == [
        "pkg.area.a:1 -> pkg.area.b", "pkg.area.b:2 -> pkg.area.c", "pkg.area.c:3 -> pkg.area.a"]
    assert against_order(graph, layers) == [
        "pkg.area.render:3 (api) imports pkg.cli (fronts)",
        "pkg.config:1 (core) imports pkg (fronts)",
    ]
    assert jupyter_below_fronts(pkg, layers) == ["pkg.area.render:2 (api) imports ipywidgets"]


def test_checker_reports_core_importing_an_area_and_big_modules(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "area/__init__.py": "",
        "area/api.py": "x = 1\n" * 5,
        "config.py": "import pkg.area.api\n",
    })
    assert against_order(import_graph(pkg), parse_layers(TABLE)) == [
        "pkg.config:1 (core) imports pkg.area.api (api)"]
    assert oversized(pkg, 4) == [(5, "pkg.area.api")]


def test_fresh_import_probe_names_the_import_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(tmp_path, {"shows.py": "import IPython\n", "quiet.py": "import json\n"})
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    loud = _import_fresh(["pkg.shows"])
    assert loud["loaded"] == ["IPython"]
    assert any("pkg/shows.py:1: import IPython" in line
               for line in loud["chains"]["IPython"])
    assert _import_fresh(["pkg.quiet"])["loaded"] == []


def test_checker_counts_code_lines_and_parameters(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {
        "core.py": (
            "class A:\n"
            "    def m(self, a, b, *args, c, **kw):\n"
            '        """Doc\n\n        more doc.\n        """\n'
            "        # a comment\n\n"
            "        x = 1\n"
            "        return (x,\n"
            "                a)\n"
        ),
    })
    assert function_sizes(pkg) == [("pkg.core.m", 3, 5)]
