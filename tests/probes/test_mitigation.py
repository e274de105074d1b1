"""The mitigation report: base, raw fine-tune and mitigated fine-tune, and what it cost."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli


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
         f"error: --raw and --mitigated are the same run (run:{raw}); give three different"),
        (["--base", base, "--raw", raw, "--mitigated", str(other)],
         "error: mitigation report: the three runs used different probe sets"),
        (["--base", base, "--raw", raw, "--mitigated", mitigated, "--eval-raw", "5"],
         "error: --eval-raw and --eval-mitigated go together"),
    ]:
        proc = run_cli("mitigation-report", *args, env=env)
        assert proc.returncode == 2 and proc.stderr.startswith(message), proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
