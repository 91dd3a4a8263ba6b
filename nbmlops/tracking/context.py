"""Where a run comes from: kernel identity, notebook, git, environment.

Expensive facts that cannot change inside one kernel (package list, Python
version, git remote) are computed once per process and cached.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SESSION = uuid.uuid4().hex


# --------------------------------------------------------------------------- kernel
def process_start_ticks(pid: int) -> str:
    """Start time of ``pid`` in clock ticks (Linux ``/proc``), '' elsewhere.

    Together with the pid it tells a live kernel from a recycled pid.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def kernel_session(shell: Any = None) -> str:
    """The Jupyter session id of this kernel, else a per-process uuid."""
    kernel = getattr(shell, "kernel", None)
    session = getattr(getattr(kernel, "session", None), "session", None)
    return str(session) if session else _SESSION


@functools.lru_cache(maxsize=1)
def machine_id() -> str:
    """The machine's stable id (``/etc/machine-id``), '' where there is none.

    Survives a hostname change (a renamed container or laptop): the reaper
    still recognises the runs of this machine.
    """
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return Path(path).read_text().strip()
        except OSError:
            continue
    return ""


def boot_id() -> str:
    """Id of the current boot (Linux), '' elsewhere: a run from an earlier boot is dead."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def pid_space() -> str:
    """The boot and pid namespace this process lives in ('' off Linux).

    Two processes with the same pid space can check each other's pids: the
    same machine and boot, the same container. It does not change with the
    hostname.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot_id()}/{namespace}"


def owner_tags(kind: str = "kernel", shell: Any = None) -> dict[str, str]:
    """Tags naming the process that owns a run: host, machine, boot, pid, start time.

    Every run nbmlops leaves RUNNING carries them (``%%mlops run`` cells with
    ``kind="kernel"``; batch and sweep parent runs with ``kind="batch"`` /
    ``"sweep"``), so :func:`nbmlops.tracking.reaper.reap_dead_runs` can mark
    the run KILLED once its owner is gone, recognising a reused pid by its
    start time and this machine by its machine id even after a hostname change.
    """
    pid = os.getpid()
    return {
        "nbmlops.kernel.pid": str(pid),
        "nbmlops.kernel.started": process_start_ticks(pid),
        "nbmlops.kernel.session": kernel_session(shell),
        "nbmlops.kernel.host": socket.gethostname(),
        "nbmlops.kernel.machine": machine_id(),
        "nbmlops.kernel.boot": boot_id(),
        "nbmlops.kernel.pidspace": pid_space(),
        "nbmlops.kernel.kind": kind,
    }


def kernel_tags(shell: Any = None) -> dict[str, str]:
    """Tags identifying the kernel process that runs the cell (see :func:`owner_tags`)."""
    return owner_tags("kernel", shell)


def is_local(owner: dict[str, str]) -> bool:
    """Whether the owner tags name a process whose pid this process can check.

    Same pid space (boot + pid namespace) when both are known; else the same
    machine id (a reboot since: the owner is surely dead, see
    :func:`owner_alive`); else the same hostname.
    """
    space, mine = owner.get("pidspace", ""), pid_space()
    if space and mine:
        if space == mine:
            return True
        # another boot of this very machine counts as local (its processes are all gone)
        return bool(owner.get("machine")) and owner.get("machine") == machine_id() and (
            owner.get("boot") != boot_id())
    if owner.get("machine") and machine_id():
        return owner["machine"] == machine_id()
    return owner.get("host") == socket.gethostname()


def owner_alive(owner: dict[str, str]) -> bool:
    """Whether the process named by owner tags (``pid``, ``started``, ``boot``) still runs."""
    if owner.get("boot") and boot_id() and owner["boot"] != boot_id():
        return False  # the machine rebooted since
    pid = owner.get("pid", "")
    if not pid.isdigit():
        return True  # cannot tell: leave it
    return is_alive(int(pid), owner.get("started", ""))


def is_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` (started at ``started`` ticks) still runs here."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if started and process_start_ticks(pid) not in ("", started):
        return False  # the pid was recycled by another process
    if Path(f"/proc/{pid}/stat").is_file():
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        return state != "Z"
    return True


# --------------------------------------------------------------------------- notebook
def notebook_from_env(namespace: dict[str, Any] | None = None) -> Path | None:
    """The notebook file named by the environment or the kernel's namespace, if any.

    Tries, in order: ``NBMLOPS_NOTEBOOK_PATH`` (set by ``nbmlops run``), VS
    Code's ``__vsc_ipynb_file__`` in ``namespace``, ``JPY_SESSION_NAME``
    (Jupyter server >= 2). Asking a running Jupyter server is the front's job
    (:func:`nbmlops.magics._kernel.notebook_path`).
    """
    candidates = [os.environ.get("NBMLOPS_NOTEBOOK_PATH"),
                  (namespace or {}).get("__vsc_ipynb_file__"),
                  os.environ.get("JPY_SESSION_NAME")]
    for cand in candidates:
        if cand and str(cand).endswith(".ipynb"):
            path = Path(cand).expanduser()
            if path.is_file():
                return path.resolve()
    return None


# --------------------------------------------------------------------------- git
@dataclass
class GitInfo:
    """Git state of the notebook's repository."""

    commit: str = ""
    branch: str = ""
    remote: str = ""
    dirty: bool = False
    diff: str = ""

    def tags(self) -> dict[str, str]:
        """MLflow's standard git tags plus our dirty flag."""
        if not self.commit:
            return {}
        tags = {
            "mlflow.source.git.commit": self.commit,
            "mlflow.source.git.dirty": str(self.dirty).lower(),
        }
        if self.branch:
            tags["mlflow.source.git.branch"] = self.branch
        if self.remote:
            tags["mlflow.source.git.repoURL"] = self.remote
        return tags


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


@functools.lru_cache(maxsize=16)
def _toplevel(directory: Path) -> str:
    """The repository's root folder (cached per process once found; '' is not cached)."""
    top = (_git(directory, "rev-parse", "--show-toplevel") or "").strip()
    if not top:
        raise LookupError(directory)  # not remembered: the folder may become a repo later
    return top


def _repo_root(directory: Path) -> str:
    """The root of the repository holding ``directory`` ('' when none).

    Remembered per folder, and checked on every use with a few ``stat`` calls
    instead of a ``git`` process: the root must still have its ``.git`` and no
    folder in between may have gained one (a repository created inside).
    """
    here = directory.resolve()
    try:
        top = _toplevel(here)
    except LookupError:
        return ""
    between = [here, *here.parents]
    inside = between[: between.index(Path(top))] if Path(top) in between else None
    if inside is None or not Path(top, ".git").exists() or any(
            Path(p, ".git").exists() for p in inside):
        _toplevel.cache_clear()
        try:
            return _toplevel(here)
        except LookupError:
            return ""
    return top


@functools.lru_cache(maxsize=16)
def _remote(top: str) -> str:
    url = (_git(Path(top), "remote", "get-url", "origin") or "").strip()
    if not url:
        first = (_git(Path(top), "remote") or "").split()
        url = (_git(Path(top), "remote", "get-url", first[0]) or "").strip() if first else ""
    return url


def git_info(directory: Path, with_diff: bool = True, scope: str | None = None) -> GitInfo:
    """Commit, branch, remote, dirty flag and diff of the repo containing ``directory``.

    One ``git status`` call per run (plus ``git diff`` when dirty); the
    repository root and remote are cached per process. With ``scope`` (a path
    relative to ``directory``, e.g. ``"."``) the diff covers only that folder: a
    run of one notebook does not carry uncommitted changes of unrelated files
    elsewhere in the repository.
    """
    status = _git(directory, "status", "--porcelain=v2", "--branch", "--untracked-files=no")
    if status is None:
        return GitInfo()
    info = GitInfo()
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            info.commit = line.split()[-1] if "(initial)" not in line else ""
        elif line.startswith("# branch.head "):
            head = line.split(" ", 2)[-1]
            info.branch = "" if head == "(detached)" else head
        elif line and not line.startswith("#"):
            dirty = True
    info.dirty = dirty
    top = _repo_root(directory) if info.commit else ""
    if top:
        info.remote = _remote(top)
    if dirty and with_diff and info.commit:
        paths = ["--", scope] if scope else []
        info.diff = _git(directory, "diff", "HEAD", *paths) or ""
    return info


# --------------------------------------------------------------------------- environment
@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """Python version, platform and installed packages (computed once per process)."""
    from importlib import metadata

    packages = {}
    for dist in metadata.distributions():
        name = dist.name  # None for a broken install's metadata
        if name:
            packages[name] = dist.version
    reqs = "\n".join(f"{n}=={v}" for n, v in sorted(packages.items(), key=lambda kv: kv[0].lower()))
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "requirements": reqs + "\n",
        "n_packages": len(packages),
    }
