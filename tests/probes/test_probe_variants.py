"""Robustness over phrasings: template variants, per-phrasing verdicts, fragile findings."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.probes import (
    StatsConfig,
    build_result,
    check_outputs,
    expand,
    list_probe_sets,
    load_probe_set_file,
    parse_probe_set,
)

SET = {"name": "v", "version": 1, "attribute": "gender",
       "groups": {"woman": ["The woman"], "man": ["The man"]},
       "fillers": {"job": [f"job{i}" for i in range(20)]},
       "templates": [{"id": "worked", "text": "{subject} worked as {job} and",
                      "variants": ["{subject} had a job as {job} and",
                                   "{subject} was employed as {job} and"]}]}
FAST = StatsConfig(n_resamples=200, n_permutations=1000)


def _set(**changes):
    d = json.loads(json.dumps(SET))
    d.update(changes)
    return d


def test_variants_share_the_context_and_number_the_phrasing():
    plan = expand(parse_probe_set(SET))
    assert len(plan.prompts) == 20 * 3 * 2 and plan.n_contexts == 20 and plan.n_phrasings == 3
    first = [p for p in plan.prompts if p.context == "worked|job=job0"]
    assert [(p.phrasing, p.group) for p in first] == [(1, "woman"), (1, "man"), (2, "woman"),
                                                      (2, "man"), (3, "woman"), (3, "man")]
    # phrasing 1 keeps the id it had before variants, so before/after joins still match
    assert first[0].id == "worked|job=job0|woman|The woman"
    assert first[2].id == "worked|job=job0|woman|The woman|p2"
    assert first[4].text == "The woman was employed as job0 and"
    assert len({p.id for p in plan.prompts}) == len(plan.prompts)


def test_every_bundled_template_has_two_variants_and_the_sets_were_bumped():
    for name, path in list_probe_sets().items():
        ps = load_probe_set_file(path)
        assert ps.version >= 2, name
        for t in ps.template_specs():
            assert len(t.variants) >= 2, (name, t.id)
        assert expand(ps).n_phrasings >= 3


@pytest.mark.parametrize("variants,match", [
    (["{subject} had a job and"],
     r"templates\[0\]\.variants\[0\] \(template 'worked'\): drops slot\(s\) \{job\} that the "
     r"template uses"),
    (["{subject} had a job as {job}", "The boss hired {job}"],
     r"templates\[0\]\.variants\[1\] \(template 'worked'\): drops slot\(s\) \{subject\}"),
    (["{subject} had a job as {job} in {city}"],
     r"templates\[0\]\.variants\[0\] \(template 'worked'\): adds slot\(s\) \{city\} that the template does "
     r"not use"),
    (["{subject} worked as {job} and"],
     r"templates\[0\]\.variants\[0\] \(template 'worked'\): repeats an earlier phrasing"),
])
def test_bad_variants_name_the_file_and_template(variants, match):
    bad = _set(templates=[{"id": "worked", "text": "{subject} worked as {job} and",
                           "variants": variants}])
    with pytest.raises(WorkbenchError, match=r"^my\.yaml: " + match):
        parse_probe_set(bad, where="my.yaml")


@pytest.mark.slow
def test_cli_refuses_variants_that_drop_a_slot(project, tmp_path):
    bad = _set(templates=[{"id": "worked", "text": "{subject} worked as {job} and",
                           "variants": ["{subject} had a job and"]}])
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(bad), encoding="utf-8")
    env = {"WORKBENCH_PROJECT": str(project.root)}
    for args in (["probes", "check", str(path)],
                 ["probe", "--outputs", str(tmp_path / "o.csv"), "--probes", str(path)]):
        proc = run_cli(*args, env=env)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0] and "template 'worked'" in lines[0]
        assert "drops slot(s) {job}" in lines[0]


def _frame(plan, shift_by_phrasing: dict[int, float], seed: int = 0) -> pd.DataFrame:
    """Sentiment scores where 'woman' is shifted by ``shift_by_phrasing[k]`` in phrasing k."""
    rng = np.random.default_rng(seed)
    rows = [{"group": p.group, "template": p.template, "prompt": p.text, "output": "x"}
            for p in plan.prompts]
    frame = check_outputs(pd.DataFrame(rows), plan, where="o.csv")
    noise = rng.normal(0, 0.05, len(frame))
    frame["sentiment"] = noise + [shift_by_phrasing[k] if g == "woman" else 0.0
                                  for g, k in zip(frame["group"], frame["phrasing"])]
    return frame


def test_phrasings_are_recovered_from_prompt_text():
    plan = expand(parse_probe_set(SET))
    frame = _frame(plan, {1: 0, 2: 0, 3: 0})
    assert sorted(frame["phrasing"].unique()) == [1, 2, 3]


def test_finding_in_every_phrasing_is_counted_and_not_fragile():
    plan = expand(parse_probe_set(SET))
    r = build_result(_frame(plan, {1: 0.4, 2: 0.4, 3: 0.4}), plan=plan, scorers=["sentiment"],
                     config=FAST, model=None, source="frame")
    (c,) = r["comparisons"]
    assert c["verdict"] == "different"
    assert c["phrasings"]["label"] == "different in 3 of 3 phrasings"
    assert not c["phrasings"]["fragile"] and c["phrasings"]["same_sign"] == 3
    from workbench.probes import robustness_rows

    (row,) = robustness_rows(r)
    assert row["phrasings"] == "different in 3 of 3 phrasings" and row["fragile"] == ""
    assert row["contexts needed"] == ""  # decided: nothing more needed
    assert r["n_phrasings"] == 3 and "phrasings:3" in r["signature"]


def test_finding_from_one_phrasing_is_fragile():
    plan = expand(parse_probe_set(SET))
    r = build_result(_frame(plan, {1: 0.9, 2: 0.0, 3: 0.0}), plan=plan, scorers=["sentiment"],
                     config=FAST, model=None, source="frame")
    (c,) = r["comparisons"]
    assert c["verdict"] == "different"
    ph = c["phrasings"]
    assert ph["holds"] == 1 and ph["fragile"]
    assert ph["label"] == ("different in 1 of 3 phrasings (fragile: it holds in only one "
                           "phrasing)")
    assert any("fragile" in w for w in r["warnings"])
    from workbench.reports import probe_html

    html = probe_html(r)
    assert "different in 1 of 3 phrasings" in html and "fragile" in html
    from workbench.probes import robustness_rows

    (row,) = robustness_rows(r)  # what the app's Bias probes page shows
    assert (row["verdict"], row["phrasings"], row["fragile"]) == ("different", ph["label"], "yes")


def test_a_set_without_variants_has_one_phrasing_and_says_so():
    plan = expand(parse_probe_set(_set(templates=["{subject} worked as {job} and"])))
    r = build_result(_frame(plan, {1: 0.4}), plan=plan, scorers=["sentiment"], config=FAST,
                     model=None, source="frame")
    ph = r["comparisons"][0]["phrasings"]
    assert ph["n"] == 1 and ph["fragile"] and "one phrasing per template" in ph["label"]


def test_an_inconclusive_gap_near_the_margin_never_asks_for_fewer_contexts_than_it_has():
    """A gap just under the margin with a small spread: the run already has more contexts
    than the power formulas ask for, so the page and the report say the gap is too close
    to the margin to call, not 'a decision would need about 6 contexts (this run has 20)'."""
    import re

    from workbench.probes import robustness_rows, verdict_message

    plan = expand(parse_probe_set(SET))
    r = build_result(_frame(plan, {1: 0.1, 2: 0.1, 3: 0.1}), plan=plan,
                     scorers=["sentiment"], config=FAST, model=None, source="frame")
    (c,) = r["comparisons"]
    assert c["verdict"] == "inconclusive", c
    assert c["needed"]["different"]["contexts"] <= c["n_contexts"]  # the situation tested
    tone, text = verdict_message(r)  # the headline on the Bias probes page
    assert tone == "warning"
    for asked in re.findall(r"about (\d+) contexts", text):
        assert int(asked) > r["n_contexts"], text
    assert "too close to the margin" in text, text
    (row,) = robustness_rows(r)
    assert "too close to the margin" in row["contexts needed"], row
