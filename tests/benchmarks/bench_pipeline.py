"""Benchmark: `nbmlops run` vs plain `papermill`, and a sweep with --jobs 2 vs --jobs 1.

Same small notebooks, same machine, same run, interleaved repetitions; prints
medians and ratios. The last line holds the headline ratios:

* run overhead = median(`nbmlops run`) / median(`papermill`)  (target <= 1.15),
  for two small notebooks: ``plain.ipynb`` (pure Python, never loads MLflow:
  nbmlops must load it just to record the run) and ``tracked.ipynb`` (the
  same cells with a ``%%mlops run`` cell, as nbmlops notebooks have; both
  tools then run the same MLflow-logging cell; papermill's kernel gets
  ``NBMLOPS_NOTEBOOK_PATH`` like nbmlops' so that cell does the same work);
* sweep speed-up = median(8 combinations of plain.ipynb, --jobs 1) /
  median(--jobs 2)  (target >= 1.6).

All are whole command-line invocations (process start, imports, kernel start,
execution, writing the executed notebook; nbmlops also records the MLflow run).

    python tests/benchmarks/bench_pipeline.py [--reps 5] [--sweep-reps 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

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

        grid = ["--grid", "seed=1,2,3,4", "--grid", "scale=0.5,2.0"]  # 8 combinations
        serial, parallel = [], []
        for i in range(args.sweep_reps):
            for jobs, into in ((1, serial), (2, parallel)):
                into.append(timed([*nbmlops, "sweep", "plain.ipynb", *grid, "--jobs", str(jobs),
                                   "--no-progress", "--out-dir", f"sw-{jobs}-{i}"], root))
        speedup = statistics.median(serial) / statistics.median(parallel)
        print(f"sweep 8 combos --jobs 1 median {statistics.median(serial):6.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in serial)})")
        print(f"sweep 8 combos --jobs 2 median {statistics.median(parallel):6.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in parallel)})")
        print(f"sweep speed-up jobs1/jobs2 = {speedup:.2f}x (target >= 1.6)")
        print(f"RATIOS run nbmlops/papermill = {ratios['plain']:.2f}x (plain), "
              f"{ratios['tracked']:.2f}x (%%mlops) ; sweep jobs1/jobs2 = {speedup:.2f}x")


if __name__ == "__main__":
    main()
