"""Benchmark: ``nbmlops serve`` (with prediction logging) vs ``mlflow models serve``.

Same registered model (the serving tests' sklearn pipeline), same machine, same
run, one uvicorn worker each (``mlflow models serve --workers 1 --env-manager
local``), both on 127.0.0.1. A bounded async load generator (httpx, a fixed
number of requests in flight, one-row ``dataframe_records`` requests) runs for
``--seconds`` against each server, alternating peer / ours ``--rounds`` times
(the machine is shared: alternation spreads its noise over both); the median
round of each is compared:

- throughput ratio nbmlops / mlflow (target >= 0.9);
- p99 latency ratio nbmlops / mlflow (target <= 1.2);
- the log writer alone (no server): rows/s to Parquet (target >= 200k rows/s);
- peak RSS of ``nbmlops serve`` over a ``--minutes`` run under load, against
  its RSS after the first 10% of the run (target: flat, within +-10%).

Run: ``python tests/benchmarks/bench_serving.py [--seconds 20] [--rounds 2] [--minutes 5]``.
The last line is the headline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RECORD = {"amount": 12.5, "count": 2, "merchant": "fuel"}
CONCURRENCY = 8


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(folder: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT),
            "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}"}


def start(cmd: list[str], folder: Path, port: int) -> subprocess.Popen[bytes]:
    import urllib.request

    proc = subprocess.Popen(cmd, cwd=folder, env=env_for(folder), stdout=subprocess.DEVNULL,
                            stderr=open(folder / f"server-{port}.log", "wb"),  # noqa: SIM115
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(folder / f'server-{port}.log').read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    # mlflow models serve runs uvicorn as a child: signal the whole session
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


async def load(port: int, seconds: float, on_tick: Any = None) -> dict[str, float]:
    """``CONCURRENCY`` clients posting for ``seconds`` (after a 2 s warm-up)."""
    import httpx

    url = f"http://127.0.0.1:{port}/invocations"
    body = {"dataframe_records": [RECORD]}
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        t_warm = time.perf_counter() + 2
        t_end = t_warm + seconds

        async def worker() -> None:
            nonlocal errors
            while (now := time.perf_counter()) < t_end:
                resp = await client.post(url, json=body)
                done = time.perf_counter()
                if now >= t_warm:
                    if resp.status_code == 200:
                        lat.append(done - now)
                    else:
                        errors += 1

        async def ticker() -> None:
            while time.perf_counter() < t_end:
                if on_tick is not None:
                    on_tick()
                await asyncio.sleep(1)

        await asyncio.gather(ticker(), *(worker() for _ in range(CONCURRENCY)))
    lat.sort()
    return {"rps": len(lat) / seconds, "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[int(len(lat) * 0.99)] * 1000, "n": len(lat), "errors": errors}


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def writer_alone(folder: Path) -> tuple[float, float]:
    """Rows/s of the log writer: 100-row requests, and 1-row requests."""
    import numpy as np
    import pandas as pd

    from nbmlops.serving.logger import RowMeta, prediction_columns, rows_table
    from nbmlops.serving.writer import LogWriter, WriterOptions

    out = []
    for rows, n_tables in ((100, 20_000), (1, 50_000)):
        rng = np.random.default_rng(0)
        X = pd.DataFrame({"amount": rng.normal(50, 10, rows), "count": rng.integers(0, 9, rows),
                          "merchant": rng.choice(["fuel", "food"], rows).astype(object)})
        table = rows_table(X, prediction_columns(np.zeros(rows, int)), RowMeta("r", "m", "1"))
        writer = LogWriter(folder / f"writer-{rows}", WriterOptions(batch_rows=50_000,
                                                                    max_queue_rows=500_000))
        t = time.perf_counter()
        for _ in range(n_tables):
            writer.put(table)
        assert writer.close(timeout=600)
        out.append(rows * n_tables / (time.perf_counter() - t))
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--minutes", type=float, default=5)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    subprocess.run([sys.executable, "-m", "tests.serving._model", str(folder)], cwd=folder,
                   env=env_for(folder), check=True, capture_output=True)
    model = "models:/fraud@champion"
    peer_cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model, "--workers", "1",
                "--env-manager", "local", "--host", "127.0.0.1"]
    ours_cmd = [sys.executable, "-m", "nbmlops", "serve", "fraud@champion", "--log-dir",
                str(folder / "logs" / "predictions"), "--host", "127.0.0.1"]
    results: dict[str, list[dict[str, float]]] = {"mlflow": [], "nbmlops": []}
    for _ in range(args.rounds):
        for name, cmd in (("mlflow", peer_cmd), ("nbmlops", ours_cmd)):
            port = free_port()
            proc = start([*cmd, "--port", str(port)], folder, port)
            results[name].append(asyncio.run(load(port, args.seconds)))
            stop(proc)
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("rps", "p50", "p99")}
           for k, v in results.items()}
    for name, r in med.items():
        errs = sum(x["errors"] for x in results[name])
        print(f"{name:8s} serve: {r['rps']:7.1f} req/s  p50 {r['p50']:6.1f} ms  "
              f"p99 {r['p99']:6.1f} ms  (median of {args.rounds} x {args.seconds:g}s, "
              f"{CONCURRENCY} in flight, {errs} errors)")
    logged = len(__import__("pandas").read_parquet(folder / "logs" / "predictions"))
    print(f"nbmlops log rows written over the rounds: {logged}")
    r100, r1 = writer_alone(folder)
    print(f"writer alone: {r100:,.0f} rows/s (100-row requests), {r1:,.0f} rows/s (1-row requests)")
    port = free_port()
    proc = start([*ours_cmd, "--port", str(port)], folder, port)
    samples: list[float] = []
    long = asyncio.run(load(port, args.minutes * 60, lambda: samples.append(rss_mb(proc.pid))))
    stop(proc)
    base = samples[max(1, len(samples) // 10)]
    growth = (max(samples) - base) / base * 100
    print(f"RSS over {args.minutes:g} min under load ({long['rps']:.0f} req/s): after 10% "
          f"{base:.0f} MB, peak {max(samples):.0f} MB, growth {growth:+.1f}% (target within 10%)")
    print(f"nbmlops/mlflow throughput ratio {med['nbmlops']['rps'] / med['mlflow']['rps']:.2f} "
          f"(target >= 0.9), p99 ratio {med['nbmlops']['p99'] / med['mlflow']['p99']:.2f} "
          f"(target <= 1.2), writer {r100 / 1000:.0f}k rows/s")


if __name__ == "__main__":
    main()
