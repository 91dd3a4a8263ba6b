"""Benchmark: ``%load_ext nbmlops`` vs ``import mlflow``; ``%%mlops run`` vs a hand-written run.

(a) Fresh processes: the median time of ``%load_ext nbmlops`` (in a fresh
    Python with an IPython shell already up, as in a kernel) against the
    median time of ``import mlflow`` in a fresh Python. Target <= 0.25x.
(b) Warm runs on one SQLite store in a git repo: median of 30 ``%%mlops run``
    cells (trivial cell, full capture: 5 params, 3 metrics, code, history,
    git, env, seeds digest, output, card, comparisons) against the median of
    30 minimal hand-written MLflow runs (``start_run``, ``log_params`` of 5,
    ``log_metrics`` of 3, end). Target <= 3x.

Run: ``python tests/benchmarks/bench_tracking.py``. The last line is the headline.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPEATS_FRESH = 7
RUNS_WARM = 30

LOAD_EXT = """
import time
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
cfg = Config(); cfg.HistoryManager.hist_file = ':memory:'
shell = InteractiveShell.instance(config=cfg)
t = time.perf_counter()
shell.run_line_magic('load_ext', 'nbmlops')
loaded = time.perf_counter() - t
from nbmlops.tracking import reaper
reaper.wait()
print(loaded, time.perf_counter() - t, 'mlflow' in __import__('sys').modules)
"""
IMPORT_MLFLOW = """
import time
t = time.perf_counter()
import mlflow
print(time.perf_counter() - t)
"""

CELL = ("a = 1\nb = 2.0\nc = 'x'\nd = 4\ne = 5\n"
        "m1 = a * 2\nm2 = b * 2\nm3 = d * e")


def fresh(code: str, cwd: Path) -> list[str]:
    """Run ``code`` in a fresh interpreter; return its printed fields."""
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"})
    return out.stdout.split()


def bench_fresh(cwd: Path) -> tuple[float, float, float]:
    """Medians: load_ext, load_ext + background sweep, import mlflow (seconds)."""
    fresh(IMPORT_MLFLOW, cwd)  # warm the OS file cache for both
    fresh(LOAD_EXT, cwd)
    load, load_sweep, mlf = [], [], []
    for _ in range(REPEATS_FRESH):
        loaded, total, imported = fresh(LOAD_EXT, cwd)
        assert imported == "False", "%load_ext must not import mlflow"
        load.append(float(loaded))
        load_sweep.append(float(total))
        mlf.append(float(fresh(IMPORT_MLFLOW, cwd)[0]))
    return statistics.median(load), statistics.median(load_sweep), statistics.median(mlf)


def bench_warm(project: Path) -> tuple[float, float]:
    """Medians of one %%mlops run and one minimal hand-written MLflow run (seconds)."""
    import mlflow

    from nbmlops._testing import TestingShell

    os.chdir(project)
    ip = TestingShell.preconfigured()
    ip.run_line_magic("load_ext", "nbmlops")
    ip.run_line_magic("mlops", "init --experiment bench")

    def ours() -> float:
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            ip.run_cell("%%mlops run --name bench\n" + CELL, store_history=True)
        return time.perf_counter() - t

    def peer() -> float:
        t = time.perf_counter()
        with mlflow.start_run(run_name="peer"):
            mlflow.log_params({"a": 1, "b": 2.0, "c": "x", "d": 4, "e": 5})
            mlflow.log_metrics({"m1": 2, "m2": 4.0, "m3": 20})
        return time.perf_counter() - t

    for _ in range(3):  # warm: imports, env/package list, experiment cache
        ours()
        mlflow.set_experiment("bench")
        peer()
    a, b = [], []
    for _ in range(RUNS_WARM):  # interleaved so drift in machine load hits both
        a.append(ours())
        mlflow.set_experiment("bench")
        b.append(peer())
    return statistics.median(a), statistics.median(b)


def main() -> None:
    """Print both comparisons; the headline ratio last."""
    with tempfile.TemporaryDirectory(prefix="nbmlops-bench-") as tmp:
        project = Path(tmp, "project")
        project.mkdir()
        env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x.invalid",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x.invalid"}
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        (project / "README.md").write_text("bench\n")
        subprocess.run(["git", "add", "README.md"], cwd=project, check=True)
        subprocess.run(["git", "commit", "-qm", "init"], cwd=project, check=True, env=env)
        ours, peer = bench_warm(project)
        load, load_sweep, mlf = bench_fresh(project)  # the store now holds runs to sweep
        os.chdir(Path(__file__).resolve().parents[2])  # leave the temp dir before it goes
    ratio_a = load / mlf
    ratio_b = ours / peer
    print(f"(a) %load_ext nbmlops (fresh process, median of {REPEATS_FRESH}): "
          f"{load * 1000:.1f} ms (+ background dead-kernel sweep done: "
          f"{load_sweep * 1000:.1f} ms)")
    print(f"    import mlflow     (fresh process, median of {REPEATS_FRESH}): {mlf * 1000:.1f} ms")
    print(f"    ratio load_ext / import mlflow = {ratio_a:.3f}x (target <= 0.25x)")
    print(f"(b) %%mlops run, full capture (median of {RUNS_WARM} warm runs, SQLite): "
          f"{ours * 1000:.1f} ms")
    print(f"    minimal hand-written MLflow run (start_run, 5 params, 3 metrics, end): "
          f"{peer * 1000:.1f} ms")
    print(f"    ratio %%mlops run / hand-written run = {ratio_b:.2f}x (target <= 3x)")
    print(f"HEADLINE: load_ext/import-mlflow = {ratio_a:.3f}x (<=0.25x); "
          f"%%mlops-run/hand-written-run = {ratio_b:.2f}x (<=3x)")


if __name__ == "__main__":
    main()
