"""Calibration of drift verdicts at every sample size, against plain scipy tests.

Seeded. 25 features: 20 numerical N(0, 1), 5 categorical with 4 levels
(probabilities 0.4/0.3/0.2/0.1, integer-coded). For n = n_ref = n_cur in
{200, 2k, 20k, 200k, 2M} and several repetitions each, a fresh reference and
current sample are drawn; the reference is fitted once per repetition and
compared with five current variants:

- ``null``: identical distributions (false alarms);
- ``shift``: feature x0 shifted by 0.25 sd;
- ``scale``: feature x0 scaled by 1.3;
- ``cat``: categorical c0 changed by total variation 0.1 (0.4/0.3/0.2/0.1 -> 0.3/0.3/0.2/0.2);
- ``tiny``: x0 shifted by 0.02 sd (n = 2M only: must NOT be flagged).

Columns printed, for nbmlops (default rule: Bonferroni-corrected significance
at alpha=0.01 AND effect >= threshold) and for "scipy KS/chi-square at
p < 0.05" (per column, no correction):
``alarm`` dataset-level alarm rate, ``feat`` per-feature flag rate of the
unchanged features, ``hit`` rate of the changed feature being flagged,
``clean`` rate of "changed feature flagged and no other" (power rows).

Run: python tests/benchmarks/drift_calibration.py [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

from nbmlops.drift import fit_reference

N_NUM, N_CAT = 20, 5
P_CAT = np.array([0.4, 0.3, 0.2, 0.1])
P_CAT_SHIFT = np.array([0.3, 0.3, 0.2, 0.2])
REPS = {200: 200, 2_000: 200, 20_000: 100, 200_000: 30, 2_000_000: 20}
SCIPY_REPS = {200: 200, 2_000: 200, 20_000: 100, 200_000: 30, 2_000_000: 3}
if "--quick" in sys.argv:
    REPS = {200: 40, 2_000: 40, 20_000: 20, 200_000: 5}
    SCIPY_REPS = dict(REPS)


def draw(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cols = {f"x{i}": rng.standard_normal(n) for i in range(N_NUM)}
    for j in range(N_CAT):
        cols[f"c{j}"] = rng.choice(4, size=n, p=P_CAT).astype("int64")
    return pd.DataFrame(cols)


def variants(rng: np.random.Generator, cur: pd.DataFrame, n: int
             ) -> dict[str, tuple[str | None, pd.Series | None]]:
    base = cur["x0"]
    out = {"null": (None, None), "shift": ("x0", base + 0.25), "scale": ("x0", base * 1.3),
           "cat": ("c0", pd.Series(rng.choice(4, size=n, p=P_CAT_SHIFT).astype("int64")))}
    if n >= 2_000_000:
        out["tiny"] = ("x0", base + 0.02)
    return out


def scipy_flags(ref: pd.DataFrame, cur: pd.DataFrame, names: list[str]) -> dict[str, bool]:
    out = {}
    for name in names:
        if name.startswith("x"):
            p = stats.ks_2samp(ref[name].to_numpy(), cur[name].to_numpy()).pvalue
        else:
            table = np.vstack([np.bincount(ref[name], minlength=4),
                               np.bincount(cur[name], minlength=4)])
            p = stats.chi2_contingency(table)[1]
        out[name] = p < 0.05
    return out


def main() -> None:
    rng = np.random.default_rng(20261124)
    names = [f"x{i}" for i in range(N_NUM)] + [f"c{j}" for j in range(N_CAT)]
    rows = []
    t_ours, t_scipy = 0.0, 0.0
    for n, reps in REPS.items():
        tally: dict[tuple[str, str], list[tuple[bool, float, bool, bool]]] = {}
        for rep in range(reps):
            ref, cur = draw(rng, n), draw(rng, n)
            t0 = time.perf_counter()
            profile = fit_reference(ref)
            t_ours += time.perf_counter() - t0
            base_scipy = None
            if rep < SCIPY_REPS.get(n, 0):
                t0 = time.perf_counter()
                base_scipy = scipy_flags(ref, cur, names)
                t_scipy += time.perf_counter() - t0
            for scen, (col, values) in variants(rng, cur, n).items():
                c = cur if col is None else cur.assign(**{col: values})
                t0 = time.perf_counter()
                report = profile.compare(c)
                t_ours += time.perf_counter() - t0
                flags = {k: f.status == "drift" for k, f in report.features.items()}
                tally.setdefault(("nbmlops", scen), []).append(
                    _score(flags, col, report.verdict == "drift"))
                if base_scipy is not None:
                    sflags = dict(base_scipy)
                    if col is not None:
                        t0 = time.perf_counter()
                        sflags.update(scipy_flags(ref, c, [col]))
                        t_scipy += time.perf_counter() - t0
                    tally.setdefault(("scipy p<0.05", scen), []).append(
                        _score(sflags, col, any(sflags.values())))
        for (who, scen), vals in sorted(tally.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            arr = np.array(vals, dtype=float)
            rows.append((n, scen, who, len(vals), *arr.mean(axis=0)))
        _print(rows, n)
        sys.stdout.flush()
    print(f"\ntime: nbmlops fit+compare {t_ours:.1f} s total; scipy loop {t_scipy:.1f} s total")
    worst = max(r[4] for r in rows if r[2] == "nbmlops" and r[1] == "null")
    sc = max(r[4] for r in rows if r[2] != "nbmlops" and r[1] == "null")
    print(f"false-alarm rate (dataset level, worst n): nbmlops {worst:.3f} vs "
          f"scipy p<0.05 {sc:.3f}")


def _score(flags: dict[str, bool], col: str | None, alarm: bool
           ) -> tuple[float, float, float, float]:
    others = [v for k, v in flags.items() if k != col]
    hit = flags[col] if col else float("nan")
    clean = (flags[col] and not any(others)) if col else float("nan")
    return (alarm, float(np.mean(others)), hit, clean)


def _print(rows: list[tuple], n: int) -> None:
    print(f"\nn = n_ref = n_cur = {n}")
    head = ["alarm", "feat", "hit", "clean"]
    print(f"  {'scenario':8s} {'method':14s} {'reps':>5s} " + " ".join(f"{h:>7s}" for h in head))
    for r in rows:
        if r[0] != n:
            continue
        _, scen, who, reps, alarm, feat, hit, clean = r
        f = lambda v: "   -   " if np.isnan(v) else f"{v:7.3f}"  # noqa: E731
        print(f"  {scen:8s} {who:14s} {reps:5d} {alarm:7.3f} {feat:7.3f} {f(hit)} {f(clean)}")


if __name__ == "__main__":
    main()
