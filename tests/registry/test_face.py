"""The registry's public face: lazy like every area; ``nbmlops.models`` is ``nbmlops.registry``."""

from __future__ import annotations

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
