"""Detection delay on slow drifts and false alarms on stable data, against three peers.

Seeded. A reference of 50,000 rows (10 days) with 6 numeric features
(N(0, 1); ``x2`` and ``x3`` correlated 0.8) and 2 categorical ones (4 levels),
a label ``y`` and a model score. Each scenario is 60 daily windows of 5k–50k
rows (sizes drawn once), the change starting on day ``CHANGE`` = 20:

- ``mean ramp``: ``x0``'s mean grows 0.006 sd a day;
- ``scale ramp``: ``x1``'s sd grows 0.6 % a day;
- ``cat mix``: ``c0``'s mix moves 0.4/0.3/0.2/0.1 -> 0.1/0.3/0.2/0.4 over 100 days;
- ``corr flip``: ``x2``-``x3`` correlation +0.8 -> -0.8 on the change day (marginals fixed);
- ``concept``: ``y``'s dependence on the inputs rotates (inputs unchanged), seen only
  through performance once labels arrive;

plus ``stable``: 200 windows with no change (false alarms).

Methods (a window alarms when the rule fires on it):

- ``nbmlops``: defaults (``threshold: auto``, the sequential rule, the multivariate signal);
- ``evidently``: Evidently's default column rule re-implemented from its constants
  (``wasserstein_distance / std_ref >= 0.1`` numeric, Jensen–Shannon distance
  ``>= 0.1`` categorical), alarm when any column drifts (its dataset rule would
  need half the columns);
- ``nannyml``: NannyML's defaults (univariate Jensen–Shannon with mean + 3 sd
  thresholds over the reference's daily chunks, plus PCA data reconstruction),
  run in its own venv (``/tmp/nannyml-venv``, made with ``python -m venv`` and
  ``pip install nannyml``; skipped with a message when it cannot be made);
- ``scipy``: KS / chi-square per column, p < 0.05 with Bonferroni.

``delay`` is windows from the change day to the first alarm on or after it
(``-``: missed within the 40 windows); ``pre`` counts alarms before it.

Run: python tests/benchmarks/drift_ramp.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from nbmlops.drift import fit_reference

DAYS, CHANGE, STABLE = 60, 20, 200
NUM = [f"x{i}" for i in range(6)]
CAT = ["c0", "c1"]
P0, P1 = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.1, 0.3, 0.2, 0.4])
VENV = Path("/tmp/nannyml-venv")
SCENARIOS = ("mean ramp", "scale ramp", "cat mix", "corr flip", "concept")
RAMPS = ("mean ramp", "scale ramp", "cat mix")


def day_frame(rng: np.random.Generator, n: int, day: int, scen: str = "stable") -> pd.DataFrame:
    """One day's rows of ``scen`` (``t`` days after the change, 0 before)."""
    t = max(0, day - CHANGE + 1) if scen != "stable" else 0
    z = rng.standard_normal((n, 7))
    x = {f"x{i}": z[:, i] for i in range(6)}
    rho = -0.8 if scen == "corr flip" and t > 0 else 0.8
    x["x3"] = rho * z[:, 2] + np.sqrt(1 - rho ** 2) * z[:, 6]
    if scen == "mean ramp":
        x["x0"] = x["x0"] + 0.006 * t
    if scen == "scale ramp":
        x["x1"] = x["x1"] * (1 + 0.006 * t)
    p = P0 + (P1 - P0) * min(1.0, t / 100) if scen == "cat mix" else P0
    out = pd.DataFrame(x)
    out["c0"] = rng.choice(4, n, p=p).astype(str)
    out["c1"] = rng.choice(4, n, p=P0).astype(str)
    theta = min(np.pi / 2, 0.05 * t) if scen == "concept" else 0.0
    logit = 2 * (np.cos(theta) * out["x0"] + np.sin(theta) * out["x4"])
    out["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    out["score"] = 1 / (1 + np.exp(-2 * out["x0"]))
    out["ts"] = pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=day) \
        + pd.to_timedelta(np.linspace(0, 86_000, n), unit="s")
    return out


def scenario(rng: np.random.Generator, scen: str, sizes: list[int]) -> pd.DataFrame:
    return pd.concat([day_frame(rng, n, d, scen) for d, n in enumerate(sizes)],
                     ignore_index=True)


def evidently_alarms(ref: pd.DataFrame, cur: pd.DataFrame) -> list[bool]:
    out = []
    sd = {c: ref[c].std() for c in NUM}
    ref_p = {c: ref[c].value_counts(normalize=True) for c in CAT}
    for _, w in cur.groupby(cur["ts"].dt.floor("D"), sort=True):
        hit = any(stats.wasserstein_distance(ref[c], w[c]) / max(sd[c], 1e-3) >= 0.1
                  for c in NUM)
        for c in CAT:
            q = w[c].value_counts(normalize=True)
            keys = sorted(set(ref_p[c].index) | set(q.index))
            p_, q_ = ref_p[c].reindex(keys, fill_value=0), q.reindex(keys, fill_value=0)
            hit = hit or distance.jensenshannon(p_, q_) >= 0.1
        out.append(bool(hit))
    return out


def scipy_alarms(ref: pd.DataFrame, cur: pd.DataFrame) -> list[bool]:
    out = []
    m = len(NUM) + len(CAT)
    for _, w in cur.groupby(cur["ts"].dt.floor("D"), sort=True):
        ps = [stats.ks_2samp(ref[c], w[c]).pvalue for c in NUM]
        for c in CAT:
            table = pd.concat([ref[c].value_counts(), w[c].value_counts()], axis=1).fillna(0)
            ps.append(stats.chi2_contingency(table.to_numpy().T)[1])
        out.append(min(ps) * m < 0.05)
    return out


def nbmlops_alarms(profile: Any, cur: pd.DataFrame) -> tuple[list[bool], Any]:
    report = profile.compare(cur[[*NUM, *CAT, "ts"]], time_column="ts", window="1D")
    return [w.verdict == "drift" for w in report.windows], report


def nannyml_alarms(ref: pd.DataFrame, curs: dict[str, pd.DataFrame]) -> dict[str, list[bool]]:
    """Run NannyML in its own venv (None values: skipped)."""
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=False)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "nannyml", "statsmodels"],
                       check=False)
    ok = subprocess.run([str(py), "-c", "import nannyml"], capture_output=True).returncode == 0
    if not ok:
        print("nannyml: skipped (could not install it in /tmp/nannyml-venv)")
        return {}
    with tempfile.TemporaryDirectory(prefix="nbmlops-ramp-") as tmp:
        ref.to_parquet(Path(tmp) / "reference.parquet")
        for k, v in curs.items():
            v.to_parquet(Path(tmp) / f"{k.replace(' ', '_')}.parquet")
        code = NANNYML_SCRIPT.replace("@NUM@", repr(NUM)).replace("@CAT@", repr(CAT))
        proc = subprocess.run([str(py), "-c", code, tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            print("nannyml: failed:", proc.stderr.strip().splitlines()[-1:])
            return {}
        res: dict[str, list[bool]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return {k.replace("_", " "): v for k, v in res.items()}


NANNYML_SCRIPT = r'''
import json, sys, warnings
from pathlib import Path
import pandas as pd
import nannyml as nml
warnings.filterwarnings("ignore")
tmp = Path(sys.argv[1])
ref = pd.read_parquet(tmp / "reference.parquet")
num, cat = @NUM@, @CAT@
out = {}


def any_alert(result):
    df = result.filter(period="analysis").to_df()
    cols = [c for c in df.columns if (c[-1] if isinstance(c, tuple) else c) == "alert"]
    return df[cols].fillna(False).astype(bool).any(axis=1).to_numpy()


for f in sorted(tmp.glob("*.parquet")):
    if f.stem == "reference":
        continue
    cur = pd.read_parquet(f)
    uni = nml.UnivariateDriftCalculator(column_names=num + cat, timestamp_column_name="ts",
                                        chunk_period="D", categorical_methods=["jensen_shannon"],
                                        continuous_methods=["jensen_shannon"])
    uni.fit(ref)
    alerts = any_alert(uni.calculate(cur[num + cat + ["ts"]]))
    rec = nml.DataReconstructionDriftCalculator(column_names=num + cat,
                                                timestamp_column_name="ts", chunk_period="D")
    rec.fit(ref)
    alerts2 = any_alert(rec.calculate(cur[num + cat + ["ts"]]))
    out[f.stem] = [bool(a or b) for a, b in zip(alerts, alerts2)]
    if f.stem == "concept":  # realised performance (labels) and CBPE's estimate (no labels)
        kw = dict(problem_type="classification_binary", y_pred_proba="score", y_pred="pred",
                  y_true="y", metrics=["roc_auc"], timestamp_column_name="ts", chunk_period="D")
        perf = nml.PerformanceCalculator(**kw).fit(ref)
        out["concept_perf"] = [bool(a) for a in any_alert(perf.calculate(cur))]
        cbpe = nml.CBPE(**kw).fit(ref)
        out["concept_cbpe"] = [bool(a) for a in any_alert(cbpe.estimate(cur.drop(columns="y")))]
print(json.dumps(out))
'''


def delay(alarms: list[bool]) -> tuple[int | None, int]:
    """(windows from the change to the first alarm on/after it, alarms before it)."""
    after = [i - CHANGE for i in range(CHANGE, len(alarms)) if alarms[i]]
    return (after[0] if after else None), sum(alarms[:CHANGE])


def main() -> None:
    rng = np.random.default_rng(20261129)
    ref = pd.concat([day_frame(rng, 5_000, d - 10) for d in range(10)], ignore_index=True)
    sizes = rng.integers(5_000, 50_001, DAYS).tolist()
    stable_sizes = rng.integers(5_000, 50_001, STABLE).tolist()
    curs = {s: scenario(rng, s, sizes) for s in SCENARIOS}
    curs["stable"] = scenario(rng, "stable", stable_sizes)
    profile = fit_reference(ref[[*NUM, *CAT]])
    labelled = fit_reference(ref.drop(columns="ts"), target="y", prediction="score")
    table: dict[str, dict[str, list[bool]]] = {"nbmlops": {}, "evidently": {}, "scipy": {}}
    concept_auc: tuple[Any, Any] | None = None
    concept_perf: list[bool] = []
    for name, cur in curs.items():
        table["nbmlops"][name], rep = nbmlops_alarms(profile, cur)
        table["evidently"][name] = evidently_alarms(ref, cur)
        table["scipy"][name] = scipy_alarms(ref, cur)
        if name == "concept":  # labels arrived: realised performance per window
            rep = labelled.compare(cur, time_column="ts", window="1D")
            perf = [w.performance for w in rep.windows if w.performance]
            ref_auc = (rep.performance or {}).get("reference", {}).get("auc")
            concept_auc = (ref_auc, perf[-1].get("auc") if perf else None)
            degraded = set((rep.performance or {}).get("windows") or [])
            concept_perf = [w.key in degraded for w in rep.windows]
        print(f"  {name}: done", file=sys.stderr)
    with_pred = {k: v.assign(pred=(v["score"] >= 0.5).astype(int)) for k, v in curs.items()}
    nml_res = nannyml_alarms(ref.assign(pred=(ref["score"] >= 0.5).astype(int)), with_pred)
    if nml_res:
        table["nannyml"] = nml_res
    _print(table, concept_auc)
    d, pre = delay(concept_perf)
    print(f"nbmlops concept drift via the performance verdict (labels): delay "
          f"{d if d is not None else '-'}, pre {pre}")
    if nml_res.get("concept perf") is not None:
        for key, what in (("concept perf", "realised ROC AUC (labels)"),
                          ("concept cbpe", "CBPE estimated ROC AUC (no labels)")):
            d, pre = delay(nml_res[key])
            print(f"nannyml concept drift via {what}: delay {d if d is not None else '-'}, "
                  f"pre {pre}")
    print(f"median ramp delay ratio (nbmlops / evidently rule): {_ratio:.2f}")


_ratio = float("nan")


def _print(table: dict[str, dict[str, list[bool]]], concept_auc: tuple[Any, Any] | None
           ) -> None:
    global _ratio
    methods = list(table)
    print(f"\n{'scenario':12s} " + " ".join(f"{m:>18s}" for m in methods))
    print(f"{'':12s} " + " ".join(f"{'delay   pre':>18s}" for _ in methods))
    medians: dict[str, list[float]] = {m: [] for m in methods}
    for scen in SCENARIOS:
        cells = []
        for m in methods:
            d, pre = delay(table[m][scen])
            if scen in RAMPS:
                medians[m].append(float(d) if d is not None else float(DAYS - CHANGE))
            cells.append(f"{('-' if d is None else str(d)):>10s} {pre:>7d}")
        note = ""
        if scen == "concept":
            note = "  <- inputs did not move: see the performance verdict below"
            if concept_auc and None not in concept_auc:
                note += (f" (realised AUC: reference {concept_auc[0]:.3f}, "
                         f"last window {concept_auc[1]:.3f}; inputs did not move)")
        print(f"{scen:12s} " + " ".join(cells) + note)
    print(f"{'stable':12s} " + " ".join(
        f"{sum(table[m]['stable']):>10d}/{len(table[m]['stable']):<7d}" for m in methods)
        + "  (false alarms)")
    med = {m: statistics.median(v) for m, v in medians.items()}
    print("\nmedian delay on the ramps (missed = 40): " +
          ", ".join(f"{m} {v:.1f}" for m, v in med.items()))
    fa = sum(table["nbmlops"]["stable"])
    flip, _ = delay(table["nbmlops"]["corr flip"])
    print(f"targets: nbmlops/evidently delay <= 0.5; nbmlops stable false alarms {fa} (<= 1); "
          f"correlation flip detected after {flip} windows")
    _ratio = med["nbmlops"] / max(med["evidently"], 1e-9)


if __name__ == "__main__":
    main()
