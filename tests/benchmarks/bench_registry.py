"""Registry benchmarks (seeded; run: ``python tests/benchmarks/bench_registry.py``).

1. Paired bootstrap of ROC AUC (candidate − champion) on a 1M-row holdout,
   1,000 replicates: nbmlops's rank-once weighted kernel vs a loop of
   ``sklearn.metrics.roc_auc_score`` over the **same** resamples (two calls per
   replicate). ``--sk-boot K`` times the sklearn loop on the first K resamples
   only (it takes ~0.6 s per replicate) and scales its time to 1,000; the CIs
   are then compared on those K shared replicates (and ours on all 1,000 printed).
2. A whole ``validate`` (1M rows × 2 models × 6 slices, default 1,000
   replicates, nothing recorded) vs the two models' ``predict_proba`` alone.

Times are CPU seconds of this process (``time.process_time``: numpy and
sklearn run single-threaded here), so a loaded machine does not skew the
ratios. The last line prints both ratios.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _scores(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.1).astype(np.int64)
    champ = rng.random(n) + 0.35 * y
    cand = 0.8 * champ + 0.2 * rng.random(n) + 0.05 * y
    return y, champ, cand


def bench_bootstrap(n: int, n_boot: int, sk_boot: int) -> float:
    from sklearn.metrics import roc_auc_score

    from nbmlops.registry.bootstrap import auc_ap, percentile_ci, rank_index, resamples

    y, champ, cand = _scores(n, 0)
    ones = np.zeros(n, dtype=np.int64)
    t0 = time.process_time()
    ix = [rank_index(y, s, ones, 1) for s in (champ, cand)]
    ours = np.array([auc_ap(ix[1], w)[0][0] - auc_ap(ix[0], w)[0][0]
                     for w in resamples(n, n_boot, 42)])
    t_ours = time.process_time() - t0
    t0 = time.process_time()
    loop = []
    for i, w in enumerate(resamples(n, n_boot, 42)):
        if i == sk_boot:
            break
        idx = np.repeat(np.arange(n), w)
        loop.append(roc_auc_score(y[idx], cand[idx]) - roc_auc_score(y[idx], champ[idx]))
    t_sk = (time.process_time() - t0) * n_boot / len(loop)
    lo, hi = percentile_ci(ours[:, None])
    lo_k, hi_k = percentile_ci(ours[: len(loop), None])
    sk_lo, sk_hi = np.percentile(loop, 2.5), np.percentile(loop, 97.5)
    print(f"bootstrap: {n:,} rows, {n_boot} paired replicates of ROC AUC: nbmlops "
          f"{t_ours:.1f} s; sklearn loop {t_sk:.1f} s"
          + ("" if len(loop) == n_boot else f" (timed on {len(loop)} replicates, scaled)"))
    print(f"  CI ours ({n_boot} reps) [{lo[0]:.4f}, {hi[0]:.4f}]; on the {len(loop)} shared "
          f"reps ours [{lo_k[0]:.4f}, {hi_k[0]:.4f}] vs sklearn [{sk_lo:.4f}, {sk_hi:.4f}]; "
          f"max |diff| {max(abs(lo_k[0] - sk_lo), abs(hi_k[0] - sk_hi)):.2e} (need <= 0.002)")
    return t_sk / t_ours


def bench_validate(n: int, n_boot: int) -> float:
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier

    import nbmlops
    from nbmlops.config import load_config
    from nbmlops.registry import promote, register, validate

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"f{i}" for i in range(8)])
    X["merchant"] = rng.integers(0, 6, n)  # 6 slices
    y = (X.f0 + X.f1 * X.f2 + rng.normal(size=n) > 0.5).astype(int)
    cfg = load_config()
    versions = []
    for depth in (3, 6):
        model = HistGradientBoostingClassifier(max_depth=depth, max_iter=100,
                                               random_state=0).fit(X[:200_000], y[:200_000])
        run = nbmlops.capture_run("pass", {}, config=cfg, autolog=False)
        versions.append(register("bench", run, model=model, input_example=X.head(), config=cfg))
    promote("bench", versions[0].version, approver="bench", config=cfg)
    hold = X.assign(label=y)
    feats = hold.drop(columns=["label"])
    t0 = time.process_time()
    for v in versions:
        from nbmlops.mlflow_gateway.models import load_scorer, predict_scores

        predict_scores(load_scorer(v.uri, cfg.tracking_uri), feats)
    t_pred = time.process_time() - t0
    t0 = time.process_time()
    result = validate(f"bench/{versions[1].version}", data=hold, target="label",
                      slices=["merchant"], n_boot=n_boot, record=False, config=cfg)
    t_val = time.process_time() - t0
    print(f"validate: {n:,} rows x 2 models x {len(result.rows) // 9 - 1} slices, {n_boot} "
          f"replicates: {t_val:.1f} s; the two predict_proba alone {t_pred:.1f} s")
    return t_val / t_pred


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--sk-boot", type=int, default=1000)
    parser.add_argument("--only", choices=["bootstrap", "validate"], default=None)
    args = parser.parse_args()
    speedup = ratio = float("nan")
    if args.only in (None, "bootstrap"):
        speedup = bench_bootstrap(args.rows, args.boot, args.sk_boot)
    if args.only in (None, "validate"):
        import os
        import tempfile

        with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
            os.chdir(tmp)
            ratio = bench_validate(args.rows, args.boot)
    print(f"paired bootstrap vs sklearn loop: {speedup:.1f}x faster (target >= 20x); "
          f"validate / 2x predict_proba: {ratio:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
