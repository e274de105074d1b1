"""The Data quality page: run a suite, see failing examples, clean, see the trend."""

from __future__ import annotations

import html
import re
import shutil

import pytest

from tests.conftest import ROOT


def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the app escapes untrusted text)."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
    return html.unescape(text).replace("  \n", "\n")


@pytest.mark.slow
def test_data_quality_page_runs_cleans_and_shows_trend(project, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from workbench.data import import_dataset

    shutil.copy(ROOT / "checks" / "support_qa.yaml", project.checks_dir)
    dv, _ = import_dataset(project, str(ROOT / "workbench" / "demo" / "support_qa.csv"),
                           name="support_raw")
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception
    assert "No checks of" in " ".join(c.value for c in at.caption)
    stale = project.state / "data_docs" / "index.html"  # an earlier run's Data Docs
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("<html>docs of an earlier run</html>")
    at.button(key="run_checks").click().run()
    assert not at.exception, [e.value for e in at.exception]
    from workbench.checks import check_counts
    from workbench.core.store import Store

    run = Store.for_project(project).list_runs("check")[0]
    counts = check_counts(run.outputs)  # what the CLI and the report count
    assert (counts.failed, counts.rules) == (11, 18)
    assert plain(at.error[0].value).startswith(
        f"FAILED: 11 of 18 rules ({counts.passed} passed) on {dv.ref} ({dv.rows} rows) · "
        f"run {run.id},")
    failing = [plain(e.label) for e in at.expander if e.proto.icon == ":material/cancel:"]
    assert len(failing) == 11
    rows = {(r["expectation"], r["column"]): [str(e["row"]) for e in r["examples"][:5]]
            for r in run.outputs["result"]["results"] if not r["success"]}
    pii = next(x for x in failing if "expect_column_values_to_not_contain_pii (answer)" in x)
    assert pii.split(": rows ")[1].removesuffix(" ...").split(", ") == \
        rows[("expect_column_values_to_not_contain_pii", "answer")]
    assert at.dataframe  # failing examples, as escaped text
    assert [r["kind"] for r in Store.for_project(project).list_reports()] == ["check"]
    # Data Docs were not asked for: none built, none linked (the stale file is not this run's)
    assert "data_docs" not in run.outputs and stale.read_text().endswith("earlier run</html>")
    report_html = open(Store.for_project(project).list_reports()[0]["path"]).read()
    assert "Data Docs" not in report_html
    assert not any("Data Docs of run" in c.value for c in at.caption)
    at.button(key="clean").click().run()
    assert not at.exception
    assert f"{dv.rows} → {dv.rows - 22} rows, stored as support_clean@" in plain(at.success[0].value)
    assert [m.value for m in at.metric][:2] == [str(dv.rows), str(dv.rows - 22)]
    # the cleaned version is now selected: one press proves it clean, and the trend shows both
    assert at.selectbox(key="dataset").value.startswith("support_clean@")  # its own name
    at.checkbox(key="data_docs").check().run()  # this run builds them, and only it links them
    at.button(key="run_checks").click().run()
    assert not at.exception
    clean_run = Store.for_project(project).list_runs("check")[0]
    assert clean_run.outputs["data_docs"] == str(stale)
    assert "earlier run" not in stale.read_text()  # rebuilt by Great Expectations
    assert f"Data Docs of run {clean_run.id}: {stale}" in " ".join(
        plain(c.value).replace("`", "") for c in at.caption)
    assert plain(at.success[0].value).startswith("PASSED: all 18 rules")
    charts = at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    assert len(charts) == 2  # rules failed per check, and a rule x check heatmap
    import json

    heat = json.loads(charts[1].proto.spec)  # 18 rules: every row labelled, none squashed
    assert heat["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert heat["height"] >= 20 * 18 + 100  # rows of 20 px or more, plus legend and x axis
    # the trend covers the raw data and its cleaned copy: two checks
    assert "2 checks of support_clean" in " ".join(plain(c.value) for c in at.caption)


def test_a_check_stopped_by_the_app_is_cancelled_not_failed(project):
    """Pressing Run checks again mid-run makes Streamlit stop the script with its
    StopException (a BaseException) inside the check: that run is cancelled, not a failure
    in the check history (it was "error (failed)", with the error "StopException: ")."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from workbench.checks import check_dataset, check_history
    from workbench.core.store import Store
    from workbench.data import import_dataset

    shutil.copy(ROOT / "checks" / "support_qa.yaml", project.checks_dir)
    dv, _ = import_dataset(project, str(ROOT / "workbench" / "demo" / "support_qa.csv"),
                           name="support_raw")

    def stopped(fraction, message):
        raise StopException()

    with pytest.raises(StopException):
        check_dataset(project, dv.ref, project.checks_dir / "support_qa.yaml", progress=stopped)
    run = Store.for_project(project).list_runs("check")[0]
    assert (run.status, run.error) == ("cancelled", "interrupted (StopException)")
    assert [(h.run_id, h.status) for h in check_history(project)] == [(run.id, "cancelled")]
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "workbench", "--project", str(project.root),
                          "check", "history"], capture_output=True, text=True, check=True).stdout
    assert " cancelled " in out and "error" not in out, out
    from streamlit.testing.v1 import AppTest  # the page's latest result is not the stopped run

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "No checks of" in " ".join(c.value for c in at.caption)
