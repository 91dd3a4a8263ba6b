"""Benchmark: a scikit-learn fit under ``%%mlops run`` vs plain MLflow autolog, in a real kernel.

Three cells, run in one real Jupyter kernel (jupyter_client), each timed from
the client (request sent -> reply received), warm (one untimed round first),
median of ``ROUNDS`` interleaved rounds:

- bare:    ``model = LogisticRegression(max_iter=200).fit(X, y)``
- peer:    ``mlflow.sklearn.autolog()`` + ``with mlflow.start_run(): <the same fit>``
           (MLflow's own defaults: it infers the model's pip requirements in a subprocess)
- nbmlops: ``%%mlops run`` + the same fit (autolog on; nbmlops hands MLflow the
           requirements it knows instead of that subprocess; params, metrics,
           code, history, git, env, model all logged)

Both write to their own SQLite store in the same temporary project. Targets:
nbmlops <= 0.3x the peer's wall time, and <= 1.5 s over the bare fit.

Run: ``python tests/benchmarks/bench_autolog.py``. The last line is the ratio.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROUNDS = 3
ROOT = Path(__file__).resolve().parents[2]

SETUP = """
import time, warnings
import mlflow, mlflow.sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
X, y = make_classification(n_samples=1000, n_features=20, random_state=0)
%load_ext nbmlops
from nbmlops.tracking import reaper
reaper.wait(60)
"""
FIT = "model = LogisticRegression(max_iter=200).fit(X, y)"
PEER = ("mlflow.set_tracking_uri('sqlite:///peer.db')\nmlflow.set_experiment('peer')\n"
        "mlflow.sklearn.autolog()\n"
        f"with mlflow.start_run():\n    {FIT}\n"
        "mlflow.sklearn.autolog(disable=True)")
OURS = f"%%mlops run --name bench\n{FIT}"


def _execute(kc: Any, code: str, timeout: float = 600) -> float:
    """Run ``code``; wall seconds from request to reply. Raises on a cell error."""
    started = time.perf_counter()
    msg_id = kc.execute(code)
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    elapsed = time.perf_counter() - started
    if msg["content"]["status"] != "ok":
        raise RuntimeError(f"cell failed: {msg['content'].get('ename')}: "
                           f"{msg['content'].get('evalue')}\n{code}")
    return elapsed


def main() -> None:
    from jupyter_client import KernelManager

    with tempfile.TemporaryDirectory(prefix="nbmlops-bench-autolog-") as tmp:
        project = Path(tmp)
        subprocess.run(["git", "init", "-q", str(project)], check=True)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
        km = KernelManager(kernel_name="python3")
        km.start_kernel(cwd=str(project), env=env)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=120)
            _execute(kc, SETUP)
            times: dict[str, list[float]] = {"bare": [], "peer": [], "nbmlops": []}
            for round_ in range(ROUNDS + 1):  # round 0 warms every path up, untimed
                for name, code in [("bare", FIT), ("peer", PEER), ("nbmlops", OURS)]:
                    elapsed = _execute(kc, code)
                    if round_:
                        times[name].append(elapsed)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in ("bare", "peer", "nbmlops"):
        print(f"{name:8s} median {med[name]:.3f} s  ({', '.join(f'{t:.2f}' for t in times[name])})")
    print(f"nbmlops overhead over the bare fit: {med['nbmlops'] - med['bare']:.3f} s "
          "(target <= 1.5 s)")
    print(f"ratio nbmlops/mlflow-autolog = {med['nbmlops'] / med['peer']:.2f}x (target <= 0.3x)")


if __name__ == "__main__":
    sys.exit(main())
