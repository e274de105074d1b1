"""Classification fairness: fairlearn's numbers, intervals on the project's bootstrap,
three-way verdicts, before/after, and the bad inputs (exit 2 with one line)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.evaluation import (
    classification_fairness,
    compare,
    evaluate_predictions,
    fairness_change,
)
from workbench.evaluation._fairness import _flatten, _GroupCounts


def labelled(n: int, *, gap: float = 0.0, seed: int = 0, groups=("f", "m")):
    """Binary labels for ``n`` examples per group; group 0 gets positive predictions
    ``gap`` more often than the others (on top of an 80%-accurate classifier)."""
    rng = np.random.default_rng(seed)
    refs, preds, gs = [], [], []
    for j, g in enumerate(groups):
        y = rng.random(n) < 0.5
        p = np.where(rng.random(n) < 0.8, y, ~y)
        if j == 0 and gap:
            p = p | (rng.random(n) < gap)
        refs += ["1" if v else "0" for v in y]
        preds += ["1" if v else "0" for v in p]
        gs += [g] * n
    return refs, preds, gs


def test_rates_and_differences_are_fairlearns():
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    refs, preds, gs = labelled(40, gap=0.2, groups=("a", "b", "c"))
    rep = classification_fairness(refs, preds, gs)
    yt = np.array(refs) == "1"
    yp = np.array(preds) == "1"
    mf = MetricFrame(metrics={"accuracy": accuracy_score, "selection_rate": selection_rate,
                              "true_positive_rate": true_positive_rate,
                              "false_positive_rate": false_positive_rate},
                     y_true=yt, y_pred=yp, sensitive_features=np.array(gs))
    for m in ("accuracy", "selection_rate", "true_positive_rate", "false_positive_rate"):
        for g in "abc":
            assert rep.by_group[m][g] == pytest.approx(mf.by_group[m][g])
        assert rep.overall[m] == pytest.approx(mf.overall[m])
        for g in "abc":
            lo, hi = rep.by_group_ci[m][g]
            assert lo <= rep.by_group[m][g] <= hi
    dp = rep.differences["demographic_parity_difference"]
    eo = rep.differences["equalized_odds_difference"]
    assert dp["value"] == pytest.approx(demographic_parity_difference(yt, yp,
                                                                      sensitive_features=gs))
    assert eo["value"] == pytest.approx(equalized_odds_difference(yt, yp, sensitive_features=gs))
    assert rep.counts == {"a": 40, "b": 40, "c": 40} and rep.positive_label == "1"
    assert "fairlearn:" in rep.to_dict()["signature"]


def test_resampled_rates_equal_fairlearn_on_each_resample():
    """The bootstrap counts rates for all resamples at once; each equals fairlearn's."""
    from fairlearn.metrics import (
        MetricFrame,
        demographic_parity_difference,
        equalized_odds_difference,
        selection_rate,
        true_positive_rate,
    )

    refs, preds, gs = labelled(15, gap=0.3, seed=3)
    yt = (np.array(refs) == "1").astype(np.int64)
    yp = (np.array(preds) == "1").astype(np.int64)
    g = (np.array(gs) == "m").astype(np.int64)
    counts = _GroupCounts(yt, yp, (yt == yp).astype(np.int64), g, 2)
    idx = np.random.default_rng(0).integers(0, len(yt), size=(6, len(yt)))
    flat = _flatten(counts.rates(yt[idx], yp[idx], (yt == yp)[idx].astype(np.int64), g[idx]), 2)
    for r, row in enumerate(idx):
        sf = np.array(gs)[row]
        mf = MetricFrame(metrics={"sr": selection_rate, "tpr": true_positive_rate},
                         y_true=yt[row], y_pred=yp[row], sensitive_features=sf)
        assert flat["selection_rate#0"][r] == pytest.approx(mf.by_group["sr"]["f"])
        assert flat["true_positive_rate#1"][r] == pytest.approx(mf.by_group["tpr"]["m"])
        assert flat["demographic_parity_difference"][r] == pytest.approx(
            demographic_parity_difference(yt[row], yp[row], sensitive_features=sf))
        assert flat["equalized_odds_difference"][r] == pytest.approx(
            equalized_odds_difference(yt[row], yp[row], sensitive_features=sf))


@pytest.mark.parametrize("n, gap, verdict", [
    (400, 0.5, "flagged"),       # a large planted gap, many examples
    (1000, 0.0, "cleared"),      # no gap and enough examples to show it within 0.1
    (15, 0.0, "inconclusive"),   # no gap, but far too few examples to tell
])
def test_three_way_verdict(n, gap, verdict):
    rep = classification_fairness(*labelled(n, gap=gap, seed=1))
    assert rep.verdict == verdict
    dp = rep.differences["demographic_parity_difference"]
    expected = {"flagged": "different", "cleared": "equivalent",
                "inconclusive": "inconclusive"}[verdict]
    assert dp["verdict"] == expected
    assert dp["ci"][0] <= dp["value"] <= dp["ci"][1] or verdict == "cleared"


def test_same_seed_same_intervals():
    args = labelled(30, gap=0.2)
    a = classification_fairness(*args, seed=4).to_dict()
    b = classification_fairness(*args, seed=4).to_dict()
    assert a == b


def test_before_after_on_the_same_examples():
    refs, biased, gs = labelled(300, gap=0.5, seed=2)
    _, fair, _ = labelled(300, gap=0.0, seed=2)
    out = fairness_change((refs, biased), (refs, fair), gs)
    dp = out["differences"]["demographic_parity_difference"]
    assert dp["b"] < dp["a"] and dp["ci"][1] < 0 and dp["change"] == "narrowed"
    same = fairness_change((refs, fair), (refs, fair), gs)
    assert same["differences"]["demographic_parity_difference"]["change"] == \
        "unchanged within the margin"


def _preds_file(tmp_path, n=20, **extra):
    refs, preds, gs = labelled(n, gap=0.3)
    frame = pd.DataFrame({"id": range(len(refs)), "prediction": preds, "reference": refs,
                          "gender": gs, **extra})
    path = tmp_path / "labels.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("kwargs, match", [
    ({"metrics": "fairness"},
     (r"^a fairness evaluation needs a group column: name the column that holds each "
     r"example's group$")),
    ({"positive_label": "1"}, r"^a fairness evaluation needs a group column"),
    ({"group_col": "gendr"},
     (r"labels\.csv: no group column 'gendr' \(did you mean 'gender'\?\); columns: id, "
     r"prediction, reference, gender$")),
    ({"group_col": "gender", "positive_label": "yes"},
     r"^positive label 'yes' is not one of the labels \(0, 1\)$"),
])
def test_bad_fairness_inputs(project, tmp_path, kwargs, match):
    with pytest.raises(WorkbenchError, match=match) as err:
        evaluate_predictions(project, _preds_file(tmp_path), **kwargs)
    assert err.value.param in ("group_col", "positive_label")


@pytest.mark.parametrize("call, match", [
    (lambda: classification_fairness(["1", "0"], ["1", "0"], ["a", "a"]),
     r"^group column 'group' has 1 group\(s\) \(a\); fairness compares at least 2$"),
    (lambda: classification_fairness(["a", "b", "c"], ["a", "b", "c"], ["x", "y", "x"]),
     (r"^fairness needs to know the positive class among the labels \(a, b, c\); name the "
     r"positive label$")),
    (lambda: classification_fairness(["1", "0"], ["1", "0"], ["a", "b"], margin=0),
     r"^equivalence margin must be greater than 0; got 0$"),
    (lambda: classification_fairness(["1", "0"], ["1", "0"], ["a", "b"], min_effect=-1),
     r"^minimum effect must be greater than 0; got -1$"),
])
def test_bad_fairness_settings(call, match):
    with pytest.raises(WorkbenchError, match=match):
        call()


def test_predictions_file_with_groups_is_a_classification(project, tmp_path):
    rep = evaluate_predictions(project, _preds_file(tmp_path), group_col="gender")
    d = rep.to_dict()
    assert d["task"] == "classification" and set(d["metrics"]) == {"accuracy", "macro_f1"}
    assert d["confusion"]["labels"] == ["0", "1"]
    assert sum(map(sum, d["confusion"]["matrix"])) == rep.n == 40
    assert d["fairness"]["groups"] == ["f", "m"] and d["fairness"]["verdict"] in (
        "flagged", "cleared", "inconclusive")
    assert rep.records[0]["gender"] == "f"


def test_compare_refuses_fairness_without_labels(project, tmp_path):
    a = evaluate_predictions(project, _preds_file(tmp_path), group_col="gender")
    b = evaluate_predictions(project, _preds_file(tmp_path), metrics="classification")
    with pytest.raises(WorkbenchError, match=r"its records have no group column 'gender'"):
        compare(project, f"run:{a.run_id}", f"run:{b.run_id}", group_col="gender")


@pytest.mark.slow
def test_cli_fairness_report_json_and_bad_input(project, tmp_path):
    path = _preds_file(tmp_path)
    out = tmp_path / "f.json"
    proc = run_cli("evaluate", "--predictions", str(path), "--group-col", "gender",
                   "--json", str(out), cwd=project.root)
    res = json.loads(out.read_text())
    # a flagged fairness verdict exits 1, as a flagged probe does
    assert proc.returncode == (1 if res["fairness"]["verdict"] == "flagged" else 0), proc.stderr
    assert f"fairness verdict: {res['fairness']['verdict']}" in proc.stdout
    assert "fairness by gender" in proc.stdout and "demographic_parity_difference" in proc.stdout
    assert "confusion matrix" in proc.stdout
    assert res["fairness"]["differences"]["equalized_odds_difference"]["verdict"] in (
        "different", "equivalent", "inconclusive")
    bad = run_cli("evaluate", "--predictions", str(path), "--metrics", "fairness",
                  cwd=project.root)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        ("error: --group-col: a fairness evaluation needs a group column: name the column that holds each "
        "example's group")]
    unknown = run_cli("evaluate", "--predictions", str(path), "--group-col", "sex",
                      cwd=project.root)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1
    assert "no group column 'sex'" in unknown.stderr
    # before/after on the same data
    first = json.loads(out.read_text())
    assert first["n"] == 40
    again = run_cli("evaluate", "--predictions", str(path), "--group-col", "gender",
                    cwd=project.root)
    assert again.returncode == proc.returncode
    runs = [line.split()[1].rstrip(":") for line in (proc.stdout + again.stdout).splitlines()
            if line.startswith("run ")]
    cmp_out = tmp_path / "c.json"
    cmp = run_cli("evaluate", "--compare", f"run:{runs[0]}", f"run:{runs[1]}", "--group-col",
                  "gender", "--json", str(cmp_out), cwd=project.root)
    assert cmp.returncode == 0, cmp.stderr
    change = json.loads(cmp_out.read_text())["fairness"]["differences"]
    assert change["demographic_parity_difference"]["diff"] == 0
    assert change["demographic_parity_difference"]["change"] == "unchanged within the margin"


def test_fairness_of_a_text_model_is_refused(project, tiny_model, tmp_path):
    """Fairness by group needs predicted labels; a causal LM writes text."""
    from workbench.data import save_version
    from workbench.evaluation import evaluate_model

    refs, _, gs = labelled(4)
    save_version(project, pd.DataFrame({"question": [f"q{i}" for i in range(8)],
                                        "label": refs, "gender": gs}), name="d", source="t")
    with pytest.raises(WorkbenchError, match=r"^model 'tiny:gpt2': a causal-lm model writes "
                                             r"text; fairness by group needs predicted labels"):
        evaluate_model(project, model="tiny:gpt2", data="d", label_col="label",
                       group_col="gender")
    with pytest.raises(WorkbenchError, match=r"^d@\w+: no group column 'gendre' \(did you "
                                             r"mean 'gender'\?\)"):
        evaluate_model(project, model="tiny:gpt2", data="d", label_col="label",
                       group_col="gendre")


def test_an_undefined_rate_is_inconclusive_never_equivalent():
    """Group b has no negative example: its FPR, so equalized odds, is undefined."""
    refs = ["1", "0"] * 50 + ["1"] * 100
    preds = list(refs)
    gs = ["a"] * 100 + ["b"] * 100
    rep = classification_fairness(refs, preds, gs)
    eo = rep.differences["equalized_odds_difference"]
    assert eo["verdict"] == "inconclusive" and rep.verdict != "cleared"
    assert any("equalized odds difference: undefined" in w for w in rep.warnings)
