"""The registry's public face: lazy like every area; ``nbmlops.models`` is ``nbmlops.registry``."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys


def test_registry_face_is_lazy_and_nbmlops_models_is_the_same_module() -> None:
    code = (
        "import importlib, json, sys\n"
        "import nbmlops\n"
        "m = importlib.import_module('nbmlops.registry')\n"
        "heavy = sorted(k for k in ('pandas', 'mlflow', 'IPython') if k in sys.modules)\n"
        "ok = all(getattr(m, n) is getattr(importlib.import_module(t.split(':')[0]),"
        " t.split(':')[1]) for n, t in m._LAZY.items())\n"
        "print(json.dumps({'heavy': heavy, 'ok': ok, 'same': nbmlops.models is m,"
        " 'all': m.__all__ == sorted(m._LAZY)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=600)
    face = json.loads(out.stdout)
    assert face == {"heavy": [], "ok": True, "same": True, "all": True}


def test_submodule_import_does_not_hide_the_function() -> None:
    # a fresh interpreter: the submodules are imported first, as %%mlops run --register does
    code = ("import nbmlops.registry.register, nbmlops.registry.validate, "
            "nbmlops.registry.promote\n"
            "from nbmlops.registry.register import register_cell\n"
            "import nbmlops\n"
            "from nbmlops.registry import register, validate, promote\n"
            "assert callable(register) and callable(validate) and callable(promote)\n"
            "assert callable(nbmlops.models.register), nbmlops.models.register\n"
            "assert register.__module__ == 'nbmlops.registry.register'\n"
            "print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_submodules_still_importable() -> None:
    mod = importlib.import_module("nbmlops.registry.register")
    assert callable(mod.register_cell)
    assert callable(importlib.import_module("nbmlops.registry").register)
