"""Verdicts from summaries: statistics, multiple testing, dataset verdict, ranking.

The default rule is *significant and large enough to matter*: a feature
drifts when its test's p-value, corrected for the number of features judged
in the window (Bonferroni by default), is below ``alpha`` **and** its effect
size reaches the threshold. It warns when significant and the effect is at
least ``warn_ratio`` × threshold. The dataset drifts when the share of
drifted features exceeds ``drift_share`` (default 0: any drifted feature).
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections import OrderedDict
from typing import Any

import numpy as np

from nbmlops.drift import calibration as cal_
from nbmlops.drift import multivariate, sequential
from nbmlops.drift import stats as st
from nbmlops.drift.config import DriftConfig
from nbmlops.drift.performance import merge_perf, metrics
from nbmlops.drift.profile_data import profile_of
from nbmlops.drift.results import BinData, FeatureResult, WindowResult
from nbmlops.drift.summaries import from_jsonable, merge

MIN_COUNT = 20

#: statistics of recently judged window sets, by the identity of their summaries.
#: They do not depend on the config, so a threshold/alpha/correction/drift-share
#: change (``DriftReport.with_config``) re-applies the rule without recomputing
#: them. Each entry keeps its window dicts alive, so an id is never reused while
#: cached; the accumulator builds new dicts for every state (live mode).
_STATS_CACHE: OrderedDict[tuple[int, ...], tuple[list[Any], dict[str, Any]]] = OrderedDict()
_STATS_CACHE_SIZE = 256
_STAT_FIELDS = ("bins", "ecdf", "new_categories", "vanished_categories", "stats")


def _stats_memo(profile_state: Any, windows: list[dict[str, Any]]) -> dict[str, Any]:
    """The per-column statistics cache of this exact set of window summaries."""
    key = (id(profile_state), *(id(w) for w in windows))
    hit = _STATS_CACHE.get(key)
    if hit is not None and hit[0][0] is profile_state and \
            all(a is b for a, b in zip(hit[0][1:], windows, strict=True)):
        _STATS_CACHE.move_to_end(key)
        return hit[1]
    memo: dict[str, Any] = {}
    _STATS_CACHE[key] = ([profile_state, *windows], memo)
    while len(_STATS_CACHE) > _STATS_CACHE_SIZE:
        _STATS_CACHE.popitem(last=False)
    return memo
JUDGED = ("ok", "warn", "drift")


def merge_windows(windows: list[dict[str, Any]]) -> tuple[dict[str, Any], Any, int]:
    """Merged column summaries, performance summary and row count of ``windows``."""
    cols: dict[str, Any] = {}
    perf = None
    n = 0
    for w in windows:
        n += w["n_rows"]
        for name, s in w["columns"].items():
            cols[name] = merge(cols.get(name), from_jsonable(s))
        perf = merge_perf(perf, w.get("perf"))
    return cols, perf, n


def evaluate_state(state: dict[str, Any], config: DriftConfig,
                   keys: list[str] | None = None) -> dict[str, Any]:
    """Judge the summaries in ``state`` under ``config``: the fields of a :class:`DriftReport`.

    Parameters
    ----------
    state
        What :meth:`Accumulator.state` returns (or a report's saved ``state``).
    config
        The rules in force.
    keys
        Windows making up the whole-period result (None: all of them).

    Returns
    -------
    dict
        Keyword arguments of :class:`~nbmlops.drift.report.DriftReport`.
    """
    profile = profile_of(state)
    all_windows = state["windows"]
    chosen = all_windows if keys is None else [w for w in all_windows if w["key"] in set(keys)]
    errors = state.get("column_errors", {})
    if state.get("time_column") in profile.columns:
        errors = {**errors, state["time_column"]: "time column of the windows"}
    cols, perf, n_cur = merge_windows(chosen)
    features, pred = evaluate_columns(profile, cols, config, errors,
                                      _stats_memo(state["profile"], chosen))
    verdict, reason = dataset_verdict(features, pred, config)
    windows = ([_window_result(state, w, config, errors) for w in all_windows]
               if state.get("window_spec") is not None else [])
    verdict, reason = sequential.apply(windows, config, verdict, reason, keys)
    performance = None
    if profile.performance and "metrics" in profile.performance:
        performance = {"reference": profile.performance["metrics"],
                       "current": metrics(perf) if perf else None}
    ranking, ranking_imp = rank(features, profile.importances or state.get("importances"))
    starts = [w["start"] for w in chosen if w.get("start")]
    ends = [w["end"] for w in chosen if w.get("end")]
    return dict(
        verdict=verdict, reason=reason, features=features, windows=windows, config=config,
        n_ref=profile.n_rows, n_cur=n_cur,
        period=(min(starts) if starts else None, max(ends) if ends else None),
        window_spec=state.get("window_spec"), time_column=state.get("time_column"),
        prediction=pred, performance=performance, ranking=ranking,
        ranking_importance=ranking_imp, sources=state.get("sources", {}),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        state={**state, "selected": keys},
    )


def _window_result(state: dict[str, Any], w: dict[str, Any], config: DriftConfig,
                   errors: dict[str, str]) -> WindowResult:
    """The judged results of one window's summaries."""
    wc, wp, wn = merge_windows([w])
    wf, wpred = evaluate_columns(profile_of(state), wc, config, errors,
                                 _stats_memo(state["profile"], [w]))
    wv, _ = dataset_verdict(wf, wpred, config)
    return WindowResult(
        key=w["key"], start=w.get("start"), end=w.get("end"), n_rows=wn,
        verdict=wv if wv != "error" else "skipped", features=wf, prediction=wpred,
        performance=metrics(wp) if wp else None,
        multivariate=multivariate.judge(profile_of(state).multivariate, w.get("mv"))
        if config.multivariate else None)


def evaluate_columns(profile: Any, cols: dict[str, Any], config: DriftConfig,
                     errors: dict[str, str], memo: dict[str, Any] | None = None
                     ) -> tuple[dict[str, FeatureResult], FeatureResult | None]:
    """Judge every profiled column; apply the multiple-testing correction.

    ``memo`` (column name -> statistics) reuses statistics computed for the same
    summaries under another config.
    """
    results: dict[str, FeatureResult] = {}
    for name, col in profile.columns.items():
        if col.get("role") == "target":
            continue
        results[name] = judge(name, col, cols.get(name), config, errors.get(name), memo)
    family = [r for r in results.values() if r.status == "pending"
              and (r.role == "feature" or config.include_prediction)]
    correct(family, config.multiple_testing)
    ids = {id(r) for r in family}
    others = [r for r in results.values() if r.status == "pending" and id(r) not in ids]
    correct(others, config.multiple_testing)
    for r in results.values():
        if r.status == "pending":
            decide(r, config)
    pred = None
    if profile.prediction and profile.prediction in results:
        pred = results.pop(profile.prediction)
    return results, pred


def judge(name: str, col: dict[str, Any], summ: dict[str, Any] | None, config: DriftConfig,
          error: str | None, memo: dict[str, Any] | None = None) -> FeatureResult:
    """Statistics of one column; status ``pending`` until the correction is applied."""
    kind = col["kind"]
    fkind = "categorical" if kind in ("categorical", "boolean") else "numeric"
    r = FeatureResult(name=name, kind=kind, role=col.get("role", "feature"))
    r.n_ref = int(col.get("n", 0))
    total_ref = col.get("n_total") or 0
    r.missing_ref = (col.get("n_missing", 0) / total_ref) if total_ref else 0.0
    spec = config.spec_for(name, fkind)
    if col.get("status") in ("skipped", "error"):
        r.status, r.reason = col["status"], col.get("reason", "")
        return r
    if spec.skip:
        r.status, r.reason = "skipped", "skipped by configuration"
        return r
    if error:
        r.status = "skipped" if error == "time column of the windows" else "error"
        r.reason = error
        return r
    if summ is None:
        r.status, r.reason = "skipped", "no rows in this window"
        return r
    r.n_cur = int(summ["n"])
    total = summ["n"] + summ["n_missing"] + summ.get("n_inf", 0)
    r.missing_cur = summ["n_missing"] / total if total else 0.0
    r.inf_cur = int(summ.get("n_inf", 0))
    if r.n_cur < MIN_COUNT or r.n_ref < MIN_COUNT:
        which = "current" if r.n_cur < MIN_COUNT else "reference"
        r.status = "skipped"
        n_min = min(r.n_cur, r.n_ref)
        r.reason = f"too few non-missing values in {which} (n={n_min} < {MIN_COUNT})"
        return r
    if memo is not None and name in memo:
        for field, value in memo[name].items():
            setattr(r, field, dict(value) if field == "stats" else value)
    else:
        try:
            _fill_stats(r, col, summ, fkind)
        except Exception as exc:
            r.status, r.reason = "error", f"statistics failed: {type(exc).__name__}: {exc}"
            return r
        if memo is not None:
            memo[name] = {f: getattr(r, f) for f in _STAT_FIELDS}
            memo[name]["stats"] = dict(r.stats)
    _fill_rule(r, col, spec, fkind, config.alpha)
    return r


def _fill_stats(r: FeatureResult, col: dict[str, Any], summ: dict[str, Any], fkind: str) -> None:
    if fkind == "numeric":
        s = st.numeric_stats(col, summ)
        grid = col["grid"]
        edges = [float(grid[k]) for k in col["edges_idx"]]
        labels = _interval_labels(edges)
        r.bins = BinData(labels=labels, edges=edges, ref_counts=s["ref_bins"].tolist(),
                         cur_counts=s["cur_bins"].tolist(), psi_contrib=s["psi_terms"].tolist())
        r.ecdf = st.ecdf_points(col, summ)
        keys: tuple[str, ...] = ("ks", "ks_p", "wasserstein", "wasserstein_raw", "psi", "js",
                                 "hellinger", "tvd", "chi2", "chi2_p", "mean_cur", "mean_shift")
    else:
        s = st.categorical_stats(col, summ)
        r.bins = BinData(labels=s["labels"], edges=None, ref_counts=s["ref_bins"].tolist(),
                         cur_counts=s["cur_bins"].tolist(), psi_contrib=s["psi_terms"].tolist())
        new = dict(sorted(summ["new"].items(), key=lambda kv: -kv[1])[:50])
        if summ["new_other"]:
            new["<other unseen>"] = summ["new_other"]
        r.new_categories = new
        r.vanished_categories = [k for k in col["counts"] if summ["counts"].get(k, 0) == 0]
        keys = ("psi", "js", "hellinger", "tvd", "chi2", "chi2_p", "unseen_share")
    r.stats = {k: _f(s.get(k)) for k in keys if k in s}
    r.stats["missing_shift"] = r.missing_cur - r.missing_ref


def _fill_rule(r: FeatureResult, col: dict[str, Any], spec: Any, fkind: str,
               alpha: float = 0.01) -> None:
    s = r.stats
    test = spec.test
    r.test = test
    if test == "ks":
        r.statistic, r.p_value = s["ks"], s["ks_p"]
    elif test == "chi2":
        r.statistic, r.p_value = s["chi2"], s["chi2_p"]
    elif test == "ks+chi2":
        r.statistic = s["ks"]
        r.p_value = min(1.0, 2 * min(_finite(s, "ks_p"), _finite(s, "chi2_p")))
    else:
        r.p_value = None
    r.effect_name = spec.effect
    effect = s.get(spec.effect)
    if effect is None:
        r.status = "error"
        r.reason = (f"effect {spec.effect!r} is not available for a {fkind} column"
                    if spec.effect not in s else f"effect {spec.effect!r} is not finite")
        return
    r.effect = effect
    thr = spec.threshold
    r.z = cal_.standardised(col, spec.effect, effect, r.n_cur)
    if thr == "auto":
        thr = cal_.auto_threshold(col, spec.effect, r.n_cur, alpha)
        if thr is None:
            r.status, r.reason = "error", f"no null distribution for effect {spec.effect!r}"
            return
    if thr == "calibrated":
        cal = col.get("calibrated", {}).get(spec.effect)
        if cal is None:
            r.status = "error"
            r.reason = ("threshold 'calibrated' but the profile has no calibrated value; fit "
                        "it with calibrate=True")
            return
        thr = cal
    r.threshold = threshold = float(thr)
    r.score = effect / threshold if threshold > 0 else (np.inf if effect > 0 else 0.0)
    r.status = "pending"


def _finite(stats: dict[str, float | None], key: str) -> float:
    """A statistic that is finite whenever its test ran (``ValueError`` otherwise)."""
    value = stats[key]
    if value is None:
        raise ValueError(f"statistic {key} is not finite")
    return value


def correct(results: list[FeatureResult], method: str) -> None:
    """Set ``p_adjusted`` over a family of results (Bonferroni, Holm, BH or none)."""
    tested = [r for r in results if r.p_value is not None]
    m = len(tested)
    if m == 0:
        return
    p = np.array([r.p_value for r in tested], dtype=float)
    if method == "bonferroni":
        adj = np.minimum(1.0, p * m)
    elif method == "holm":
        order = np.argsort(p)
        adj_sorted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
        adj = np.empty(m)
        adj[order] = adj_sorted
    elif method == "bh":
        order = np.argsort(p)
        ranked = p[order] * m / (np.arange(m) + 1)
        adj_sorted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
        adj = np.empty(m)
        adj[order] = adj_sorted
    else:
        adj = p
    for r, a in zip(tested, adj, strict=True):
        r.p_adjusted = float(a)


def decide(r: FeatureResult, config: DriftConfig) -> None:
    """Final status of a judged result."""
    significant = r.p_value is None or (r.p_adjusted if r.p_adjusted is not None
                                        else r.p_value) < config.alpha
    big = r.effect is not None and r.threshold is not None and r.effect >= r.threshold
    some = r.effect is not None and r.threshold is not None and \
        r.effect >= config.warn_ratio * r.threshold
    if significant and big:
        r.status, r.reason = "drift", "significant and effect above threshold"
    elif significant and some:
        r.status, r.reason = "warn", "significant, effect near threshold"
    else:
        r.status = "ok"
        r.reason = ("significant but negligible" if significant and r.p_value is not None
                    else "not significant" if r.p_value is not None else "effect below threshold")


def dataset_verdict(features: dict[str, FeatureResult], pred: FeatureResult | None,
                    config: DriftConfig) -> tuple[str, str]:
    """``(verdict, reason)`` of a set of judged features."""
    pool = list(features.values())
    if config.include_prediction and pred is not None:
        pool.append(pred)
    judged = [r for r in pool if r.status in JUDGED]
    if not judged:
        bad = "; ".join(f"{r.name}: {r.status} ({r.reason})" for r in pool[:5])
        return "error", f"no feature could be judged ({bad})"
    drifted = [r.name for r in judged if r.status == "drift"]
    warned = [r.name for r in judged if r.status == "warn"]
    share = len(drifted) / len(judged)
    if drifted and share > config.drift_share:
        return "drift", f"{len(drifted)} of {len(judged)} features drifted: {', '.join(drifted)}"
    if drifted or warned:
        names = drifted + warned
        return "warn", f"{len(names)} of {len(judged)} features near or over: {', '.join(names)}"
    return "ok", f"no drift in {len(judged)} features"


def rank(features: dict[str, FeatureResult], importances: dict[str, float] | None
         ) -> tuple[list[str], list[str] | None]:
    """Feature names by drift score (effect / threshold), and by score × importance."""
    def key(r: FeatureResult) -> tuple[int, float]:
        sev = {"drift": 3, "warn": 2, "ok": 1}.get(r.status, 0)
        return (sev if sev == 0 else 1, r.score if r.score is not None else -1.0)

    ranking = [r.name for r in sorted(features.values(), key=key, reverse=True)]
    if not importances:
        return ranking, None
    for r in features.values():
        r.importance = importances.get(r.name)
    by_imp = sorted(features.values(), key=lambda r: (r.score or 0.0) * (r.importance or 0.0),
                    reverse=True)
    return ranking, [r.name for r in by_imp]


def _interval_labels(edges: list[float]) -> list[str]:
    pts = ["-inf", *[f"{e:.4g}" for e in edges], "inf"]
    return [f"({a}, {b}]" if b != "inf" else f"({a}, {b})" for a, b in itertools.pairwise(pts)]


def _f(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else None
