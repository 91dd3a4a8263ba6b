"""Docs are built in the test suite: broken links or pages fail it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mkdocs_builds_strict(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_every_page_is_linked_from_index() -> None:
    index = (ROOT / "docs" / "index.md").read_text()
    linked = set(re.findall(r"\(([\w/.-]+\.md)\)", index))
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert pages - {"index.md"} <= linked, f"not linked from docs/index.md: {pages - linked}"


def test_readme_test_command_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    after_marker = ci.split("# >>> README test command")[1].split("\n", 1)[1]
    block = after_marker.split("# <<< README test command")[0]
    ci_cmd = " && ".join(line.strip() for line in block.strip().splitlines()
                         if line.strip() and not line.startswith("#"))
    readme = (ROOT / "README.md").read_text()
    assert ci_cmd in readme, f"README must show the CI test command: {ci_cmd!r}"
