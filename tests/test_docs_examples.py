"""Every ```bash and ```python block of docs/*.md runs as written, in page order.

Each page runs in a fresh project: a copy of the repository's files (what a
fresh clone holds) with a new git history, no MLflow/DVC state, cwd at its
root. One interpreter per page runs the page's blocks in order
(``tests/_docs_runner.py``): Python blocks in one IPython shell (so magics and
names carry over), shell blocks with ``bash -e``.

Conventions (docs/development.md):

- ``<!-- skip: reason -->`` on the line before a fence: not run (servers,
  installs, cluster URLs).
- a ```text block right after a command is its output: every non-blank line
  must appear in the block's stdout, in order; ``…`` stands for any text.
- a shell block that is meant to fail says so in a comment: ``# exits 1``.
- ``nbmlops`` at the start of a shell command runs as ``python -m nbmlops``
  (the test's interpreter and source tree, not whatever console script is
  on PATH).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RUNNER = Path(__file__).with_name("_docs_runner.py")
_FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_SKIP = re.compile(r"<!--\s*skip:\s*(.+?)\s*-->\s*$")
_EXITS = re.compile(r"#\s*exits\s+(\d+)\s*$", re.M)
_CMD = re.compile(r"(^|&&|\|\||;|\|)(\s*)nbmlops(?=\s|$)", re.M)


@dataclass
class Block:
    """One runnable fence and the output shown after it."""

    lang: str
    code: str
    line: int
    expected: str | None = None


def page_blocks(text: str) -> list[Block]:
    """The page's runnable blocks in order (skipped ones left out)."""
    blocks: list[Block] = []
    last: Block | None = None
    end = 0
    for m in _FENCE.finditer(text):
        lang, body = m.group(1).lower(), m.group(2)
        before = text[:m.start()].rstrip("\n").rsplit("\n", 1)[-1]
        between = text[end:m.start()]
        end = m.end()
        if lang == "text":
            if last is not None and not between.strip():
                last.expected = body
            last = None
            continue
        last = None
        if lang not in {"bash", "python", "sh", "shell", "console"} or _SKIP.search(before):
            continue
        last = Block("python" if lang == "python" else "bash", body,
                     text[:m.start()].count("\n") + 1)
        blocks.append(last)
    return blocks


#: never run from a docs page: the suite itself (it runs this test) and installs
_NEVER = re.compile(r"(-m\s+pytest|^\s*pytest\b|pip\s+install)", re.M)


def _shell_code(code: str) -> str:
    return _CMD.sub(lambda m: f"{m.group(1)}{m.group(2)}{sys.executable} -m nbmlops", code)


def _pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if page_blocks(p.read_text(encoding="utf-8")))


def _fresh_project(dest: Path) -> Path:
    """The repository's files as a fresh clone has them, with a new git history."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    ident = ["-c", "user.name=docs", "-c", "user.email=docs@localhost"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    subprocess.run(["git", *ident, "commit", "-q", "-m", "fresh clone"], cwd=dest, check=True)
    return dest


def _matches(expected: str, output: str) -> str | None:
    """``None`` when every expected line appears in ``output`` in order, else the first miss."""
    lines = [ln.rstrip() for ln in output.splitlines()]
    at = 0
    for want in (ln.rstrip() for ln in expected.splitlines()):
        if not want.strip() or want.strip() == "…":
            continue
        pattern = re.compile(".*?".join(re.escape(part) for part in want.split("…")) + "$")
        while at < len(lines) and not pattern.match(lines[at]):
            at += 1
        if at == len(lines):
            return want
        at += 1
    return None


def test_page_blocks_parse_skip_and_expected_output():
    text = ("```bash\necho hi\n```\n\n```text\nhi\n```\n<!-- skip: a server -->\n"
            "```bash\nnbmlops ui\n```\n```python\nx = 1\n```\n```yaml\na: 1\n```\n")
    blocks = page_blocks(text)
    assert [(b.lang, b.code, b.expected) for b in blocks] == [
        ("bash", "echo hi\n", "hi\n"), ("python", "x = 1\n", None)]
    assert _shell_code("nbmlops run x && nbmlops export y").count(" -m nbmlops") == 2
    assert _shell_code("pip install nbmlops") == "pip install nbmlops"
    assert _matches("a … c\n…\nlast", "zero\na b c\nmiddle\nlast\n") is None
    assert _matches("auc=0.93", "auc=0.76") == "auc=0.93"
    assert _NEVER.search("python -m pytest -q") and _NEVER.search("pip install -e .")


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_docs_page_runs_as_written(page: Path, tmp_path: Path) -> None:
    blocks = page_blocks(page.read_text(encoding="utf-8"))
    unsafe = [f"{page.name}:{b.line}" for b in blocks if _NEVER.search(b.code)]
    assert not unsafe, f"mark these with <!-- skip: reason --> (pytest/pip install): {unsafe}"
    project = _fresh_project(tmp_path / "project")
    spec = [{"lang": b.lang, "code": _shell_code(b.code) if b.lang == "bash" else b.code,
             "exit": int(m.group(1)) if (m := _EXITS.search(b.code)) else 0} for b in blocks]
    (tmp_path / "blocks.json").write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "NBMLOPS_", "JUPYTER_"))}
    env.update(PYTHONPATH=str(project), DVC_NO_ANALYTICS="1", MPLBACKEND="Agg",
               GIT_AUTHOR_NAME="docs", GIT_AUTHOR_EMAIL="docs@localhost",
               GIT_COMMITTER_NAME="docs", GIT_COMMITTER_EMAIL="docs@localhost")
    done = _run_page(tmp_path, project, env)
    outputs = re.split(r"^@@block \d+@@\n", done.stdout, flags=re.M)[1:]
    failed = re.search(r"@@failed (\d+)@@", done.stdout)
    if failed or done.returncode != 0:
        i = int(failed.group(1)) if failed else len(outputs) - 1
        where = f"{page.name}:{blocks[i].line}" if 0 <= i < len(blocks) else page.name
        pytest.fail(f"block at {where} failed:\n{blocks[i].code if i < len(blocks) else ''}\n"
                    f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-5000:]}")
    misses = [f"{page.name}:{block.line}: shown line {miss!r} not printed; got:\n{out}"
              for block, out in zip(blocks, outputs, strict=True)
              if block.expected is not None and (miss := _matches(block.expected, out))]
    assert not misses, "\n\n".join(misses)


def _run_page(tmp_path: Path, project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the page's blocks; then end whatever they left running (a server a page started in
    the background and a failing block never stopped) with their whole process group."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as fout, err.open("w") as ferr:
        proc = subprocess.Popen([sys.executable, str(RUNNER), str(tmp_path / "blocks.json")],
                                cwd=project, env=env, stdout=fout, stderr=ferr, text=True,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=1700)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return subprocess.CompletedProcess(proc.args, code, out.read_text(), err.read_text())


def test_shipped_notebooks_have_no_outputs_and_no_pinned_snapshot_version():
    """Committed without outputs; the quickstart loads the version it wrote (``snap.ref``),
    not ``train@1``, so ``dvc repro`` works after other runs made more versions."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path
    text = "".join("".join(c["source"]) for c in json.loads(
        (ROOT / "notebooks" / "quickstart.ipynb").read_text())["cells"]
        if c["cell_type"] == "code")
    assert "load train@" not in text and "nbmlops.load(snap.ref)" in text
