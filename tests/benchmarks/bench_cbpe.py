"""CBPE: nbmlops' label-free AUC estimate vs realised AUC and vs NannyML's CBPE, same data.

Seeded. A logistic model scores a reference (30k rows) and 12 analysis chunks
of 5,000 rows whose inputs drift step by step (pure covariate shift: the
mean of x moves from 0 to 1.65 sd and its scale grows, P(y | x) unchanged).
nbmlops estimates each chunk's ROC AUC from the scores only (row windows of
5,000); the realised AUC comes from scikit-learn with the labels; NannyML
0.13's ``CBPE(metrics=["roc_auc"], chunk_size=5000)`` runs on the same files
in its own virtualenv (``NML_VENV``, default ``/tmp/nml-venv``; never a
dependency of nbmlops). Skipped with a message when NannyML cannot be run.

Targets (issue 14): nbmlops within 0.02 AUC of realised, within 0.01 of NannyML.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from nbmlops.drift import fit_reference

CHUNK, N_CHUNKS, N_REF = 5000, 12, 30_000
VENV = Path(os.environ.get("NML_VENV", "/tmp/nml-venv"))

NML_SCRIPT = r"""
import sys, json, warnings
warnings.filterwarnings("ignore")
import os
os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"
import pandas as pd, nannyml as nml
ref = pd.read_parquet(sys.argv[1]); ana = pd.read_parquet(sys.argv[2])
est = nml.CBPE(y_pred_proba="score", y_pred="pred", y_true="y",
               problem_type="classification_binary", metrics=["roc_auc"],
               chunk_size=int(sys.argv[3]))
est.fit(ref)
res = est.estimate(ana).filter(period="analysis").to_df()
print(json.dumps([float(v) for v in res[("roc_auc", "value")]]))
"""


def frame(n: int, rng: np.random.Generator, shift: float = 0.0, scale: float = 1.0
          ) -> pd.DataFrame:
    x, z = rng.normal(shift, scale, n), rng.normal(0, 1, n)
    p = 1 / (1 + np.exp(-(1.2 * x + 0.8 * z - 0.3)))
    y = (rng.random(n) < p).astype(int)
    return pd.DataFrame({"x": x, "z": z, "y": y, "score": p, "pred": (p >= 0.5).astype(int)})


def main() -> None:
    rng = np.random.default_rng(2026)
    ref = frame(N_REF, rng)
    ana = pd.concat([frame(CHUNK, rng, shift=0.15 * i, scale=1 + 0.04 * i)
                     for i in range(N_CHUNKS)], ignore_index=True)
    realised = [roc_auc_score(c["y"], c["score"])
                for c in (ana.iloc[i * CHUNK:(i + 1) * CHUNK] for i in range(N_CHUNKS))]
    t0 = time.perf_counter()
    prof = fit_reference(ref.drop(columns="pred"), target="y", prediction="score")
    rep = prof.compare(ana.drop(columns=["y", "pred"]), window=CHUNK)
    ours = [w.performance["est_auc"] for w in rep.windows]
    t_ours = time.perf_counter() - t0
    print(f"calibration check on the reference: {prof.performance['calibration']}")
    theirs, t_nml, why = nannyml(ref, ana)
    print("chunk  realised  nbmlops  nannyml")
    for i in range(N_CHUNKS):
        nml_v = f"{theirs[i]:.4f}" if theirs else "-"
        print(f"{i:5d}  {realised[i]:.4f}    {ours[i]:.4f}   {nml_v}")
    err = max(abs(a - b) for a, b in zip(ours, realised, strict=True))
    print(f"nbmlops CBPE: max |estimate - realised AUC| = {err:.4f} (target <= 0.02), "
          f"{t_ours:.2f} s fit+estimate")
    if theirs is None:
        print(f"NannyML skipped: {why}")
        print(f"CBPE max AUC error vs realised: nbmlops {err:.4f}; NannyML not run")
        return
    nerr = max(abs(a - b) for a, b in zip(theirs, realised, strict=True))
    agree = max(abs(a - b) for a, b in zip(ours, theirs, strict=True))
    print(f"NannyML CBPE: max |estimate - realised AUC| = {nerr:.4f}, {t_nml:.2f} s "
          "fit+estimate (in its own process)")
    print(f"CBPE max AUC error vs realised: nbmlops {err:.4f}, NannyML {nerr:.4f}; "
          f"max |nbmlops - NannyML| = {agree:.4f} (target <= 0.01)")


def nannyml(ref: pd.DataFrame, ana: pd.DataFrame) -> tuple[list[float] | None, float, str]:
    py = VENV / "bin" / "python"
    if not py.exists():
        return None, 0.0, f"no virtualenv at {VENV} (python -m venv {VENV} && " \
            f"{VENV}/bin/pip install nannyml statsmodels)"
    with tempfile.TemporaryDirectory() as tmp:
        ref.to_parquet(f"{tmp}/ref.parquet")
        ana.to_parquet(f"{tmp}/ana.parquet")
        (Path(tmp) / "run.py").write_text(NML_SCRIPT)
        t0 = time.perf_counter()
        r = subprocess.run([str(py), f"{tmp}/run.py", f"{tmp}/ref.parquet",
                            f"{tmp}/ana.parquet", str(CHUNK)],
                           capture_output=True, text=True, timeout=1800, check=False)
        dt = time.perf_counter() - t0
    if r.returncode != 0:
        return None, dt, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"
    return json.loads(r.stdout.strip().splitlines()[-1]), dt, ""


if __name__ == "__main__":
    main()
