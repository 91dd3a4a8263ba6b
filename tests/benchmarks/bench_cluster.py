"""Benchmark: a sweep on a 2-worker Dask ``LocalCluster`` vs the local ``--jobs 2`` sweep.

The project's own ``notebooks/train.ipynb`` (a seeded scikit-learn fit with a
``%%mlops run`` cell), 8 combinations (``C`` x ``max_iter``), in a fresh
project with its own MLflow store. Both sweeps run through
:func:`nbmlops.sweep` in this process, alternately, after one warm-up sweep
(imports, the store's creation); the cluster is started before the clock runs
(a team's cluster is already up).

Printed: the wall time of each sweep, the scheduler-side overhead per
combination (from submitting a combination until a worker starts it, beyond
waiting for a free worker, plus from its end on the worker until the result
is back here) in milliseconds, and, as the last line, the ratio
median(cluster) / median(local) (target <= 1.1).

    python tests/benchmarks/bench_cluster.py [--reps 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
GRID = {"C": ["0.01", "0.1", "1", "10"], "max_iter": ["100", "200"]}


def overhead_ms(timings: list[tuple[float, float, float, float]], slots: int) -> float:
    """Mean scheduler-side time per task: dispatch beyond a busy worker, plus the way back."""
    free = [min(t[0] for t in timings)] * slots
    total = 0.0
    for submitted, started, ended, received in sorted(timings, key=lambda t: t[1]):
        slot = free.index(min(free))
        total += max(0.0, started - max(submitted, free[slot])) + max(0.0, received - ended)
        free[slot] = ended
    return 1000 * total / len(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1, help="sweeps of each kind")
    args = parser.parse_args()
    try:
        import distributed  # noqa: F401 (the cluster below)
    except ImportError:
        print("skipped: distributed is not installed (pip install 'nbmlops[dask]')")
        return
    from nbmlops.pipeline.cluster import ClusterSpec
    from nbmlops.pipeline.sweep import sweep

    sys.path.insert(0, str(REPO))  # the cluster the tests use
    from tests.pipeline._cluster import local_cluster

    project = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    (project / "notebooks").mkdir()
    shutil.copy(REPO / "notebooks" / "train.ipynb", project / "notebooks" / "train.ipynb")
    os.chdir(project)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    nb = project / "notebooks" / "train.ipynb"
    lc, client = local_cluster()
    try:
        sweep(nb, {"C": ["0.5", "2"]}, jobs=2, out_dir="warm", progress=False)
        local: list[float] = []
        cluster: list[float] = []
        overheads: list[float] = []
        for rep in range(args.reps):
            t0 = time.perf_counter()
            res = sweep(nb, GRID, jobs=2, out_dir=f"local-{rep}", progress=False)
            local.append(time.perf_counter() - t0)
            spec = ClusterSpec(client)
            t0 = time.perf_counter()
            dres = sweep(nb, GRID, jobs=2, out_dir=f"dask-{rep}", progress=False, cluster=spec)
            cluster.append(time.perf_counter() - t0)
            overheads.append(overhead_ms(spec.timings, 2))
            assert res.exit_code == dres.exit_code == 0, (res.table(), dres.table())
            print(f"rep {rep}: local --jobs 2 {local[-1]:.1f} s, 2-worker LocalCluster "
                  f"{cluster[-1]:.1f} s, scheduler-side overhead "
                  f"{overheads[-1]:.0f} ms/combination",
                  flush=True)
    finally:
        client.close()
        lc.close()
        shutil.rmtree(project, ignore_errors=True)
    _report(local, cluster, overheads)


def _report(local: list[float], cluster: list[float], overheads: list[float]) -> None:
    med: Any = statistics.median
    print(f"8 combinations of notebooks/train.ipynb on {os.cpu_count()} cores, python "
          f"{sys.version.split()[0]}")
    print(f"local --jobs 2: median {med(local):.1f} s; 2-worker LocalCluster: median "
          f"{med(cluster):.1f} s; scheduler-side overhead {med(overheads):.0f} ms per combination")
    print(f"cluster/local wall-time ratio: {med(cluster) / med(local):.2f}x (target <= 1.1)")


if __name__ == "__main__":
    main()
