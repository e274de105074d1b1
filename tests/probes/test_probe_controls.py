"""Scorer offsets from control texts, subtracting them, and agreement between scorers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.probes import (
    StatsConfig,
    expand,
    list_probe_sets,
    load_probe_set_file,
    parse_probe_set,
    run_probe,
)
from workbench.probes._robust import scorer_offsets

FAST = StatsConfig(n_resamples=200, n_permutations=1000)
CARRIERS = ["{subject} said hello.", "{subject} sat down.", "{subject} is here.",
            "{subject} walked into the room.", "{subject} lives in this town.",
            "{subject} arrived at noon."]
SET = {"name": "mood", "version": 1, "attribute": "mood",
       "groups": {"happy": ["The happy person"], "plain": ["The person"]},
       "fillers": {"n": [str(i) for i in range(16)]},
       "templates": ["{subject} was number {n} and"],
       "controls": CARRIERS}


def _set(**changes):
    d = json.loads(json.dumps(SET))
    d.update(changes)
    return d


def _write(tmp_path, ps: dict, output) -> tuple:
    """The probe set as YAML (JSON is YAML) and an outputs file made from its prompts."""
    (tmp_path / "mood.yaml").write_text(json.dumps(ps), encoding="utf-8")
    plan = expand(parse_probe_set(ps))
    rows = [{"group": p.group, "template": p.template, "prompt": p.text,
             "output": output(p)} for p in plan.prompts]
    pd.DataFrame(rows).to_csv(tmp_path / "o.csv", index=False)
    return tmp_path / "mood.yaml", tmp_path / "o.csv", plan


def test_every_bundled_set_ships_controls_for_every_group():
    for name, path in list_probe_sets().items():
        plan = expand(load_probe_set_file(path))
        assert plan.controls, name
        assert {c.group for c in plan.controls} == set(plan.groups), name
        assert all("{" not in c.text for c in plan.controls)


def test_offsets_show_what_the_scorer_alone_gives_each_group():
    plan = expand(parse_probe_set(SET))
    assert plan.controls[0].text == "The happy person said hello."
    off = scorer_offsets(plan, ["sentiment"], FAST)["sentiment"]
    assert off["n"] == 12 and off["n_carriers"] == 6
    happy, plain = off["groups"]["happy"], off["groups"]["plain"]
    assert happy["mean"] > 0.3 and plain["mean"] == pytest.approx(0.0)
    assert happy["ci"][0] <= happy["mean"] <= happy["ci"][1]
    (pair,) = off["comparisons"]
    assert (pair["a"], pair["b"]) == ("happy", "plain") and pair["diff"] > 0.3


def test_controls_given_per_group_are_used_as_written():
    ps = _set(controls={"happy": ["The happy person said hello."],
                        "plain": ["The person said hello."]})
    plan = expand(parse_probe_set(ps))
    assert [(c.group, c.text) for c in plan.controls] == [
        ("happy", "The happy person said hello."), ("plain", "The person said hello.")]


def test_a_gap_within_the_offset_may_come_from_the_scorer_and_can_be_subtracted(
        project, tmp_path):
    ps_path, out, plan = _write(tmp_path, SET, lambda p: f"{p.phrase} went home.")
    res = run_probe(project, plan=plan, outputs=out, config=FAST)
    (c,) = res.result["comparisons"]
    assert c["verdict"] == "different" and c["may_come_from_scorer"] is True
    assert c["scorer_offset"]["ci"][0] > 0 and not c["scorer_offset"]["subtracted"]
    assert any("may come from the scorer" in w for w in res.result["warnings"])
    from workbench.reports import probe_html

    html = probe_html(res.result, res.examples)
    assert "may come from the scorer" in html and "The happy person said hello." in html
    from workbench.probes import offset_rows, robustness_rows

    (row,) = robustness_rows(res.result)  # what the app's Bias probes page shows
    off = c["scorer_offset"]
    assert row["scorer"] == "may come from the scorer" and row["scorer offset (controls)"] == \
        f"{off['diff']:+.3f} [{off['ci'][0]:+.3f}, {off['ci'][1]:+.3f}]"
    groups = res.result["offsets"]["sentiment"]["groups"]
    assert offset_rows(res.result) == [
        {"group": g, "offset": v["mean"], "95% low": v["ci"][0], "95% high": v["ci"][1],
         "n": v["n"]} for g, v in groups.items()]
    assert offset_rows(res.result)[0]["offset"] > 0.3  # 'happy' scores positive on its own
    from workbench.probes import comparison_rows, group_rows

    at90 = {**res.result, "settings": {**res.result["settings"], "confidence_level": 0.9}}
    for rows in (offset_rows(at90), group_rows(at90), comparison_rows(at90)):
        assert {"90% low", "90% high"} <= set(rows[0]) and "95% low" not in rows[0]

    sub = run_probe(project, plan=plan, outputs=out, config=FAST, subtract_offset=True)
    (s,) = sub.result["comparisons"]
    assert abs(s["diff"]) < 0.05 and s["may_come_from_scorer"] is None
    assert sub.result["offset_subtracted"] and "offset:subtracted" in sub.result["signature"]
    assert "sentiment_raw" in sub.examples
    assert sub.result["verdict"] != "flagged"


def test_subtracting_needs_controls(project, tmp_path):
    ps = _set()
    ps.pop("controls")
    _, out, plan = _write(tmp_path, ps, lambda p: "fine")
    with pytest.raises(WorkbenchError, match=r"needs a probe set with controls .*this one has"
                                             r" none") as exc:
        run_probe(project, plan=plan, outputs=out, config=FAST, subtract_offset=True)
    assert exc.value.param == "subtract_offset"


@pytest.mark.parametrize("controls,match", [
    ({"happy": ["The happy person said hello."]},
     r"controls: no control texts for group\(s\) plain; every group needs them \(groups: "
     r"happy, plain\)"),
    ({"happy": ["x"], "plain": []}, r"controls: no control texts for group\(s\) plain"),
    ({"happy": ["x"], "plain": ["y"], "plian": ["z"]},
     r"controls.plian: not a group \(did you mean 'plain'\?\)"),
    (["The person said hello."],
     r"controls\[0\]: a carrier sentence needs the \{subject\} slot and no other; got no slots"),
    (["{subject} said {n}."], r"controls\[0\]: .* and no other; got n, subject"),
    ([], r"controls: empty"),
])
def test_bad_controls_name_the_file_and_field(controls, match):
    with pytest.raises(WorkbenchError, match=r"^my\.yaml: " + match):
        parse_probe_set(_set(controls=controls), where="my.yaml")


@pytest.mark.slow
def test_cli_refuses_controls_missing_a_group(project, tmp_path):
    ps_path, out, _ = _write(tmp_path, SET, lambda p: "fine")
    ps_path.write_text(json.dumps(_set(controls={"happy": ["The happy person said hello."]})),
                       encoding="utf-8")
    proc = run_cli("probe", "--outputs", str(out), "--probes", str(ps_path),
                   env={"WORKBENCH_PROJECT": str(project.root)})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(ps_path) in lines[0]
    assert "no control texts for group(s) plain" in lines[0]


def test_scorers_agreement_and_sign_disagreement(project, tmp_path):
    # 'happy' gets cheerful refusals, 'plain' gloomy answers: sentiment favours happy,
    # refusal (more refusals is worse) favours plain
    _, out, plan = _write(tmp_path, SET, lambda p: (
        "I cannot help with that. What a wonderful day." if p.group == "happy"
        else "an awful day"))
    res = run_probe(project, plan=plan, outputs=out, scorers=["sentiment", "refusal", "length"],
                    config=FAST)
    r = res.result
    ka = r["scorer_agreement"]
    assert ka["scorers"] == ["sentiment", "refusal"] and ka["alpha"] < 0  # opposite orders
    assert "Krippendorff" in ka["method"] and ka["n"] == len(res.examples)
    (d,) = r["sign_disagreements"]
    assert d["favoured"] == {"sentiment": "happy", "refusal": "plain"}
    assert r["scorers"]["sentiment"]["comparisons"][0]["scorers_disagree_on_sign"]
    assert any("disagree on the sign" in w for w in r["warnings"])
    from workbench.reports import probe_html

    html = probe_html(r, res.examples)
    assert "Krippendorff" in html and "scorers disagree on the sign" in html
    from workbench.probes import agreement_text

    assert agreement_text(r) == (
        f"Agreement between scorers (Krippendorff's alpha, interval): {ka['alpha']:.2f} over "
        "sentiment, refusal. The scorers disagree on the sign of happy - plain (sentiment "
        "favours happy, refusal favours plain).")


def test_one_directed_scorer_has_no_alpha(project, tmp_path):
    _, out, plan = _write(tmp_path, SET, lambda p: "a fine day")
    r = run_probe(project, plan=plan, outputs=out, scorers=["sentiment", "length"],
                  config=FAST).result
    assert r["scorer_agreement"]["alpha"] is None
    assert "fewer than two scorers with a direction" in r["scorer_agreement"]["reason"]
    from workbench.probes import agreement_text

    assert agreement_text(r).endswith(f"not available ({r['scorer_agreement']['reason']}).")
    assert r["sign_disagreements"] == []
