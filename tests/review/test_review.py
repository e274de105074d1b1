from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench import review
from workbench.core.errors import WorkbenchError
from workbench.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


def make_run(project, kind: str, records: list[dict], name: str) -> int:
    store = Store.for_project(project)
    with store.record(kind, name=name) as out:
        d = project.runs_dir / str(out["run_id"])
        d.mkdir(parents=True)
        path = d / "examples.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        out["examples"] = str(path)
    return out["run_id"]


@pytest.fixture
def two_runs(project):
    base = [{"id": str(i), "prompt": f"q{i}", "prediction": p, "reference": "the answer",
             "topic": t, "rougeL": s} for i, (p, t, s) in enumerate(
        [("the answer", "billing", 1.0), ("no idea", "setup", 0.0),
         ("<script>alert(1)</script>", "setup", 0.1)])]
    tuned = [dict(r) for r in base]
    tuned[1].update(prediction="the answer is here", rougeL=0.8)
    tuned[2].update(prediction="the answer", rougeL=1.0)
    return make_run(project, "evaluate", base, "base"), make_run(project, "evaluate", tuned, "tuned")


def test_pair_runs_marks_changes_and_score_deltas(project, two_runs):
    pairs = review.pair_runs(project, *two_runs)
    assert list(pairs["changed"]) == [False, True, True]
    assert pairs.loc[1, "rougeL_change"] == pytest.approx(0.8)
    assert set(pairs["topic"]) == {"billing", "setup"}


def test_word_diff_escapes_everything():
    a, b = review.word_diff_html("<script>alert(1)</script> ok", "fine ok")
    assert "<script>" not in a and "&lt;script&gt;" in a
    assert a.startswith("<del>") and b.startswith("<ins>fine</ins>")


def test_verdicts_are_stored_replaced_and_counted(project, two_runs):
    a, b = two_runs
    review.record_verdict(project, run_a=a, run_b=b, item="1", verdict="b_better", reviewer="ana")
    review.record_verdict(project, run_a=a, run_b=b, item="1", verdict="tie", reviewer="ana")
    review.record_verdict(project, run_a=a, run_b=b, item="1", verdict="tie", reviewer="bo")
    review.record_verdict(project, run_a=a, run_b=b, item="2", verdict="b_better", reviewer="ana")
    review.record_verdict(project, run_a=a, run_b=b, item="2", verdict="a_better", reviewer="bo",
                          note="A is safer")
    s = review.summarize(project, a, b)
    assert s.counts == {"a_better": 1, "b_better": 1, "tie": 2, "flag": 0}
    assert s.reviewers == ["ana", "bo"] and s.items == 2 and s.overlap_items == 2
    assert s.agreement == 0.5
    # kappa by hand: po = 1/2; ana {tie, b}, bo {tie, a} -> pe = (1*1)/4 = 1/4 -> (0.5-0.25)/0.75
    assert s.kappa == pytest.approx(1 / 3)
    csv_text = review.export_csv(project, a, b)
    assert csv_text.splitlines()[0] == "run_a,run_b,item,verdict,reviewer,note,time"
    assert "A is safer" in csv_text and len(csv_text.splitlines()) == 5


@pytest.mark.parametrize("kwargs, match", [
    ({"verdict": "better"}, "verdict 'better' is not one of a_better, b_better, tie, flag"),
    ({"reviewer": "  "}, "reviewer: a name is required"),
])
def test_bad_verdicts(project, two_runs, kwargs, match):
    args = {"run_a": two_runs[0], "run_b": two_runs[1], "item": "1", "verdict": "tie",
            "reviewer": "ana", **kwargs}
    with pytest.raises(WorkbenchError, match=match):
        review.record_verdict(project, **args)


def test_counterfactual_pairs(project):
    recs = []
    for ctx in range(3):
        for g, out in (("woman", f"she {ctx}"), ("man", f"he {ctx}")):
            recs.append({"id": f"{ctx}-{g}", "prompt": f"p {g}", "output": out, "group": g,
                         "phrase": g, "template": "t", "context": f"c{ctx}", "sentiment": 0.1})
    rid = make_run(project, "probe", recs, "probe")
    pairs = review.counterfactual_pairs(project, rid, "woman", "man")
    assert len(pairs) == 3 and pairs["changed"].all()
    assert pairs.loc[0, "text_a"] == "she 0" and pairs.loc[0, "text_b"] == "he 0"
    with pytest.raises(WorkbenchError, match="has no group 'x'; it has: man, woman"):
        review.counterfactual_pairs(project, rid, "woman", "x")


def test_review_page_records_and_survives_rerun(project, two_runs, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    at.text_input(key="reviewer").input("ana").run()
    at.button(key="verdict_b_better").click().run()
    assert not at.exception
    assert "Recorded 'B better'" in at.success[0].value
    # the next item follows; going back shows the verdict already given
    assert at.number_input(key="item_pos").value == 2
    at.number_input(key="item_pos").set_value(1).run()
    assert any("Your verdict on this item: **B better**" in c.value for c in at.caption)
    assert at.button(key="verdict_b_better").proto.type == "primary"
    at.checkbox(key="only_todo").check().run()
    assert "1 of 3 items match the filters." in [c.value for c in at.caption]
    # a fresh session (a browser reload) sees the stored verdict
    at2 = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at2.run()
    at2.switch_page("pages/review.py").run()
    table = next(d.value for d in at2.dataframe if "verdict" in d.value.columns)
    assert list(table["verdict"]) == ["b_better"] and list(table["reviewer"]) == ["ana"]


def test_reports_page_lists_and_opens(project, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from workbench.core.digest import signature
    from workbench.reports import render, write_report

    html_text = render("base.html", title="<b>t</b>")
    write_report(project, html_text, None, kind="check", title="demo check",
                 signature_text=signature(data="x@1"))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception
    assert at.dataframe[0].value["title"].tolist() == ["demo check"]
    assert "&lt;b&gt;t&lt;/b&gt;" in html_text


@pytest.mark.slow
def test_next_comparison_report_includes_human_verdicts(project, tmp_path):
    """Verdicts recorded on two evaluation runs appear in the comparison built from them."""
    import pandas as pd

    from workbench.evaluation import compare, evaluate_predictions
    from workbench.reports import render_compare_html, write_compare_html

    refs = ["reset the station", "it ships today", "light rain later", "pay in the app"]
    pd.DataFrame({"id": list("abcd"), "prediction": ["no", "it ships", "rain", "app"],
                  "reference": refs}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"id": list("abcd"), "prediction": refs,
                  "reference": refs}).to_csv(tmp_path / "b.csv", index=False)
    ra = evaluate_predictions(project, tmp_path / "a.csv", metrics="rouge", n_resamples=1000)
    rb = evaluate_predictions(project, tmp_path / "b.csv", metrics="rouge", n_resamples=1000)
    before = render_compare_html(compare(project, f"run:{ra.run_id}", f"run:{rb.run_id}",
                                         metrics="rouge"))
    assert "Human review" not in before
    review.record_verdict(project, run_a=ra.run_id, run_b=rb.run_id, item="a",
                          verdict="b_better", reviewer="ana", note="<b>much</b> better")
    review.record_verdict(project, run_a=rb.run_id, run_b=ra.run_id, item="b",
                          verdict="b_better", reviewer="bo")  # recorded the other way round
    cmp = compare(project, f"run:{ra.run_id}", f"run:{rb.run_id}", metrics="rouge")
    html_text = write_compare_html(project, cmp).read_text(encoding="utf-8")
    assert cmp.verdicts["counts"] == {"a_better": 1, "b_better": 1, "tie": 0, "flag": 0}
    assert "Human review" in html_text and "&lt;b&gt;much&lt;/b&gt; better" in html_text
