from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nbmlops.fileio import atomic_write, umask


def test_writes_text_and_bytes_with_usual_mode(tmp_path: Path) -> None:
    p = atomic_write(tmp_path / "a" / "b.txt", "héllo\n")
    assert p.read_text(encoding="utf-8") == "héllo\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask()
    atomic_write(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    script = atomic_write(tmp_path / "run.sh", "#!/bin/sh\n", executable=True)
    assert os.access(script, os.X_OK)


def test_failure_keeps_old_content_and_leaves_no_temp(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    p = folder / "good.json"
    p.write_text("good")
    with pytest.raises(TypeError):
        atomic_write(p, 123)  # type: ignore[arg-type]
    assert p.read_text() == "good"
    assert [q.name for q in folder.iterdir()] == ["good.json"]


def test_umask_is_never_set_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the umask is process-wide: a write must not touch it (issue 11)."""
    old = os.umask(0o027)
    try:
        def refuse(mask: int) -> int:
            raise AssertionError("os.umask called")

        monkeypatch.setattr(os, "umask", refuse)
        assert umask() == 0o027
        p = atomic_write(tmp_path / "f.txt", "x")
        assert stat.S_IMODE(p.stat().st_mode) == 0o640
        script = atomic_write(tmp_path / "s.sh", "x", executable=True)
        assert stat.S_IMODE(script.stat().st_mode) == 0o750
    finally:
        monkeypatch.undo()
        os.umask(old)


def test_other_threads_files_keep_their_mode(tmp_path: Path) -> None:
    """Files created by other threads during many atomic writes get 0o666 & ~umask."""
    import threading

    expected = 0o666 & ~umask()
    stop = threading.Event()
    bad: list[int] = []

    def create() -> None:
        i = 0
        while not stop.is_set():
            q = tmp_path / "other" / f"{i % 50}"
            q.unlink(missing_ok=True)
            fd = os.open(q, os.O_CREAT | os.O_WRONLY, 0o666)
            os.close(fd)
            if stat.S_IMODE(q.stat().st_mode) != expected:
                bad.append(stat.S_IMODE(q.stat().st_mode))
            i += 1

    (tmp_path / "other").mkdir()
    thread = threading.Thread(target=create)
    thread.start()
    try:
        for i in range(2000):
            atomic_write(tmp_path / "w" / f"{i % 20}.txt", "x")
    finally:
        stop.set()
        thread.join()
    assert bad == []
