"""Hostile and large inputs to ``nbmlops export`` / ``run`` (issue 11), real DVC and kernels.

No parameter value is ever parsed by a shell (the stage reads them from
params.yaml), values over 128 KiB work, and a params file that is not UTF-8,
nests 100k deep or is a YAML alias bomb ends with exit 2 and one line, in
bounded memory. ``export`` also says (or does) ``dvc init`` when needed and
never lists a snapshot the notebook writes among its own deps.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nbmlops.pipeline.export import export

from .conftest import write_notebook

_PATH = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
NBMLOPS = [sys.executable, "-m", "nbmlops"]

ECHO = ('import json, pathlib\n'
        'p = pathlib.Path(out)\n'
        'p.parent.mkdir(parents=True, exist_ok=True)\n'
        'p.write_text(json.dumps({"name": name, "items": len(items)}))')


def _echo_nb(project: Path) -> Path:
    return write_notebook(project / "nb" / "echo.ipynb",
                          'name = "x"\nitems = [1]\nout = "outputs/echo/out.json"  # out:',
                          ECHO)


def _run(cmd: list[str], cwd: Path, limit_gb: float | None = None
         ) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # bounded memory: the process may not grow past limit_gb
        if limit_gb:
            size = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False, env={**os.environ, "PATH": _PATH},
                          preexec_fn=limit if limit_gb else None)


def test_stage_reads_values_from_the_params_file(project: Path) -> None:
    nb = _echo_nb(project)
    stage = export(nb).stage_def
    assert stage["cmd"] == ("nbmlops run nb/echo.ipynb -f params.yaml:echo "
                            "-o outputs/echo/echo.ipynb --no-progress")
    assert "${" not in stage["cmd"]
    assert stage["params"] == ["echo.name", "echo.items"]


def test_written_snapshots_are_not_deps(project: Path) -> None:
    nb = write_notebook(
        project / "nb" / "prep.ipynb", "n = 1",
        "%load_ext nbmlops",
        "raw = %mlops load raw@1\ntrain = %mlops load train",
        "%mlops snapshot train --name train",
        "%mlops snapshot features",
        'import nbmlops\nnbmlops.snapshot(raw, "cleaned")\nnbmlops.load("cleaned")')
    deps = export(nb).stage_def["deps"]
    assert deps == ["nb/prep.ipynb", "data/snapshots/raw.parquet"]


@pytest.mark.slow
def test_export_outside_dvc_prints_a_next_step_that_works(project: Path,
                                                          tmp_path: Path) -> None:
    """Issue 15: the printed next step runs as printed (here, without git: --no-scm)."""
    import shlex

    _echo_nb(project)
    said = _run([*NBMLOPS, "export", "nb/echo.ipynb"], project)
    assert said.returncode == 0, said.stderr
    step = said.stdout.strip().splitlines()[-1]
    assert step == "next: dvc init --no-scm && dvc repro", said.stdout
    assert not (project / ".dvc").exists()
    for command in step.removeprefix("next: ").split(" && "):
        words = shlex.split(command)
        proc = _run([sys.executable, "-m", *words], project)
        assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    assert json.loads((project / "outputs" / "echo" / "out.json").read_text())["name"] == "x"
    # --dvc-init does the init itself, and then says `dvc repro`
    other = tmp_path / "other"
    other.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=other, check=True)
    _echo_nb(other)
    done = _run([*NBMLOPS, "export", "nb/echo.ipynb", "--dvc-init"], other)
    assert done.returncode == 0, done.stderr
    assert (other / ".dvc").is_dir() and "next: dvc repro" in done.stdout


PAYLOADS = {"quote": "O'Brien", "single": "x'; touch pwned; echo '",
            "double": 'a"; touch pwned; echo "', "subst": "$(touch pwned)",
            "backtick": "`touch pwned`", "big": "y" * 200_000}


@pytest.mark.slow
def test_hostile_and_large_values_under_dvc_repro(dvc_project: Path) -> None:
    """O'Brien works, shell payloads run nothing, 30k ints and 200 kB text pass (one repro)."""
    defaults = "\n".join(f"{k} = 'x'" for k in PAYLOADS)
    write_notebook(dvc_project / "nb" / "echo.ipynb",
                   defaults + '\nitems = [1]\nout = "outputs/echo/out.json"  # out:',
                   'import json, pathlib\n'
                   'p = pathlib.Path(out)\n'
                   'p.parent.mkdir(parents=True, exist_ok=True)\n'
                   f'p.write_text(json.dumps({{k: globals()[k] for k in {list(PAYLOADS)!r}}}'
                   ' | {"items": len(items)}))')
    assert _run([*NBMLOPS, "export", "nb/echo.ipynb"], dvc_project).returncode == 0
    params = {"echo": {**PAYLOADS, "items": list(range(30_000)),
                       "out": "outputs/echo/out.json"}}
    (dvc_project / "params.yaml").write_text(yaml.safe_dump(params))
    proc = _run([sys.executable, "-m", "dvc", "repro"], dvc_project)
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    out = json.loads((dvc_project / "outputs" / "echo" / "out.json").read_text())
    assert out == {**PAYLOADS, "items": 30_000}
    assert not (dvc_project / "pwned").exists()


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi",
                                                                 strict=True))


@pytest.mark.slow
@pytest.mark.parametrize(("content", "says"), [
    (b'name: "caf\xe9"\n', "is not UTF-8"),
    (("name: " + "[" * 100_000 + "]" * 100_000 + "\n").encode(), "nests deeper than"),
    (BOMB.encode(), "expands to more than"),
], ids=["not-utf8", "deep", "alias-bomb"])  # short ids: PYTEST_CURRENT_TEST holds the id
def test_hostile_params_files_exit_2_with_one_line(project: Path, content: bytes,
                                                   says: str) -> None:
    assert len(BOMB) < 400
    _echo_nb(project)
    bad = project / "bad.yaml"
    bad.write_bytes(content)
    proc = _run([*NBMLOPS, "run", "nb/echo.ipynb", "-f", "bad.yaml"], project, limit_gb=2)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    (project / "params.yaml").write_bytes(content)
    proc = _run([*NBMLOPS, "export", "nb/echo.ipynb"], project, limit_gb=2)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0
