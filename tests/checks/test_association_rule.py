"""The outcome-association data rule, run through real suites and the real CLI."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.checks import RULES, DatasetRef, load_suite, run_checks
from workbench.core.errors import (
    ConfigError,
    DataError,
    RenamedKeyWarning,
    WorkbenchError,
)

RULE = "expect_group_outcome_association_to_be_below"


def _suite(tmp_path, text: str, name: str = "s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _ref(frame):
    return DatasetRef(name="t", version="v", rows=len(frame))


@pytest.fixture
def loans():
    """Six rows about women (1 approved), six about men (5 approved), 2 mixed, 2 neither."""
    f = [("She asked for a loan", "no"), ("Her loan request", "no"), ("My wife applied", "no"),
         ("A woman applied", "yes"), ("The mother asked", "no"), ("Can my daughter apply?", "no")]
    m = [("He asked for a loan", "yes"), ("His loan request", "yes"), ("My husband applied", "yes"),
         ("A man applied", "no"), ("The father asked", "yes"), ("Can my son apply?", "yes")]
    mixed = [("She and her husband applied", "yes"), ("The man and his wife asked", "yes")]
    none = [("They applied", "no"), ("Sheila and Herbert applied", "yes")]
    rows = f + m + mixed + none
    return pd.DataFrame({"id": [f"r{i}" for i in range(len(rows))],
                         "text": [t for t, _ in rows], "approved": [a for _, a in rows]})


LABEL_RULE = """
id_column: id
expectations:
  - type: expect_group_outcome_association_to_be_below
    column: text
    label_column: approved
    label_value: "yes"
    max_gap: {max_gap}
{extra}"""


def _run(frame, tmp_path, max_gap=0.3, extra=""):
    suite = load_suite(_suite(tmp_path, LABEL_RULE.format(max_gap=max_gap, extra=extra)),
                       check_types=False)
    [res] = run_checks(frame, suite, dataset=_ref(frame)).results
    return res


def test_planted_label_association_fails_with_means_intervals_and_examples(loans, tmp_path):
    assert RULE in RULES and RULES[RULE].kind == "aggregate"
    res = _run(loans, tmp_path)
    obs = res.observed
    assert not res.success and res.engine == "workbench" and res.unexpected_count == 0
    female, male = obs["groups"]["female"], obs["groups"]["male"]
    assert (female["rows"], female["mean"]) == (6, round(1 / 6, 6))
    assert (male["rows"], male["mean"]) == (6, round(5 / 6, 6))
    assert obs["gap"] == round(4 / 6, 6) and (obs["lowest"], obs["highest"]) == ("female", "male")
    assert obs["rows_mixed"] == 2 and obs["rows_without_group"] == 2  # Sheila, Herbert: no match
    for g in (female, male):
        assert g["ci"][0] <= g["mean"] <= g["ci"][1] and g["ci"][0] < g["ci"][1]
    assert 0 <= obs["gap_ci"][0] < obs["gap"] <= obs["gap_ci"][1] <= 1
    assert obs["outcome"] == "share of approved == 'yes'"
    assert obs["word_list"].startswith("gender|v1|names:no|sha:")
    # examples alternate: the lowest outcomes of the lowest group, the highest of the highest
    assert [(e["row"], e["group"], e["outcome"]) for e in res.examples[:4]] == [
        ("r0", "female", 0.0), ("r6", "male", 1.0), ("r1", "female", 0.0), ("r7", "male", 1.0)]
    assert res.examples[0]["value"] == "She asked for a loan"
    assert len(res.examples) == 12


def test_thresholds_mixed_rows_and_seeds(loans, tmp_path):
    assert _run(loans, tmp_path, max_gap=0.7).success  # 0.667 is below 0.7
    lower = _run(loans, tmp_path, max_gap=0.6, extra="    fail_on: lower_bound\n")
    assert lower.success == (lower.observed["gap_ci"][0] <= 0.6) and lower.success
    assert lower.examples == []
    # mixed rows (both approved) in both groups: female 3/8 approved, male 7/8
    both = _run(loans, tmp_path, extra="    mixed: both\n").observed["groups"]
    assert (both["female"]["rows"], both["female"]["mean"]) == (8, 0.375)
    assert (both["male"]["rows"], both["male"]["mean"]) == (8, 0.875)
    a = _run(loans, tmp_path).observed
    b = _run(loans, tmp_path).observed
    assert a == b and a["seed"] == 0 and a["n_resamples"] == 1000


LENGTHS = f"""
expectations:
  - {{{{type: {RULE}, column: q, score_column: a, score: length, max_gap: 5, {{opts}}}}}}
"""


def _lengths(tmp_path, opts: str) -> dict:
    words = ["a", "a b", "a b c d", "a b c", "a b c d e f", "a b c d e", "a", "a b"]
    frame = pd.DataFrame({"q": [f"she asked {i}" for i in range(8)]
                          + [f"he asked {i}" for i in range(8)],
                          "a": words + [w + " x y" for w in reversed(words)]})
    suite = load_suite(_suite(tmp_path, LENGTHS.format(opts=opts)), check_types=False)
    [res] = run_checks(frame, suite, dataset=_ref(frame)).results
    return res.observed


def test_renamed_keywords_give_the_same_numbers_with_one_warning_each(tmp_path):
    """scipy's names (confidence_level, n_resamples); level and resamples still work."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RenamedKeyWarning)
        new = _lengths(tmp_path, "confidence_level: 0.9, n_resamples: 500, seed: 3")
    with pytest.warns(RenamedKeyWarning) as seen:
        old = _lengths(tmp_path, "level: 0.9, resamples: 500, seed: 3")
    assert [str(w.message) for w in seen] == [  # once, at load: the run does not warn again
        (f"{tmp_path / 's.yaml'}: expectations[0].level (line 3): renamed to "
         "'confidence_level'; the old name still works for now"),
        (f"{tmp_path / 's.yaml'}: expectations[0].resamples (line 3): renamed to "
         "'n_resamples'; the old name still works for now")]
    assert old == new and (new["confidence_level"], new["n_resamples"]) == (0.9, 500)
    # pinned before the rename (level: 0.9, resamples: 500, seed: 3)
    assert {g: v["ci"] for g, v in new["groups"].items()} == {"female": [1.875, 4.0],
                                                              "male": [4.125, 6.125]}
    assert new["gap_ci"] == [0.74375, 3.5]


TOO_FEW = r"expectations\[0\].n_resamples \(line 4\): must be greater than or equal to 100; got 50"


@pytest.mark.parametrize("opts,message", [
    ("resamples: 50", TOO_FEW),
    ("n_resamples: 50", TOO_FEW),
    ("level: 1.2", r"expectations\[0\].confidence_level \(line 4\): must be less than 1; got 1.2"),
    ("level: 0.9\n    confidence_level: 0.9",
     r"expectations\[0\].level \(line 4\): give 'confidence_level' or its old name 'level', not both"),
])
def test_bad_bootstrap_keyword_names_the_new_key_and_its_line(tmp_path, opts, message):
    import warnings

    text = (f"name: s\nexpectations:\n  - type: {RULE}\n    {opts}\n    column: text\n"
            "    label_column: approved\n    label_value: x\n    max_gap: 1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RenamedKeyWarning)
        with pytest.raises(WorkbenchError, match="^" + re.escape(str(tmp_path / "s.yaml")) + ": "
                           + message + "$"):
            load_suite(_suite(tmp_path, text), check_types=False)


def test_balanced_data_passes_and_too_few_rows_compare_nothing(loans, tmp_path):
    fair = loans.copy()
    fair.loc[0:5, "approved"] = ["yes", "yes", "yes", "yes", "yes", "no"]
    res = _run(fair, tmp_path, max_gap=0.01)
    assert res.success and res.observed["gap"] == 0.0
    few = _run(loans, tmp_path, extra="    min_rows: 7\n")
    assert few.success and few.observed["gap"] is None
    assert few.observed["reason"] == ("fewer than two groups with at least 7 rows; "
                                      "nothing to compare")
    assert few.observed["groups"]["female"]["compared"] is False


def test_sentiment_of_another_column(tmp_path):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    bad = ["No. That is not our problem.", "Terrible request, we refuse.", "No refund, sorry.",
           "That is wrong and annoying.", "We cannot help, it is bad."]
    good = ["Of course, happy to help!", "Great question, thanks!", "Sure, we love helping.",
            "Wonderful, your refund is on its way.", "Absolutely, glad to assist."]
    frame = pd.DataFrame({
        "question": [f"My wife asked about order {i}" for i in range(5)]
                    + [f"My husband asked about order {i}" for i in range(5)],
        "answer": bad + good})
    suite = load_suite(_suite(tmp_path, f"""
expectations:
  - {{type: {RULE}, column: question, score_column: answer, score: sentiment, max_gap: 0.5,
     min_rows: 3}}
  - {{type: {RULE}, column_list: [question], score_column: answer, score: length, max_gap: 3,
     min_rows: 3}}
"""), check_types=False)
    senti, length = run_checks(frame, suite, dataset=_ref(frame)).results
    reseeded = load_suite(_suite(tmp_path, f"""
expectations:
  - {{type: {RULE}, column: question, score_column: answer, score: sentiment, max_gap: 0.5,
     min_rows: 3, seed: 7}}
""", "seeded.yaml"), check_types=False)
    [senti7] = run_checks(frame, reseeded, dataset=_ref(frame)).results
    assert senti7.observed["gap"] == senti.observed["gap"]
    assert senti7.observed["gap_ci"] != senti.observed["gap_ci"]
    vader = SentimentIntensityAnalyzer()
    expect = {g: round(float(np.mean([vader.polarity_scores(t)["compound"] for t in ts])), 6)
              for g, ts in (("female", bad), ("male", good))}
    assert {g: v["mean"] for g, v in senti.observed["groups"].items()} == expect
    assert not senti.success and senti.observed["outcome"] == "sentiment(answer)"
    assert expect["male"] - expect["female"] > 1.0
    words = {g: np.mean([len(t.split()) for t in ts])
             for g, ts in (("female", bad), ("male", good))}
    assert length.observed["gap"] == round(abs(words["male"] - words["female"]), 6)
    assert length.success and length.observed["gap"] < 3


BAD = [
    (f"  - {{type: {RULE}, column: text, score_column: text, score: sentimnt, max_gap: 0.1}}\n",
     r"s.yaml: expectations\[0\].score \(line 3\): unknown score 'sentimnt' \(did you mean "
     r"'sentiment'\?\); known: length, sentiment"),
    (f"  - {{type: {RULE}, column: text, groups: gendr, label_column: approved, label_value: x,"
     " max_gap: 0.1}\n",
     r"expectations\[0\].groups \(line 3\): unknown word list 'gendr' \(did you mean "
     r"'gender'\?\); known: gender; or give the path of a YAML file of pairs"),
    (f"  - {{type: {RULE}, column: text, max_gap: 0.1}}\n",
     r"expectations\[0\] \(line 3\): give one outcome: label_column with label_value"),
    (f"  - {{type: {RULE}, column: text, label_column: approved, label_value: x, score: length,"
     " score_column: text, max_gap: 0.1}\n", r"expectations\[0\] \(line 3\): give one outcome"),
    (f"  - {{type: {RULE}, column: text, label_column: approved, max_gap: 0.1}}\n",
     r"label_column and label_value go together"),
    (f"  - {{type: {RULE}, column: text, label_column: approved, label_value: x}}\n",
     r"expectations\[0\].max_gap \(line 3\): required by"),
    (f"  - {{type: {RULE}, column: text, label_column: approved, label_value: x, max_gap: 0}}\n",
     r"expectations\[0\].max_gap \(line 3\): must be greater than 0"),
    (f"  - {{type: {RULE}, column: text, label_column: approved, label_value: x, max_gap: 1,"
     " mixd: both}\n", r"expectations\[0\].mixd \(line 3\): not a keyword of "
                       rf"{RULE} \(did you mean 'mixed'\?\)"),
    (f"  - {{type: {RULE}, text: t, label_column: approved, label_value: x, max_gap: 1}}\n",
     r"not a keyword of"),
    (f"  - {{type: {RULE}, column: text, label_column: approved, label_value: x, max_gap: 1,"
     " names: true, groups: LIST}\n",
     r"expectations\[0\] \(line 3\): .*p.yaml: names: this list has no 'names:' pairs"),
]


@pytest.mark.parametrize("rule,message", BAD)
def test_bad_rule_arguments_name_file_field_and_line(tmp_path, rule, message):
    lst = _suite(tmp_path, "pairs:\n  - [she, he]\n", "p.yaml")
    text = "name: s\nexpectations:\n" + rule.replace("LIST", str(lst))
    with pytest.raises(WorkbenchError, match=message):
        load_suite(_suite(tmp_path, text), check_types=False)


@pytest.mark.parametrize("rule,kind,message", [
    ("label_column: aproved, label_value: 'yes'", ConfigError,
     r"s.yaml: expectations\[0\].label_column \(line 3\): no column 'aproved' in t@v \(did you "
     r"mean 'approved'\?\)"),
    ("label_column: approved, label_value: yes", DataError,
     rf"^{RULE}: label_value: True is not a value of column 'approved' \(YAML reads yes/no/on/off "
     r"as true/false: quote the value\); its values: no, yes$"),
    ("score_column: txt, score: length", ConfigError,
     rf"^{RULE}: score_column: no column 'txt' \(did you mean 'text'\?\); it has: id, text, "
     r"approved$"),
])
def test_bad_columns_and_values_at_run_time(loans, tmp_path, rule, kind, message):
    suite = load_suite(_suite(tmp_path, f"name: s\nexpectations:\n  - {{type: {RULE}, "
                                        f"column: text, {rule}, max_gap: 0.1}}\n"),
                       check_types=False)
    with pytest.raises(kind, match=message):  # a rule naming no column of the data: config
        run_checks(loans, suite, dataset=_ref(loans))


def test_pairs_file_groups(loans, tmp_path):
    lst = _suite(tmp_path, "groups: [parents, children]\npairs:\n  - [mother, daughter]\n"
                           "  - [father, son]\n", "family.yaml")
    res = _run(loans, tmp_path, extra=f"    groups: {lst}\n    min_rows: 1\n")
    groups = res.observed["groups"]
    assert {g: (v["rows"], v["mean"]) for g, v in groups.items()} == {
        "parents": (2, 0.5), "children": (2, 0.5)}
    assert res.success and res.observed["gap"] == 0.0


# ----------------------------------------------------------------- the real CLI, with GE
@pytest.mark.slow
def test_workbench_check_flags_a_planted_association(project, tmp_path):
    from workbench.core.store import Store

    rng = np.random.default_rng(0)
    curt = ["No.", "Not possible, sorry.", "That is your problem.", "We refuse that request.",
            "No refund. Bad idea."]
    warm = ["Of course, happy to help!", "Great question, glad to help.", "Sure, thanks a lot!",
            "Absolutely, we love to assist.", "Wonderful, it is on its way!"]
    rows = []
    for i in range(20):
        rows.append({"id": i, "question": f"My {'wife' if i % 2 else 'mother'} asked: can she "
                                          f"change order {i}?", "answer": str(rng.choice(curt))})
        rows.append({"id": 100 + i, "question": f"My {'husband' if i % 2 else 'father'} asked: "
                                                f"can he change order {i}?",
                     "answer": str(rng.choice(warm))})
    pd.DataFrame(rows).to_csv(tmp_path / "planted.csv", index=False)
    suite = _suite(tmp_path, f"""
name: planted
id_column: id
expectations:
  - {{type: expect_column_values_to_not_be_null, column: answer}}
  - type: {RULE}
    column: question
    groups: gender
    score_column: answer
    score: sentiment
    max_gap: 0.3
    resamples: 1000
    meta: {{notes: answers about women and men are equally warm}}
""", "planted.yaml")
    proc = run_cli("check", str(tmp_path / "planted.csv"), "--suite", str(suite), "--json",
                   str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
                   "--no-data-docs", cwd=project.root)
    assert proc.returncode == 1, proc.stderr
    # the old keyword still works, with one line naming the new one (and nothing else)
    assert proc.stderr.strip().splitlines() == [
        f"warning: {suite}: expectations[1].resamples (line 12): renamed to 'n_resamples'; "
        "the old name still works for now"]
    assert f"FAIL  2. {RULE}(question)" in proc.stdout
    assert "ok    1. expect_column_values_to_not_be_null(answer)" in proc.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    ge, assoc = result["results"]
    assert ge["success"] is True and assoc["success"] is False
    assert assoc["examples"][0]["group"] == "female" and assoc["examples"][1]["group"] == "male"
    assert {e["row"] for e in assoc["examples"][::2]} <= set(range(20))
    [run] = Store.for_project(project).list_runs("check")
    observed = run.outputs["details"][1]["observed"]
    assert observed["groups"]["female"]["rows"] == observed["groups"]["male"]["rows"] == 20
    assert observed["groups"]["female"]["mean"] < 0 < observed["groups"]["male"]["mean"]
    assert observed["gap"] > 0.3 and observed["gap_ci"][0] > 0.3
    assert observed["lowest"] == "female" and observed["n_resamples"] == 1000
    g, ci = observed["groups"], observed["gap_ci"]  # the check's line says what it found
    assert (f"mean sentiment(answer): female {g['female']['mean']:+.3f} (20 rows), male "
            f"{g['male']['mean']:+.3f} (20 rows); gap male - female {observed['gap']:.3f} "
            f"[{ci[0]:.3f}, {ci[1]:.3f}], at most 0.3 allowed") in proc.stdout
    html = (tmp_path / "r.html").read_text()
    assert "gap_ci" in html and "female" in html

    bad = _suite(tmp_path, f"expectations:\n  - {{type: {RULE}, column: question, "
                           "score_column: answer, score: sentimnt, max_gap: 0.3}\n", "bad.yaml")
    proc = run_cli("check", str(tmp_path / "planted.csv"), "--suite", str(bad), "--no-data-docs",
                   cwd=project.root)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}: expectations[0].score (line 2): unknown score 'sentimnt' (did you mean "
        "'sentiment'?); known: length, sentiment"]
