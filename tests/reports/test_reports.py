"""Reports say what happened: no "nan" notes, p-values floored at "< 0.001", one chart axis
per metric scale, the check headline counted once, comparison files named by both runs."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from workbench import review
from workbench.checks import CheckReport, CheckResult, DatasetRef, check_counts
from workbench.core.charts import metric_scale, svg_metric_charts
from workbench.core.output import fmt_p
from workbench.core.store import Store
from workbench.evaluation import CompareReport, EvalReport
from workbench.reports import (
    render_check_html,
    render_compare_html,
    render_html,
    report_path,
    write_compare_html,
)


def _run(project, kind: str = "evaluate", name: str = "r") -> int:
    store = Store.for_project(project)
    with store.record(kind, name=name) as out:
        folder = project.runs_dir / str(out["run_id"])
        folder.mkdir(parents=True)
        path = folder / "examples.jsonl"
        path.write_text(json.dumps({"id": "1", "prediction": "x", "reference": "y"}) + "\n",
                        encoding="utf-8")
        out["examples"] = str(path)
    return out["run_id"]


def _diff(a, b, p):
    return {"a": a, "b": b, "diff": b - a, "ci": [b - a - 0.1, b - a + 0.1], "p_value": p}


def _compare(a_run=None, b_run=None, p=(0.0004, 0.0312)) -> CompareReport:
    return CompareReport(a=f"run:{a_run}", b=f"run:{b_run}", n=30,
                         differences={"bleu": _diff(12.0, 14.5, p[0]),
                                      "rougeL": _diff(0.30, 0.37, p[1])},
                         signature="sig", a_run=a_run, b_run=b_run)


# ------------------------------------------------------------------------- p-values
@pytest.mark.parametrize(("p", "shown"), [
    (0.0, "< 0.001"), (0.000999, "< 0.001"), (0.0004, "< 0.001"), (0.001, "0.001"),
    (0.0312, "0.031"), (1.0, "1.000"), (None, "—"), (float("nan"), "—"),
])
def test_one_p_value_formatter(p, shown):
    assert fmt_p(p) == shown


def test_compare_report_floors_small_p_values():
    html = render_compare_html(_compare(1, 2))
    assert "&lt; 0.001" in html and "0.031" in html
    assert "0.0004" not in html and "0.0000" not in html


def test_no_template_formats_a_p_value_as_a_plain_number():
    """Every p-value in every template goes through ``pvalue`` (``fmt_p``), never ``fmt``."""
    from importlib.resources import files

    found = []
    for tpl in files("workbench.reports").joinpath("templates").iterdir():
        text = tpl.read_text(encoding="utf-8") if tpl.name.endswith(".html") else ""
        found += [f"{tpl.name}: {m}" for m in re.findall(
            r"{{[^}]*\bp(?:_value|_adjusted|_equivalent|_adj)\b[^}|]*\|\s*(?!pvalue)\w+[^}]*}}",
            text)]
    assert not found, found


# ------------------------------------------------------------------- chart scales
@pytest.mark.parametrize(("metric", "scale"), [
    ("bleu", "0-100"), ("BLEU", "0-100"), ("chrf", "0-100"), ("rougeL", "0-1"),
    ("rouge1", "0-1"), ("accuracy", "0-1"), ("macro_f1", "0-1"),
])
def test_metric_scales(metric, scale):
    assert metric_scale(metric) == scale


def _charts(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)


def test_bleu_and_rouge_never_share_an_axis():
    charts = _charts(str(svg_metric_charts(["bleu", "rougeL", "rouge1"], [14.0, 0.4, 0.5],
                                           [(12.0, 16.0), (0.3, 0.5), (0.4, 0.6)])))
    assert len(charts) == 2
    bleu, rouge = charts
    assert "bleu (0-100)" in bleu and "rougeL" not in bleu
    assert "rougeL, rouge1 (0-1)" in rouge and "bleu" not in rouge
    # the ROUGE axis spans ROUGE's values, not BLEU's
    ticks = [float(t) for t in re.findall(r'class="ax">(-?[\d.]+)</text>', rouge)]
    assert max(ticks) < 1.0


def test_evaluation_and_comparison_reports_chart_each_scale_apart():
    ev = EvalReport(n=3, metrics={"bleu": 20.0, "rougeL": 0.4, "accuracy": 0.5},
                    ci={"bleu": [10.0, 30.0], "rougeL": [0.3, 0.5], "accuracy": [0.2, 0.8]},
                    slices={}, signature="sig")
    for html in (render_html(ev), render_compare_html(_compare(1, 2))):
        charts = _charts(html)
        assert len(charts) == 2, html
        assert "(0-100)" in charts[0] and "rougeL" not in charts[0]
        assert "(0-1)" in charts[1] and "bleu" not in charts[1]


# ------------------------------------------------------------------------ notes
@pytest.mark.parametrize("note", [None, "", "   ", float("nan")])
def test_empty_notes_never_print_nan(project, note):
    a, b = _run(project, name="a"), _run(project, name="b")
    review.record_verdict(project, run_a=a, run_b=b, item="1", verdict="tie", reviewer="ana",
                          note=note)
    review.record_verdict(project, run_a=a, run_b=b, item="2", verdict="a_better",
                          reviewer="bo", note="A is safer")
    summary = review.human_review(project, a, b)
    assert summary["notes"] == [{"item": "2", "reviewer": "bo", "verdict": "A better",
                                 "note": "A is safer"}]
    frame = review.verdicts(project, a, b)
    assert [n if isinstance(n, str) else None for n in frame["note"]] == [None, "A is safer"]
    assert "nan" not in review.export_csv(project, a, b)
    path = write_compare_html(project, _compare(a, b))
    html = path.read_text(encoding="utf-8")
    assert "A is safer" in html and "nan" not in html.lower().replace("nano", "")


# ---------------------------------------------------------------- check headline
def _result(i: int, success: bool, error: str | None = None) -> CheckResult:
    return CheckResult(expectation="expect_column_values_to_not_be_null", column=f"c{i}",
                       success=success, unexpected_count=0 if success else 2,
                       unexpected_percent=0.0 if success else 20.0, examples=[], index=i,
                       error=error)


def test_check_headline_counts_are_computed_once():
    report = CheckReport(success=False, suite="qa", dataset=DatasetRef(name="d", version="v", rows=10),
                         results=[_result(0, True), _result(1, False), _result(2, False, "no column")])
    counts = check_counts(report)
    assert (counts.rules, counts.passed, counts.failed, counts.errored) == (3, 1, 2, 1)
    assert counts.headline == "FAILED: 2 of 3 rules"
    # the stored run's outputs (what the app reads) count the same
    stored = {"result": report.to_dict(), "details": report.details()}
    assert check_counts(stored) == counts
    assert check_counts(report.to_dict()).failed == counts.failed
    html = render_check_html(report, run_id=7)
    assert "2 of 3 rules failed, 1 passed" in html
    assert check_counts([{"success": True}] * 4).headline == "PASSED: all 4 rules"


@pytest.mark.slow
def test_check_report_and_store_agree_on_a_real_run(project):
    """A real Great Expectations run: the HTML headline and the stored run count alike."""
    from workbench.checks import check_dataset, check_history
    from workbench.data import save_version
    from workbench.reports import write_check_html

    save_version(project, pd.DataFrame({"id": range(6), "a": [1, None, 3, 4, None, 6],
                                        "b": list("xyzxyz")}), name="t", source="test")
    suite = project.root / "checks" / "t.yaml"
    suite.write_text("name: t\nid_column: id\nexpectations:\n"
                     "  - {type: expect_column_values_to_not_be_null, column: a}\n"
                     "  - {type: expect_column_values_to_not_be_null, column: b}\n"
                     "  - {type: expect_column_values_to_be_unique, column: b}\n",
                     encoding="utf-8")
    report, run_id = check_dataset(project, "t", suite, data_docs=False)
    html = write_check_html(project, report, None, run_id=run_id).read_text(encoding="utf-8")
    stored = check_counts(Store.for_project(project).get_run(run_id).outputs)
    entry = check_history(project, suite="t")[0]
    assert stored == check_counts(report)
    assert (stored.rules, stored.failed) == (3, 2) == (stored.rules, len(entry.failed_rules))
    assert f"{stored.failed} of {stored.rules} rules failed" in html


def test_a_missing_failing_value_reads_missing_not_nan_or_null(project):
    """A not-null rule's failing rows have no value: the report says so in words."""
    from workbench.checks import check_dataset
    from workbench.data import save_version
    from workbench.reports import write_check_html

    save_version(project, pd.DataFrame({"id": ["q1", "q2", "q3"], "a": [1.5, None, 2.0],
                                        "b": ["x", None, "z"]}), name="m", source="test")
    suite = project.root / "checks" / "m.yaml"
    suite.write_text("name: m\nid_column: id\nexpectations:\n"
                     "  - {type: expect_column_values_to_not_be_null, column: a}\n"
                     "  - {type: expect_column_values_to_not_be_null, column: b}\n",
                     encoding="utf-8")
    report, run_id = check_dataset(project, "m", suite, data_docs=False)
    html = write_check_html(project, report, None, run_id=run_id).read_text(encoding="utf-8")
    table = html[html.index("Failing examples"):]
    assert table.count('<td>q2</td><td><span class="text">(missing)</span>') == 2, table
    assert not re.search(r">\s*(NaN|nan|null|None)\s*<", table), table


# ------------------------------------------------------------------- file names
def test_comparison_reports_name_both_runs(project):
    a, b = _run(project, name="a"), _run(project, name="b")
    first = write_compare_html(project, _compare(a, b))
    second = write_compare_html(project, _compare(a, b))
    assert first.name == f"compare-run{a}-vs-run{b}.html"
    assert second.name == f"compare-run{a}-vs-run{b}-2.html"  # the first is kept
    assert first.exists()
    listed = {r["path"] for r in Store.for_project(project).list_reports("compare")}
    assert {str(first.resolve()), str(second.resolve())} <= listed
    files = report_path(project, "compare", runs=("a.csv", "b.jsonl"))
    assert files.name == "compare-a-vs-b.html"
    assert report_path(project, "bias-compare", runs=(10, "run:11")).name == \
        "bias-compare-run10-vs-run11.html"
    assert report_path(project, "check", run_id=3).name.startswith("check-3-")
