"""Drift engine speed and memory, against a per-column scipy loop on the same frames.

Seeded. Part 1: 1M current rows × 25 columns (20 float64, 5 strings with 8-40
levels) against a profile fitted once on a 1M-row reference:

- nbmlops: ``profile.compare(current)`` (summaries + every statistic + verdicts);
- peer: for each float column ``scipy.stats.ks_2samp(ref, cur)`` and for each
  string column ``scipy.stats.chi2_contingency`` on the two frames' value counts.

Both run REPS times in the same process; medians are printed. Peak RSS added
by one compare is measured by resetting the kernel's high-water mark
(``/proc/self/clear_refs``) and reading ``VmHWM`` afterwards, and compared
with the current frame's in-memory size (``memory_usage(deep=True)``).

Part 2: a 20M-row Parquet log (same schema, written in 1M-row batches into a
temporary folder, deleted afterwards) streamed against the saved profile in
a fresh child process: tqdm bar, rows/s and the child's peak RSS.

The fit's share spent on the calibrated default (null curves per window size
and the PCA of the multivariate signal) is printed as a ratio to a fit without it.

Run: python tests/benchmarks/bench_drift.py [--rows-stream 20000000]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nbmlops.drift import fit_reference

N = 1_000_000
N_FLOAT, N_STR = 20, 5
REPS = 3
STREAM_ROWS = int(sys.argv[sys.argv.index("--rows-stream") + 1]) \
    if "--rows-stream" in sys.argv else 20_000_000


def make(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {f"f{i}": rng.normal(shift if i == 0 else 0.0, 1, n)
                               for i in range(N_FLOAT)}
    for j in range(N_STR):
        levels = np.array([f"level_{j}_{k}" for k in range(8 + 8 * j)])
        cols[f"s{j}"] = pd.Series(levels[rng.integers(0, len(levels), n)], dtype="str")
    return pd.DataFrame(cols)


def scipy_loop(ref: pd.DataFrame, cur: pd.DataFrame) -> dict[str, float]:
    out = {}
    for c in ref.columns:
        if c.startswith("f"):
            out[c] = stats.ks_2samp(ref[c].to_numpy(), cur[c].to_numpy()).pvalue
        else:
            counts = pd.concat([ref[c].value_counts(), cur[c].value_counts()], axis=1).fillna(0)
            out[c] = stats.chi2_contingency(counts.to_numpy().T)[1]
    return out


def _status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            key, val = line.split(":")
            out[key] = int(val.split()[0]) * 1024
    return out


def peak_added(fn) -> float:
    """Bytes of peak RSS added while ``fn()`` runs.

    Freed heap is first returned to the OS (``malloc_trim``), then the
    kernel's high-water mark is reset (``/proc/self/clear_refs``), so the
    figure is what ``fn`` itself needs on top of what is already resident.
    """
    import ctypes
    import gc

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status()["VmRSS"]
    fn()
    return _status()["VmHWM"] - before


def mem_child(profile_path: str, which: str) -> None:
    """Child process: peak RSS added by one compare (or the scipy loop), and tracemalloc's peak."""
    import tracemalloc

    from nbmlops.drift import load_profile

    cur = make(N, 2, shift=0.05)
    frame = int(cur.memory_usage(deep=True).sum())
    if which == "ours":
        profile = load_profile(profile_path)
        profile.compare(cur)  # warm-up: imports, thread pool
        fn = lambda: profile.compare(cur)  # noqa: E731
    else:
        ref = make(N, 1)
        fn = lambda: scipy_loop(ref, cur)  # noqa: E731
    added = peak_added(fn)
    tracemalloc.start()
    fn()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"added": added, "traced": traced, "frame": frame}))


def _child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True,
                          check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def stream_child(profile_path: str, folder: str) -> None:
    """Child process: stream the Parquet folder, print JSON figures."""
    from nbmlops.drift import load_profile

    profile = load_profile(profile_path)
    Path("/proc/self/clear_refs").write_text("5")
    t0 = time.perf_counter()
    report = profile.compare(folder, progress=True)
    dt = time.perf_counter() - t0
    print(json.dumps({"rows": report.n_cur, "seconds": dt, "verdict": report.verdict,
                      "peak_rss": _status()["VmHWM"]}))


def _calibration_time(profile: object, ref: pd.DataFrame) -> float:
    """Seconds the fit spends on the calibrated default (redone here on the fitted profile)."""
    from nbmlops.drift import multivariate
    from nbmlops.drift.calibration import add_null_curves

    for col in profile.columns.values():  # type: ignore[attr-defined]
        col.pop("null", None)
    t0 = time.perf_counter()
    add_null_curves(profile)
    multivariate.fit(ref, profile.columns)  # type: ignore[attr-defined]
    return time.perf_counter() - t0


def main() -> None:
    ref, cur = make(N, 1), make(N, 2, shift=0.05)
    frame_bytes = int(cur.memory_usage(deep=True).sum())
    t0 = time.perf_counter()
    profile = fit_reference(ref)
    t_fit = time.perf_counter() - t0
    print(f"reference fitted once: {t_fit:.2f} s ({N} rows x {ref.shape[1]} columns)")
    t_cal = _calibration_time(profile, ref)
    print(f"of which calibration (null curves at every window size + PCA): {t_cal:.2f} s; "
          f"fit with it / fit without it = {t_fit / max(t_fit - t_cal, 1e-9):.2f}x (target <= 2x)")
    report = profile.compare(cur)
    print(f"verdict {report.verdict}: {report.reason}")
    t_ours = median_time(lambda: profile.compare(cur), REPS)
    t_peer = median_time(lambda: scipy_loop(ref, cur), REPS)
    print(f"median of {REPS}: nbmlops compare {t_ours:.2f} s, scipy ks_2samp+chi2_contingency "
          f"loop {t_peer:.2f} s")
    print(f"current frame in memory: {frame_bytes / 1e6:.0f} MB")

    with tempfile.TemporaryDirectory(prefix="nbmlops-bench-") as tmp:
        prof_path = Path(tmp) / "profile.json"
        profile.save(prof_path)
        print(f"profile JSON: {prof_path.stat().st_size / 1e3:.0f} kB")
        ours, peer = _child("--mem", str(prof_path), "ours"), _child("--mem", "-", "scipy")
        print(f"peak RSS added by one compare (fresh process): {ours['added'] / 1e6:.0f} MB = "
              f"{ours['added'] / ours['frame']:.2f}x the frame (target <= 1.5x); tracemalloc "
              f"peak {ours['traced'] / 1e6:.0f} MB; scipy loop: {peer['added'] / 1e6:.0f} MB")
        folder = Path(tmp) / "log"
        folder.mkdir()
        import pyarrow as pa
        import pyarrow.parquet as pq

        t0 = time.perf_counter()
        for i in range(STREAM_ROWS // N):
            table = pa.Table.from_pandas(make(N, 100 + i), preserve_index=False)
            pq.write_table(table, folder / f"part-{i:03d}.parquet", row_group_size=262_144)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"wrote {STREAM_ROWS} rows of Parquet ({size / 1e9:.2f} GB) in "
              f"{time.perf_counter() - t0:.0f} s")
        proc = subprocess.run([sys.executable, __file__, "--child", str(prof_path), str(folder)],
                              capture_output=False, stdout=subprocess.PIPE, text=True, check=True)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"streamed {res['rows']} rows in {res['seconds']:.1f} s = "
              f"{res['rows'] / res['seconds']:,.0f} rows/s; child peak RSS "
              f"{res['peak_rss'] / 1e6:.0f} MB (target <= 1000 MB); verdict {res['verdict']}")
    print(f"speed ratio (scipy loop / nbmlops compare, 1M x 25): {t_peer / t_ours:.1f}x")


if __name__ == "__main__":
    if "--mem" in sys.argv:
        i = sys.argv.index("--mem")
        mem_child(sys.argv[i + 1], sys.argv[i + 2])
    elif "--child" in sys.argv:
        i = sys.argv.index("--child")
        stream_child(sys.argv[i + 1], sys.argv[i + 2])
    else:
        main()
