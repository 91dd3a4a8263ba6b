"""Which notebook this kernel runs: the environment, VS Code, or the Jupyter server.

Asking the Jupyter server needs ``ipykernel`` and ``jupyter_server``, so this
lives with the fronts; the tracking and pipeline areas get the result passed in.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from nbmlops.tracking.context import notebook_from_env


def notebook_path(shell: Any = None) -> Path | None:
    """Find the notebook file this kernel runs, if it can be found.

    Tries, in order: ``NBMLOPS_NOTEBOOK_PATH`` (set by ``nbmlops run``), VS
    Code's ``__vsc_ipynb_file__``, ``JPY_SESSION_NAME`` (Jupyter server >= 2),
    then the Jupyter server's sessions API (as MLflow does).
    """
    found = notebook_from_env(getattr(shell, "user_ns", None))
    if found is None and shell is not None and getattr(shell, "kernel", None) is not None:
        return _from_sessions_api()
    return found


@functools.lru_cache(maxsize=1)
def _from_sessions_api() -> Path | None:
    try:
        import urllib.request

        from ipykernel.connect import get_connection_file
        from jupyter_server.serverapp import list_running_servers

        kernel_id = Path(get_connection_file()).stem.split("kernel-", 1)[-1]
        for server in list_running_servers():
            url = f"{server['url'].rstrip('/')}/api/sessions"
            req = urllib.request.Request(url)
            if server.get("token"):
                req.add_header("Authorization", f"token {server['token']}")
            with urllib.request.urlopen(req, timeout=1) as resp:
                sessions = json.load(resp)
            for sess in sessions:
                if sess.get("kernel", {}).get("id") == kernel_id:
                    root = Path(server.get("root_dir") or server.get("notebook_dir") or ".")
                    path = root / sess.get("path", sess.get("notebook", {}).get("path", ""))
                    return path.resolve() if path.is_file() else None
    except Exception:  # no server, no permission, old server: nothing found
        return None
    return None
