"""Profiles, reports, windows, performance and re-derivation without raw data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nbmlops.drift import DriftConfig, DriftReport, ReferenceProfile, fit_reference
from nbmlops.exceptions import ConfigError

from .conftest import assert_reports_equal


@pytest.fixture(scope="module")
def report(profile, cur_df):
    return profile.compare(cur_df, time_column="ts", window="1D")


def test_windows_find_the_shift(report: DriftReport) -> None:
    assert report.verdict == "drift"
    assert report.drifted[0] == "amount"
    assert [w.key[:10] for w in report.windows] == [f"2026-02-0{d}" for d in range(1, 6)]
    assert [w.verdict for w in report.windows[:3]] == ["ok", "ok", "ok"]
    assert all("amount" in w.drifted for w in report.windows[3:])
    assert sum(w.n_rows for w in report.windows) == report.n_cur == 5 * 1440
    assert report.period == ("2026-02-01T00:00:00+00:00", "2026-02-06T00:00:00+00:00")


def test_performance_and_prediction(report: DriftReport) -> None:
    ref, cur = report.performance["reference"], report.performance["current"]
    for key in ("accuracy", "precision", "recall", "fpr", "auc"):
        assert 0 <= ref[key] <= 1 and 0 <= cur[key] <= 1
    assert cur["auc"] == pytest.approx(ref["auc"], abs=0.03)
    assert report.prediction is not None and report.prediction.name == "score"
    assert "score" not in report.features and "y" not in report.features
    assert report.windows[0].performance["n"] == 1440


def test_auc_matches_sklearn(ref_df: pd.DataFrame, profile: ReferenceProfile) -> None:
    from sklearn.metrics import roc_auc_score

    assert profile.performance["metrics"]["auc"] == pytest.approx(
        roc_auc_score(ref_df["y"], ref_df["score"]), abs=2e-3)


def test_json_roundtrip_and_rederive(report: DriftReport, tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    report.to_json(path)
    back = DriftReport.from_json(path)
    assert_reports_equal(report, back)
    assert_reports_equal(report.with_config(report.config), back.with_config(back.config))
    strict = back.with_config({"numeric": {"threshold": 5.0}})
    assert strict.features["amount"].status != "drift"
    assert strict.features["amount"].stats == back.features["amount"].stats
    per_feature = back.with_config(DriftConfig().with_feature("amount", effect="psi",
                                                              threshold=0.01))
    assert per_feature.features["amount"].effect_name == "psi"


def test_select_windows_merges_summaries(report: DriftReport, profile: ReferenceProfile,
                                         cur_df: pd.DataFrame) -> None:
    early = [w.key for w in report.windows[:3]]
    sub = report.select_windows(early)
    assert sub.verdict == "ok" and sub.n_cur == 3 * 1440
    direct = profile.compare(cur_df[cur_df["ts"] < pd.Timestamp("2026-02-04", tz="UTC")])
    for name, f in direct.features.items():
        assert sub.features[name].stats == pytest.approx(f.stats, rel=1e-9, abs=1e-12)


def test_row_count_windows(profile: ReferenceProfile, cur_df: pd.DataFrame) -> None:
    rep = profile.compare(cur_df, window=2000, batch_size=777)
    assert [w.n_rows for w in rep.windows] == [2000, 2000, 2000, 1200]
    assert rep.windows[0].key == "rows 0-1999"


def test_profile_save_load_same_report(profile: ReferenceProfile, cur_df: pd.DataFrame,
                                       tmp_path: Path) -> None:
    path = profile.save(tmp_path / "ref.json")
    assert path.stat().st_size < 200_000
    loaded = ReferenceProfile.load(path)
    assert_reports_equal(profile.compare(cur_df), loaded.compare(cur_df))
    assert loaded.digest() == profile.digest()


def test_labels_joined_later(ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> None:
    prof = fit_reference(ref_df.assign(id=range(len(ref_df))), target="y", prediction="score",
                         exclude=["id", "ts"])
    cur = cur_df.assign(id=range(len(cur_df)))
    labels = cur[["id", "y"]].sample(frac=1.0, random_state=0)
    rep = prof.compare(cur.drop(columns=["y"]), labels=labels, id_column="id")
    assert rep.performance["current"]["n"] == len(cur)
    no_labels = prof.compare(cur.drop(columns=["y"]))
    assert no_labels.performance["current"] is None


def test_importance_ranking(ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> None:
    prof = fit_reference(ref_df, time_column="ts",
                         importances={"amount": 0.0, "age": 1.0, "country": 0.5})
    rep = prof.compare(cur_df)
    # by effect / threshold, largest first (amount drifts; the others are ok, ranked by score;
    # thresholds are calibrated to each column and window size by default)
    assert rep.ranking[:2] == ["amount", "age"]
    assert set(rep.ranking) == {"amount", "age", "score", "n_items", "country", "is_new", "y"}
    scores = [rep.features[n].score for n in rep.ranking]
    assert scores == sorted(scores, reverse=True)
    # by score x importance: age (x1), country (x0.5), then the zero products in column order
    # (amount has importance 0, the rest none)
    assert rep.ranking_importance == ["age", "country", "amount", "n_items", "is_new", "y",
                                      "score"]
    assert rep.features["age"].score > 0.5 * rep.features["country"].score > 0
    assert rep.features["age"].importance == 1.0 and rep.features["amount"].importance == 0.0
    assert rep.features["y"].importance is None


def test_calibrated_thresholds(ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> None:
    prof = fit_reference(ref_df, time_column="ts", calibrate=True, n_chunks=5)
    cfg = DriftConfig.from_dict({"numeric": {"threshold": "calibrated"},
                                 "categorical": {"threshold": "calibrated"}})
    rep = prof.compare(cur_df, config=cfg)
    assert rep.features["amount"].status == "drift"
    assert rep.features["age"].threshold == prof.columns["age"]["calibrated"]["wasserstein"]
    plain = fit_reference(ref_df, time_column="ts").compare(cur_df, config=cfg)
    assert plain.features["age"].status == "error"
    assert "calibrate=True" in plain.features["age"].reason


def test_renderings(report: DriftReport, tmp_path: Path) -> None:
    text = report.summary()
    assert "DRIFT" in text and "amount" in text
    md = report.to_markdown()
    assert md.startswith("## Drift report: **DRIFT**") and "| amount |" in md
    page = report.to_html(tmp_path / "r.html")
    assert (tmp_path / "r.html").stat().st_size < 5_000_000
    assert page.count("plotly.js v") <= 2 and page.count("<script type='text/javascript'>") == 1
    assert "drift per window" in page
    bundle = report._repr_mimebundle_()
    assert "text/plain" in bundle


def test_config_yaml_roundtrip_and_errors(tmp_path: Path) -> None:
    cfg = DriftConfig(alpha=0.05, multiple_testing="holm").with_feature("amount", threshold=0.3)
    path = cfg.save(tmp_path / "drift.yaml")
    back = DriftConfig.load(path)
    assert back == cfg and back.digest() == cfg.digest()
    assert back.spec_for("amount", "numeric").threshold == 0.3
    (tmp_path / "bad.yaml").write_text("alpah: 0.1\n")
    with pytest.raises(ConfigError, match="alpah"):
        DriftConfig.load(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="multiple_testing"):
        DriftConfig(multiple_testing="magic")
    with pytest.raises(ConfigError, match="threshold"):
        DriftConfig.from_dict({"features": {"a": {"threshold": "big"}}})


@pytest.mark.parametrize("method", ["bonferroni", "holm", "bh", "none"])
def test_multiple_testing_methods(report: DriftReport, method: str) -> None:
    rep = report.with_config({"multiple_testing": method})
    ps = {n: f.p_adjusted for n, f in rep.features.items() if f.p_adjusted is not None}
    raw = {n: f.p_value for n, f in rep.features.items() if f.p_value is not None}
    assert all(ps[n] >= raw[n] - 1e-15 for n in ps)
    if method == "none":
        assert ps == raw
    json.dumps(rep.to_dict())


def test_time_column_is_never_a_feature(ref_df: pd.DataFrame, cur_df: pd.DataFrame) -> None:
    prof = fit_reference(ref_df)  # ts profiled as a datetime feature
    rep = prof.compare(cur_df, time_column="ts", window="2D")
    assert rep.features["ts"].status == "skipped"
    assert rep.features["ts"].reason == "time column of the windows"
    assert all(w.features["ts"].status == "skipped" for w in rep.windows)
    assert prof.compare(cur_df).features["ts"].status == "drift"  # a later period, as a feature
