"""Package-level promises: cheap import, lazy public API, picklable errors."""

from __future__ import annotations

import importlib
import json
import pickle
import subprocess
import sys

import pytest

import nbmlops
from nbmlops import exceptions

HEAVY = ("mlflow", "dvc", "papermill", "pandas", "plotly", "sklearn", "scipy", "pyarrow")


def _imported_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(','.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.strip().split(","))


def test_import_nbmlops_is_light() -> None:
    mods = _imported_after("import nbmlops")
    assert not {m for m in mods if m.split(".")[0] in HEAVY}


def test_load_ext_is_light() -> None:
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'nbmlops')"
    )
    mods = _imported_after(code)
    assert not {m for m in mods if m.split(".")[0] in HEAVY}


def test_public_names_resolve_to_what_the_lazy_table_names() -> None:
    from nbmlops import _version

    assert set(nbmlops.__all__) == {*nbmlops._LAZY, "__version__", "load_ipython_extension",
                                    "unload_ipython_extension"}
    for name, target in nbmlops._LAZY.items():
        module, _, attr = target.partition(":")
        try:
            value = getattr(nbmlops, name)
        except (ImportError, AttributeError) as exc:  # pragma: no cover - shows which
            pytest.fail(f"nbmlops.{name} does not resolve: {exc}")
        assert value is getattr(importlib.import_module(module), attr), name
        assert getattr(value, "__name__", None) == attr, name
    assert nbmlops.__version__ == _version.__version__


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nbmlops.nope  # noqa: B018


@pytest.mark.parametrize(
    "cls",
    [c for c in vars(exceptions).values()
     if isinstance(c, type) and issubclass(c, exceptions.NbmlopsError)],
)
def test_exceptions_pickle_with_context(cls: type[exceptions.NbmlopsError]) -> None:
    err = cls("column 'x' is bad", column="x")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert str(back) == "column 'x' is bad"
    assert back.column == "x"
    assert back.exit_code == cls.exit_code


def test_snapshot_stays_the_function_after_its_package_loads() -> None:
    import nbmlops.versioning.api

    assert nbmlops.snapshot is nbmlops.versioning.api.snapshot
    assert callable(nbmlops.snapshot) and nbmlops.snapshot.__name__ == "snapshot"


@pytest.mark.parametrize(
    "area", ["tracking", "versioning", "pipeline", "drift", "registry", "serving", "loop"])
def test_every_area_has_the_same_kind_of_public_face(area: str) -> None:
    """Each API area's ``__init__`` is a lazy table of its public names, like the package's."""
    code = (
        "import importlib, json, sys\n"
        f"m = importlib.import_module('nbmlops.{area}')\n"
        "heavy = sorted(k for k in ('pandas', 'mlflow', 'dvc', 'papermill', 'IPython') "
        "if k in sys.modules)\n"
        "ok = {}\n"
        "for name, target in m._LAZY.items():\n"
        "    mod, _, attr = target.partition(':')\n"
        "    ok[name] = getattr(m, name) is getattr(importlib.import_module(mod), attr)\n"
        "print(json.dumps({'all': m.__all__, 'lazy': sorted(m._LAZY), 'heavy': heavy, 'ok': ok}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    face = json.loads(out.stdout)
    assert face["all"] == face["lazy"] and face["all"]
    assert face["heavy"] == []  # importing the face alone loads no back-end
    assert all(face["ok"].values()), face["ok"]
