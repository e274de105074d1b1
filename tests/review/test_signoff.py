"""Sign-off of before/after reports: stored with what it covers, shown, bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import run_cli
from tests.app.test_bias_probes_page import plain
from tests.probes.test_probes import _outputs

from workbench.core.store import Store


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """A project with two probe runs of outputs files and their before/after report."""
    from workbench.core.project import init_project
    from workbench.probes import compare_results, run_probe
    from workbench.reports import write_compare_report, write_probe_report

    tmp = tmp_path_factory.mktemp("signoff")
    project = init_project(tmp / "proj")
    (tmp / "b").mkdir()
    (tmp / "a").mkdir()
    before, after = (run_probe(project, outputs=_outputs(tmp / side / "o.csv", effect=effect,
                                                         n_templates=8))
                     for side, effect in (("b", 0.0), ("a", 1.0)))
    write_probe_report(project, before, tmp / "probe.html")  # report 1: not a before/after
    before, after = before.result, after.result
    write_compare_report(project, compare_results(before, after), tmp / "cmp.html")
    [row] = Store.for_project(project).list_reports("bias-compare")
    return project, {"WORKBENCH_PROJECT": str(project.root)}, row


@pytest.mark.slow
def test_signoff_from_the_cli_is_stored_with_its_signatures_and_shown(compared):
    project, env, row = compared
    proc = run_cli("signoff", str(row["id"]), "--reviewer", "Ana <b>Lee</b>", "--decision",
                   "probe-more", "--comment", "[more](http://evil.example) <script>x</script>",
                   "--json", "-", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["decision"] == "probe more" and out["reviewer"] == "Ana <b>Lee</b>"
    store = Store.for_project(project)
    sigs = out["signatures"]
    assert sigs == {"report": row["signature"],
                    "before": store.get_run(1).outputs["result"]["signature"],
                    "after": store.get_run(2).outputs["result"]["signature"]}
    assert out["runs"] == [1, 2] and out["cards"] == []  # outputs files: no fine-tuned run
    [stored] = store.list_signoffs(row["id"])
    assert stored["signatures"] == sigs and stored["comment"].startswith("[more]")
    # a second decision: both shown in the report, newest first, every value escaped
    proc = run_cli("signoff", row["path"], "--reviewer", "Bo", "--decision", "approve", env=env)
    assert proc.returncode == 0, proc.stderr
    html = Path(row["path"]).read_text(encoding="utf-8")
    assert html.count("<!--wb:signoff-->") == 1 and html.count('class="signoff"') == 2
    assert html.index(">Bo<") < html.index("Ana &lt;b&gt;Lee&lt;/b&gt;")
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x" not in html
    assert "Latest decision: <span class=\"badge pass signoff-decision\">approve</span>" in html


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (["--reviewer", " ", "--decision", "approve"],
     "error: --reviewer: a name is required: a sign-off says who decided"),
    (["--reviewer", "Bo", "--decision", "maybe"],
     "error: --decision: must be one of approve, reject, probe more; got 'maybe'"),
    (["--reviewer", "Bo", "--decision", "approve", "--comment", "x" * 2001],
     "error: --comment: at most 2000 characters, got 2001"),
])
def test_signoff_bad_input_is_one_line_exit_2(compared, args, message):
    project, env, row = compared
    before = len(Store.for_project(project).list_signoffs())
    proc = run_cli("signoff", str(row["id"]), *args, env=env)
    assert proc.returncode == 2 and proc.stderr.strip() == message, proc.stderr
    assert len(Store.for_project(project).list_signoffs()) == before


@pytest.mark.slow
def test_signoff_of_a_missing_or_other_report_names_the_ones_it_could_be(compared):
    _project, env, row = compared
    proc = run_cli("signoff", "99", "--reviewer", "Bo", "--decision", "approve", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: REPORT: no report '99'; before/after reports: "
                                   f"{row['id']} (cmp.html)")
    proc = run_cli("signoff", "1", "--reviewer", "Bo", "--decision", "approve", env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: REPORT: report 1 is a probe report; a sign-off is a "
                                   "decision on a before/after (bias-report) report")


@pytest.mark.slow
def test_reports_page_records_a_signoff_and_lists_it(compared, monkeypatch):
    from streamlit.testing.v1 import AppTest

    project, _env, row = compared
    monkeypatch.setenv("WORKBENCH_PROJECT", str(project.root))
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    at = AppTest.from_file(str(root / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/reports.py").run()
    at.selectbox(key="report_id").set_value(row["id"]).run()
    before = len(Store.for_project(project).list_signoffs(row["id"]))
    at.text_input(key="signoff_reviewer").input("  ").run()
    at.radio(key="signoff_decision").set_value("reject")
    at.text_area(key="signoff_comment").input("gap *widened* [x](http://e.example)")
    submit = next(b for b in at.button if b.label == "Record sign-off")
    submit.click().run()
    assert [plain(e.value) for e in at.error] == [
        "Reviewer: a name is required: a sign-off says who decided"]
    assert len(Store.for_project(project).list_signoffs(row["id"])) == before
    at.text_input(key="signoff_reviewer").input("Cy <i>")
    next(b for b in at.button if b.label == "Record sign-off").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    newest = Store.for_project(project).list_signoffs(row["id"])[0]
    assert (newest["reviewer"], newest["decision"]) == ("Cy <i>", "reject")
    assert [plain(s.value) for s in at.success] == [
        f"Sign-off {newest['id']} recorded and shown in the report."]
    shown = [m.value for m in at.markdown if "reject" in m.value]
    assert shown and "Cy \\<i\\>" in shown[0] and "\\[x\\]" in shown[0]


def test_signoff_help_names_only_commands_that_exist():
    """The help says where a report's id or file comes from; every `workbench X` it names
    is a command a user can run."""
    import re

    proc = run_cli("signoff", "--help", env={"COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    named = set(re.findall(r"`workbench ([a-z-]+)", proc.stdout))
    assert named, proc.stdout
    for cmd in named:
        got = run_cli(cmd, "--help")
        assert got.returncode == 0, (cmd, got.stderr)
