"""Kernels for batch runs: own environment, own working directory, IPC sockets.

Each run gets its own :class:`jupyter_client.KernelManager` whose kernel
process receives the run's environment variables (so parallel runs in one
process never share ``os.environ``) and talks over IPC sockets in a private
temporary folder instead of TCP ports, so parallel kernels cannot collide on
a port (papermill#511).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any

from nbmlops.exceptions import KernelDiedError
from nbmlops.pipeline.interrupts import track_kernel, untrack_kernel


def start_kernel(kernel_name: str, env: Mapping[str, str | None], cwd: str,
                 startup_timeout: float = 60) -> Any:
    """Start a kernel process (returns at once; readiness is awaited later).

    Parameters
    ----------
    kernel_name
        Kernelspec name, e.g. ``python3``.
    env
        Variables added to this process's environment for the kernel
        (``None`` removes a variable from the kernel's environment).
    cwd
        The kernel's working directory.
    startup_timeout
        Seconds :func:`set_env` waits for the kernel to answer.

    Returns
    -------
    jupyter_client.AsyncKernelManager
        Call :func:`stop_kernel` when done.
    """
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_core.utils import run_sync

    sock_dir = tempfile.mkdtemp(prefix="nbk-")
    # async manager: nbclient then gets an async client and can notice a dead kernel
    km = AsyncKernelManager(kernel_name=kernel_name, transport="ipc",
                            ip=os.path.join(sock_dir, "k"))
    km._nbmlops_sock_dir = sock_dir  # type: ignore[attr-defined]
    km._nbmlops_timeout = startup_timeout  # type: ignore[attr-defined]
    full_env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    full_env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        run_sync(km.start_kernel)(env=full_env, cwd=cwd)
    except NoSuchKernel:
        shutil.rmtree(sock_dir, ignore_errors=True)
        raise KernelDiedError(f"No Jupyter kernel named {kernel_name!r} is installed "
                              "(see `jupyter kernelspec list`).", kernel=kernel_name) from None
    track_kernel(km)  # a Ctrl-C/SIGTERM interrupts it (nbmlops.pipeline.interrupts)
    return km


def set_env(km: Any, env: dict[str, str]) -> None:
    """Set environment variables inside the running kernel (silently).

    Used for values known only after the kernel was started (the MLflow run
    id, created while the kernel boots). Nothing appears in the notebook.
    """
    from jupyter_core.utils import run_sync

    try:
        run_sync(_set_env)(km, env, km._nbmlops_timeout)
    except (RuntimeError, TimeoutError) as exc:
        raise KernelDiedError(f"The kernel did not start: {exc}") from None


async def _set_env(km: Any, env: dict[str, str], timeout: float) -> None:
    kc = km.client()  # its liveness check asks the manager about the process
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=timeout)
        code = f"import os as _o; _o.environ.update({env!r}); del _o"
        reply = await kc.execute_interactive(code, silent=True, store_history=False,
                                             timeout=timeout)
        if reply["content"].get("status") != "ok":  # pragma: no cover - plain assignment
            raise KernelDiedError("The kernel refused the run's environment variables.")
    finally:
        kc.stop_channels()


def kernel_eval(km: Any, expression: str, timeout: float | None = None) -> Any:
    """Evaluate ``expression`` silently in the kernel and return its literal value.

    Nothing appears in the notebook (a silent request with a user
    expression). The result must be a Python literal (e.g. a JSON string).

    Raises
    ------
    KernelDiedError
        When the kernel does not answer.
    RuntimeError
        When the expression raised in the kernel (its ``ename: evalue``).
    """
    from jupyter_core.utils import run_sync

    try:
        reply = run_sync(_eval)(km, expression, timeout or km._nbmlops_timeout)
    except TimeoutError as exc:
        raise KernelDiedError(f"The kernel did not answer: {exc}") from None
    result = reply["content"].get("user_expressions", {}).get("r", {})
    if result.get("status") != "ok":
        raise RuntimeError(f"{result.get('ename', 'Error')}: {result.get('evalue', reply)}")
    import ast

    return ast.literal_eval(result["data"]["text/plain"])


async def _eval(km: Any, expression: str, timeout: float) -> Any:
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=timeout)
        return await kc.execute_interactive("", silent=True, store_history=False,
                                            user_expressions={"r": expression},
                                            timeout=timeout)
    finally:
        kc.stop_channels()


def stop_kernel(km: Any) -> None:
    """Shut the kernel down (killing it if it does not answer) and clean up."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:
        pass
    finally:
        untrack_kernel(km)
        shutil.rmtree(getattr(km, "_nbmlops_sock_dir", ""), ignore_errors=True)
