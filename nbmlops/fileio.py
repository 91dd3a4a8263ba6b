"""Atomic file writes, shared by every area.

A partial write must never replace good data: :func:`atomic_write` writes to
a temp file in the target's folder, then ``os.replace``-s it over the target
(atomic on POSIX and Windows). The temp file is removed if anything fails,
and the result gets the usual permissions (``0o666 & ~umask``; ``mkstemp``
alone would leave ``0o600``). The umask is read without ever changing it
(``/proc/self/status`` on Linux; elsewhere once, at import, before any
thread of ours runs): setting it even briefly is process-wide, and another
thread's file created in that instant would get the wrong mode.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(
    path: str | os.PathLike[str],
    data: str | bytes,
    *,
    executable: bool = False,
    newline: str | None = None,
) -> Path:
    """Write ``data`` to ``path`` atomically; return the path.

    Parameters
    ----------
    path
        Target file; missing parent folders are created.
    data
        Text (written as UTF-8) or bytes.
    executable
        Also set the execute bits (``0o777 & ~umask``), e.g. for scripts.
    newline
        Passed to :func:`open` for text (``""`` keeps line endings as given).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
                fh.write(data)
        os.chmod(tmp, (0o777 if executable else 0o666) & ~umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _import_umask() -> int:
    current = os.umask(0o022)  # at import only: no other thread of ours runs yet
    os.umask(current)
    return current


_IMPORT_UMASK = _import_umask()


def umask() -> int:
    """The process umask, read without changing it.

    Linux reports it in ``/proc/self/status``; elsewhere the value found
    when this module was imported is used.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _IMPORT_UMASK
