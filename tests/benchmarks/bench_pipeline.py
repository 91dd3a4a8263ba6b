"""Benchmark: `nbmlops run` vs plain `papermill`, and a sweep with --jobs 2 vs --jobs 1.

Same small notebooks, same machine, same run, interleaved repetitions; prints
medians and ratios. The last line holds the headline ratios:

* run overhead = median(`nbmlops run`) / median(`papermill`)  (target <= 1.15),
  for two small notebooks: ``plain.ipynb`` (pure Python, never loads MLflow:
  nbmlops must load it just to record the run) and ``tracked.ipynb`` (the
  same cells with a ``%%mlops run`` cell, as nbmlops notebooks have; both
  tools then run the same MLflow-logging cell; papermill's kernel gets
  ``NBMLOPS_NOTEBOOK_PATH`` like nbmlops' so that cell does the same work);
* sweep speed-up = median(8 combinations, --jobs 1) / median(--jobs 2)
  (target >= 1.6), for ``plain.ipynb`` (cells that take milliseconds: the
  figure shows the fixed cost of one sweep process, mostly importing
  papermill, which no number of jobs can split) and for the project's own
  ``notebooks/train.ipynb`` (a seeded scikit-learn fit with a ``%%mlops run``
  cell: what a user sweeps).

All are whole command-line invocations (process start, imports, kernel start,
execution, writing the executed notebook; nbmlops also records the MLflow run).

    python tests/benchmarks/bench_pipeline.py [--reps 5] [--sweep-reps 3] [--train-reps 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]
PARAMS = "n: int = 200_000\nseed: int = 0\nscale: float = 1.0"
CELLS = [
    "import json\nimport random",
    "rng = random.Random(seed)\nxs = [rng.gauss(0, scale) for _ in range(n // 10)]",
    "mean = sum(xs) / len(xs)\nprint(f'mean={mean:.4f}')",
    "json.dump({'mean': mean}, open('bench-metrics.json', 'w'))",
]


def write_notebook(path: Path, tracked: bool = False) -> None:
    """The small notebook both tools run (parameters cell tagged)."""
    cells = list(CELLS)
    if tracked:
        cells[1] = "%%mlops run --name bench\n" + cells[1]
        cells.insert(0, "%load_ext nbmlops")
    nb = new_notebook(
        cells=[new_markdown_cell("# bench"),
               new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
               *[new_code_cell(c) for c in cells]],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    nbformat.write(nb, str(path))


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of one command (must succeed)."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    """Run both benchmarks and print medians and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sweep-reps", type=int, default=3)
    ap.add_argument("--train-reps", type=int, default=1,
                    help="repetitions of the train.ipynb sweeps (about 2 minutes each)")
    args = ap.parse_args()
    os.environ["DVC_NO_ANALYTICS"] = "1"
    bin_dir = Path(sys.executable).parent
    papermill = [str(bin_dir / "papermill")] if (bin_dir / "papermill").exists() else [
        sys.executable, "-m", "papermill"]
    nbmlops = [sys.executable, "-m", "nbmlops"]
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        write_notebook(root / "plain.ipynb")
        write_notebook(root / "tracked.ipynb", tracked=True)
        (root / "notebooks").mkdir()
        shutil.copy(REPO / "notebooks" / "train.ipynb", root / "notebooks" / "train.ipynb")
        ratios = {}
        for name in ("plain", "tracked"):
            nb = f"{name}.ipynb"
            # the kernel's %%mlops cell then does the same work under both tools (without
            # it, it would also search the Jupyter sessions API for the notebook's path)
            peer_env = {"NBMLOPS_NOTEBOOK_PATH": str(root / nb)}
            # warm-up: OS caches, the MLflow database schema
            timed([*nbmlops, "run", nb, "-p", "seed", "1"], root)
            timed([*papermill, nb, "pm-out.ipynb", "-p", "seed", "1", "--no-progress-bar"], root,
                  peer_env)
            ours, peer = [], []
            for i in range(args.reps):
                peer.append(timed([*papermill, nb, "pm-out.ipynb", "-p", "seed", str(i),
                                   "--no-progress-bar"], root, peer_env))
                ours.append(timed([*nbmlops, "run", nb, "-p", "seed", str(i)], root))
            ratios[name] = statistics.median(ours) / statistics.median(peer)
            print(f"run {name:7} papermill   median {statistics.median(peer):6.2f} s  "
                  f"({', '.join(f'{t:.2f}' for t in peer)})")
            print(f"run {name:7} nbmlops run median {statistics.median(ours):6.2f} s  "
                  f"({', '.join(f'{t:.2f}' for t in ours)})")
            print(f"run {name:7} ratio nbmlops/papermill = {ratios[name]:.2f}x (target <= 1.15)")

        speedups = {
            "plain": sweep_speedup(nbmlops, root, "plain.ipynb",
                                   ["--grid", "seed=1,2,3,4", "--grid", "scale=0.5,2.0"],
                                   args.sweep_reps),
            "train": sweep_speedup(nbmlops, root, "notebooks/train.ipynb",
                                   ["--grid", "C=0.1,1,10,100", "--grid", "seed=0,1"],
                                   args.train_reps),
        }
        print(f"RATIOS run nbmlops/papermill = {ratios['plain']:.2f}x (plain), "
              f"{ratios['tracked']:.2f}x (%%mlops) ; sweep jobs1/jobs2 = "
              f"{speedups['plain']:.2f}x (plain), {speedups['train']:.2f}x (train.ipynb)")


def sweep_speedup(nbmlops: list[str], root: Path, notebook: str, grid: list[str],
                  reps: int) -> float:
    """Median wall time of an 8-combination sweep with --jobs 1 over --jobs 2."""
    serial: list[float] = []
    parallel: list[float] = []
    for i in range(reps):
        for jobs, into in ((1, serial), (2, parallel)):
            out = f"sw-{Path(notebook).stem}-{jobs}-{i}"
            into.append(timed([*nbmlops, "sweep", notebook, *grid, "--jobs", str(jobs),
                               "--no-progress", "--out-dir", out], root))
    speedup = statistics.median(serial) / statistics.median(parallel)
    for jobs, times in ((1, serial), (2, parallel)):
        print(f"sweep {notebook} 8 combos --jobs {jobs} median {statistics.median(times):6.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in times)})")
    print(f"sweep {notebook} speed-up jobs1/jobs2 = {speedup:.2f}x (target >= 1.6)")
    return speedup


if __name__ == "__main__":
    main()
