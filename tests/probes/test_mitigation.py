"""The mitigation report: base, raw fine-tune and mitigated fine-tune, and what it cost."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _outputs(path, *, bad_every: int = 0, n: int = 24):
    """Outputs of a probe of 'woman' and 'man': 'man' gets an awful answer every
    ``bad_every``-th template (never when 0)."""
    rows = [{"group": g, "template": f"t{t + 1}",
             "output": "an awful, angry, terrible person"
             if g == "man" and bad_every and t % bad_every == 0 else "a person"}
            for t in range(n) for g in ("woman", "man")]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def three_runs(project, tmp_path):
    from workbench.probes import run_probe

    ids = []
    for side, bad in (("base", 0), ("raw", 1), ("mitigated", 0)):
        res = run_probe(project, outputs=_outputs(tmp_path / side / "o.csv", bad_every=bad))
        ids.append(res.run_id)
    return ids


def test_library_report_says_what_was_learned_and_what_mitigation_bought(project, three_runs):
    from workbench.probes import load_result, mitigation_report

    base, raw, mitigated = (load_result(project, str(i)) for i in three_runs)
    rep = mitigation_report(base, raw, mitigated)
    assert [v["verdict"] for v in rep["verdicts"].values()] == ["cleared", "flagged", "cleared"]
    (learned,), (bought,) = rep["learned"]["gaps"], rep["bought"]["gaps"]
    assert learned["verdict"] == "widened" and learned["change"] == pytest.approx(0.856, abs=1e-3)
    assert bought["verdict"] == "narrowed" and bought["change"] == pytest.approx(-0.856, abs=1e-3)
    assert any(line.startswith("the mitigation (against the raw fine-tune) narrowed the "
                               "woman vs man gap") for line in rep["summary"])
    assert rep["summary"][-1].startswith("quality: not measured")


def test_utility_lines_name_the_direction_with_the_interval(project, three_runs):
    from workbench.probes import load_result, mitigation_report

    utility = {"n": 20, "a": "run:8", "b": "run:9", "signature": "s",
               "metrics": {"rougeL": {"a": 0.40, "b": 0.35, "diff": -0.05,
                                      "ci": [-0.08, -0.02], "p_value": 0.002},
                           "bleu": {"a": 10.0, "b": 10.5, "diff": 0.5,
                                    "ci": [-1.0, 2.0], "p_value": 0.5}}}
    results = [load_result(project, str(i)) for i in three_runs]
    lines = mitigation_report(*results, utility=utility)["summary"]
    assert "quality: rougeL fell: 0.400 -> 0.350 (change -0.050 [-0.080, -0.020], " \
           "20 examples)" in lines
    assert any(x.startswith("quality: bleu did not change detectably") for x in lines)


@pytest.mark.slow
def test_cli_writes_one_html_report_and_refuses_bad_runs(project, three_runs, tmp_path):
    from workbench.probes import run_probe

    env = {"WORKBENCH_PROJECT": str(project.root)}
    base, raw, mitigated = map(str, three_runs)
    proc = run_cli("mitigation-report", "--base", base, "--raw", raw, "--mitigated",
                   mitigated, "--json", "-", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    page = (project.root / "reports" / f"mitigation-run{raw}-vs-run{mitigated}.html")
    assert out["report"] == str(page) and page.is_file()
    html = page.read_text()
    assert "narrowed" in html and "Not measured" in html and "<script" not in html
    other = run_probe(project, outputs=_outputs(tmp_path / "x" / "other.csv")).run_id
    for args, message in [
        (["--base", base, "--raw", raw, "--mitigated", f"run:{raw}"],
         (f"error: --mitigated: the same probe run as the raw fine-tune's (run {raw}); give "
         "three different runs")),
        (["--base", base, "--raw", raw, "--mitigated", str(other)],
         "error: mitigation report: the three runs used different probe sets"),
        (["--base", base, "--raw", raw, "--mitigated", mitigated, "--eval-raw", "5"],
         ("error: --eval-mitigated: missing; the quality cost compares the two fine-tunes' "
         "evaluations, so give both or neither")),
        (["--base", base, "--raw", raw, "--mitigated", mitigated, "--eval-raw", "5",
          "--eval-mitigated", "run:5"],
         "error: --eval-mitigated: the same run as the raw fine-tune's evaluation (run 5)"),
    ]:
        proc = run_cli("mitigation-report", *args, env=env)
        assert proc.returncode == 2 and proc.stderr.startswith(message), proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"base": "3", "raw": "run:3", "mitigated": "4"},
     "raw: the same probe run as the base model's (run 3); give three different runs"),
    ({"base": "3", "raw": "4", "mitigated": "4", "eval_mitigated": "7"},
     "mitigated: the same probe run as the raw fine-tune's (run 4)"),
    ({"base": "3", "raw": "4", "mitigated": "5", "eval_mitigated": "7"},
     "eval raw: missing; the quality cost compares the two fine-tunes' evaluations"),
])
def test_mitigation_from_runs_refuses_before_reading_anything(project, kwargs, message):
    from workbench.core.errors import ConfigError
    from workbench.probes import mitigation_from_runs

    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mitigation_from_runs(project, **kwargs)


def _run(i, model, probe_set="support_gender"):
    return SimpleNamespace(id=i, config={"model": model, "probe_set": {"name": probe_set}})


def test_defaults_pick_base_raw_and_mitigated_and_their_evaluations():
    from workbench.probes import mitigation_defaults

    runs = [_run(9, "run:7"), _run(8, "run:7", "gender"), _run(6, "run:5"),
            _run(4, "packaged:smollm2-135m-instruct"), _run(3, "run:2")]
    evals = [_run(12, "run:7"), _run(11, "run:5"), _run(10, "run:5")]
    assert mitigation_defaults(runs, evals) == {"base": 3, "raw": 2, "mitigated": 0,
                                                "eval_raw": 11, "eval_mitigated": 12}
    # with the models the fine-tunes came from: the raw fine-tune of the same base model
    # trained on other data (run:4 is an earlier mitigated fine-tune, on the same data)
    runs = [_run(9, "run:7"), _run(8, "run:4"), _run(6, "run:5"), _run(5, "tiny:gpt2"),
            _run(4, "run:3"), _run(2, "packaged:smollm2-135m-instruct")]
    smol = "packaged:smollm2-135m-instruct"
    origins = {"run:7": (smol, "support_bias_cda"), "run:4": (smol, "support_bias_cda"),
               "run:5": ("tiny:gpt2", "support_bias"), "run:3": (smol, "support_bias")}
    assert mitigation_defaults(runs, evals, trained_from=origins.get) == {
        "base": 5, "raw": 4, "mitigated": 0, "eval_raw": None, "eval_mitigated": 12}
    # no fine-tune pair on one set: the three newest, no evaluations
    assert mitigation_defaults(runs[3:4] * 3, []) == {"base": 2, "raw": 1, "mitigated": 0,
                                                      "eval_raw": None, "eval_mitigated": None}


# ------------------------------------------------------------- the planted-bias demo
def test_planted_bias_demo_is_what_its_script_writes():
    """The shipped CSV is exactly what docs/make_demo_bias.py writes (rerun, not edited)."""
    ns = runpy.run_path(str(ROOT / "docs" / "make_demo_bias.py"))
    rows = ns["build_rows"]()
    shipped = (ROOT / "workbench" / "demo" / "support_qa_bias.csv").read_text(encoding="utf-8")
    assert ns["_csv_text"](rows) == shipped
    assert ns["_section"](rows) in (ROOT / "workbench" / "demo" / "DEFECTS.md").read_text()
    kinds = pd.Series([r["planted"] for r in rows]).value_counts().to_dict()
    assert kinds == {"curt": 144, "warm": 144, "neutral": 24}


@pytest.mark.slow
def test_planted_bias_rule_fails_then_passes_after_augmentation(project):
    """The demo's association rule (a real Great Expectations run) fails on the planted
    data with the women's answers far below the men's, and passes on the augmented version."""
    from workbench.checks import check_dataset
    from workbench.clean import clean_dataset

    suite = ROOT / "checks" / "support_qa_bias.yaml"
    csv = ROOT / "workbench" / "demo" / "support_qa_bias.csv"
    report, _ = check_dataset(project, str(csv), suite, data_docs=False)
    rule = next(r for r in report.results if r.expectation.startswith("expect_group_outcome"))
    obs = rule.observed
    assert not report.success and not rule.success
    female, male = obs["groups"]["female"], obs["groups"]["male"]
    assert (female["rows"], male["rows"]) == (144, 144)  # the neutral rows mention nobody
    assert [female["mean"], male["mean"], obs["gap"]] == pytest.approx([-0.442, 0.953, 1.395],
                                                                       abs=5e-4)
    assert (obs["lowest"], obs["highest"]) == ("female", "male")
    assert 0.2 < obs["gap_ci"][0] < obs["gap"] < obs["gap_ci"][1]
    cleaned = clean_dataset(project, str(csv), suite,
                            name="support_bias_cda")
    assert (cleaned.rows_before, cleaned.rows_after) == (312, 600)
    report, _ = check_dataset(project, cleaned.result, suite, data_docs=False)
    rule = next(r for r in report.results if r.expectation.startswith("expect_group_outcome"))
    assert report.success and rule.success
    obs = rule.observed
    assert obs["groups"]["female"]["rows"] == obs["groups"]["male"]["rows"] == 288
    means = [obs["groups"][g]["mean"] for g in ("female", "male")]
    assert means == pytest.approx([0.256, 0.256], abs=5e-4) and means[0] == means[1]
    assert obs["gap"] == 0 and obs["gap_ci"][0] < 0 < obs["gap_ci"][1] < 0.2


@pytest.mark.slow
def test_bias_probes_page_builds_the_mitigation_report(project, three_runs, monkeypatch):
    """The Mitigation tab presets base / raw / mitigated, refuses the same run twice in
    the widget's words, and builds the report the CLI builds, offered as a download."""
    from streamlit.testing.v1 import AppTest
    from tests.app.test_bias_probes_page import plain

    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/bias_probes.py").run()
    base, raw, mitigated = three_runs
    # outputs-file runs have no model: the three newest, oldest as the base
    assert [at.selectbox(key=f"mitig_{r}").value for r in ("base", "raw", "mitigated")] \
        == [base, raw, mitigated]
    assert at.selectbox(key="mitig_eval_raw").value is None
    at.selectbox(key="mitig_mitigated").set_value(raw)
    at.button(key="mitig_build").click().run()
    assert [plain(e.value) for e in at.error] == [
        (f"Mitigated fine-tune (on the augmented data): the same probe run as the raw "
        f"fine-tune's (run {raw}); give three different runs")]
    at.selectbox(key="mitig_mitigated").set_value(mitigated)
    at.button(key="mitig_build").click().run()
    assert not at.exception and not at.error
    text = "\n".join(plain(m.value) for m in at.markdown)
    assert "the mitigation (against the raw fine-tune) narrowed the woman vs man gap" in text
    page = project.root / "reports" / f"mitigation-run{raw}-vs-run{mitigated}.html"
    assert page.is_file() and "narrowed" in page.read_text()
    assert any(str(page) in plain(c.value) for c in at.caption)


def test_cli_json_names_the_quality_comparison_it_recorded(project, three_runs, tmp_path):
    """With both evaluations the report records a paired comparison: its run_id is in
    the JSON (top level and under utility), as every run-recording command's is."""
    from workbench.core.store import Store
    from workbench.evaluation import evaluate_predictions

    evals = []
    for side, pred in (("raw", "tap reset"), ("mitigated", "tap the reset button")):
        f = tmp_path / f"{side}.csv"
        pd.DataFrame({"id": range(12), "prediction": [pred] * 12,
                      "reference": ["tap the reset button"] * 12}).to_csv(f, index=False)
        evals.append(evaluate_predictions(project, f).run_id)
    env = {"WORKBENCH_PROJECT": str(project.root)}
    base, raw, mitigated = map(str, three_runs)
    proc = run_cli("mitigation-report", "--base", base, "--raw", raw, "--mitigated",
                   mitigated, "--eval-raw", f"run:{evals[0]}", "--eval-mitigated",
                   f"run:{evals[1]}", "--json", "-", env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    [cmp] = Store.for_project(project).list_runs("compare")
    assert out["run_id"] == cmp.id == out["utility"]["run_id"]
    proc = run_cli("mitigation-report", "--base", base, "--raw", raw, "--mitigated",
                   mitigated, "--json", "-", env=env)
    assert json.loads(proc.stdout[proc.stdout.index("{"):])["run_id"] is None  # none recorded
