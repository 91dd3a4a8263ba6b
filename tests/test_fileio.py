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
