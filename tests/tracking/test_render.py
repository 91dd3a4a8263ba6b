"""The run card and runs table: static HTML + text/plain, escaped, with deltas and links."""

from __future__ import annotations

from nbmlops.tracking.ranking import higher_is_better, primary_metric
from nbmlops.tracking.render import render_run_card, render_runs, runs_chart
from nbmlops.tracking.results import CellRunResult, RunsTable


def _result(**kw):
    base = dict(run_id="abc123", status="FINISHED", experiment="fraud",
                tracking_uri="sqlite:///x.db", run_name="baseline", experiment_id="1",
                params={"C": "0.5", "note": "<script>alert(1)</script>"},
                metrics={"auc": 0.91, "loss": 0.20}, duration=1.5,
                previous={"run_id": "p", "run_name": "prev", "metrics": {"auc": 0.89,
                                                                          "loss": 0.25}},
                best={"run_id": "b", "run_name": "champ", "metrics": {"auc": 0.95,
                                                                       "loss": 0.1}},
                best_metric="auc")
    base.update(kw)
    return CellRunResult(**base)


def test_card_is_plain_html_with_text_fallback_and_escaping():
    bundle = render_run_card(_result())
    assert set(bundle) == {"text/html", "text/plain"}
    html = bundle["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "javascript" not in html.lower()
    assert "baseline" in html and "FINISHED" in html and "abc123" in html
    text = bundle["text/plain"]
    assert "auc = 0.91" in text and "+0.02" in text and "-0.04" in text


def test_deltas_are_coloured_by_direction():
    html = render_run_card(_result())["text/html"]
    # auc went up vs previous (good, green); loss went down vs previous (good, green)
    assert html.count("#1a7f37") >= 3  # FINISHED badge + two improvements
    assert "#cf222e" in html  # worse than the best run
    assert higher_is_better("auc") and not higher_is_better("val_loss")
    assert primary_metric({"training_score": 1.0, "auc": 0.5}) == "auc"


def test_link_to_ui_only_when_running():
    assert "href" not in render_run_card(_result())["text/html"]
    html = render_run_card(_result(ui_url="http://127.0.0.1:5999"))["text/html"]
    assert 'href="http://127.0.0.1:5999/#/experiments/1/runs/abc123"' in html


def test_failed_and_spooled_cards():
    html = render_run_card(_result(status="FAILED", error=ValueError("bad <x>"),
                                   spooled=True, previous=None, best=None))["text/html"]
    assert "FAILED" in html and "bad &lt;x&gt;" in html and "%mlops sync" in html


def test_runs_table_and_chart():
    rows = [
        {"run_id": f"r{i}", "run_name": f"c{i}", "status": "FINISHED", "start": "2026-01-01",
         "duration_s": 1.0, "params": {"C": str(c)}, "metrics": {"acc": acc}}
        for i, (c, acc) in enumerate([(0.1, 0.7), (1.0, 0.9)])
    ]
    table = RunsTable(experiment="fraud", rows=rows, metric="acc", param="C",
                      ui_url="http://ui", experiment_id="3")
    bundle = render_runs(table)
    assert "c1" in bundle["text/html"] and 'href="http://ui/#/experiments/3/runs/r1"' in (
        bundle["text/html"])
    assert "acc" in bundle["text/plain"]
    fig = runs_chart(table, "acc", "C")
    assert list(fig.data[0].x) == [0.1, 1.0] and fig.layout.xaxis.title.text == "C"


def test_runs_columns_put_the_users_own_first_and_autolog_behind_all():
    rows = [{"run_id": "r1", "run_name": "a-very-long-run-name", "status": "FINISHED",
             "start": "s", "duration_s": 1.0,
             "params": {"seed": "0", "C": "0.5", "max_iter": "100", "tol": "0.0001"},
             "metrics": {"training_score": 0.9, "auc": 0.8, "loss": 0.3},
             "own_params": ["seed", "C"], "own_metrics": ["loss", "auc"]}]
    table = RunsTable(experiment="e", rows=rows, metric="auc")
    text = str(table)
    header = text.splitlines()[1].split()
    assert header == ["run", "status", "auc", "loss", "seed", "C", "duration_s"]
    assert "3 autologged column(s) hidden: --all shows them" in text
    table.show_all = True
    header = str(table).splitlines()[1].split()
    assert header[2:5] == ["auc", "loss", "training_score"]
    assert header[-3:] == ["max_iter", "tol", "duration_s"]
    html = table._repr_mimebundle_()["text/html"]
    assert "white-space:nowrap" in html and "overflow-x:auto" in html


def test_card_lists_the_primary_metric_first_with_its_configured_direction():
    from nbmlops.tracking.render import card_rows

    res = _result(best_metric="loss", best_higher=False)
    assert [r[0] for r in card_rows(res)] == ["loss", "auc"]
    html = render_run_card(res)["text/html"]
    # loss 0.20 vs the best run's 0.1: worse under min:loss (red)
    assert "#cf222e" in html
