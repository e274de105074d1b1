"""Metrics through the local evaluate modules equal sacrebleu and rouge-score called
directly; bootstrap intervals are seeded; the paired test sees real differences."""

from __future__ import annotations

import numpy as np
import pytest

from workbench.core.errors import WorkbenchError
from workbench.evaluation.metrics import (
    ROUGE_TYPES,
    Scores,
    bootstrap_ci,
    compute_scores,
    normalize_answer,
    paired_bootstrap,
    parse_metrics,
)

PREDS = ["Hold the button for 10 s.", "It ships tomorrow", "Light rain after 3 pm.",
         "Use a card in the app", "Restart the station.\nReplace the batteries.",
         "No.", "", "Open Settings and change the email address."]
REFS = ["Hold the button for 10 s.", "It ships today.", "Light rain after 3 pm.",
        "Use a card in the app.", "Replace the batteries.\nRestart the station.",
        "Yes, in Settings.", "Charge it overnight.", "Yes, in Settings."]


@pytest.fixture(scope="module")
def scores():
    return compute_scores(PREDS, REFS, metrics=["accuracy", "bleu", "rouge"])


def test_bleu_equals_sacrebleu(scores):
    import sacrebleu

    direct = sacrebleu.metrics.BLEU()
    res = direct.corpus_score(PREDS, [REFS])
    assert scores.values()["bleu"] == pytest.approx(res.score, abs=1e-9)
    assert scores.bleu_signature == str(direct.get_signature())
    # any subset's BLEU from summed statistics is that subset's corpus BLEU
    sub = [0, 2, 2, 5, 7]
    assert scores.values(np.array(sub))["bleu"] == pytest.approx(
        sacrebleu.corpus_bleu([PREDS[i] for i in sub], [[REFS[i] for i in sub]]).score)


def test_bleu_with_several_references_equals_sacrebleu():
    import sacrebleu

    refs = [[r, "something else entirely"] if i % 2 else [r] for i, r in enumerate(REFS)]
    s = compute_scores(PREDS, refs, metrics="bleu")
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(2)]
    direct = sacrebleu.metrics.BLEU()
    assert s.values()["bleu"] == pytest.approx(direct.corpus_score(PREDS, streams).score)
    assert s.bleu_signature.startswith("nrefs:var|")


def test_rouge_equals_rouge_score(scores):
    from rouge_score import rouge_scorer

    sc = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)
    direct = [sc.score(r, p) for p, r in zip(PREDS, REFS)]
    for t in ROUGE_TYPES:
        want = [d[t].fmeasure for d in direct]
        assert scores.per_example[t].tolist() == pytest.approx(want)
        assert scores.values()[t] == pytest.approx(float(np.mean(want)))
    # rougeLsum splits on newlines: it differs from rougeL on the two-line example
    assert scores.per_example["rougeLsum"][4] != scores.per_example["rougeL"][4]


def test_accuracy_is_normalised_exact_match(scores):
    assert scores.per_example["accuracy"].tolist() == [1, 0, 1, 1, 0, 0, 0, 0]
    assert normalize_answer("  The  Battery, obviously! ") == "battery obviously"
    raw = compute_scores(["Positive", "negative "], ["positive", "negative"],
                         metrics="accuracy", normalize=False)
    assert raw.per_example["accuracy"].tolist() == [0, 1]


def test_parallel_scoring_equals_serial():
    from workbench.evaluation.metrics._text import bleu_stats, rouge_scores

    preds, refs = PREDS * 3, REFS * 3
    assert bleu_stats(preds, refs, n_jobs=2) == bleu_stats(preds, refs, n_jobs=1)
    assert rouge_scores(preds, refs, n_jobs=2) == rouge_scores(preds, refs, n_jobs=1)


def test_bootstrap_is_seeded_and_brackets_the_estimate(scores):
    ci = bootstrap_ci(scores, n_resamples=1000, seed=3)
    assert ci == bootstrap_ci(scores, n_resamples=1000, seed=3)
    assert ci != bootstrap_ci(scores, n_resamples=1000, seed=4)
    vals = scores.values()
    assert set(ci) == set(vals) == {"accuracy", "bleu", *ROUGE_TYPES}
    for k, (lo, hi) in ci.items():
        assert lo <= vals[k] <= hi, k


def test_paired_bootstrap_finds_a_real_difference():
    rng = np.random.default_rng(0)
    a = Scores(200, {"accuracy": (rng.random(200) < 0.4).astype(float)})
    b = Scores(200, {"accuracy": np.maximum(a.per_example["accuracy"],
                                            (rng.random(200) < 0.3).astype(float))})
    diff = paired_bootstrap(a, b, seed=0)["accuracy"]
    assert diff.diff > 0.1 and diff.ci[0] > 0 and diff.p_value < 0.01
    same = paired_bootstrap(a, a, seed=0)["accuracy"]
    assert same.diff == 0 and same.ci == (0.0, 0.0) and same.p_value == 1.0


@pytest.mark.parametrize("metrics, match", [
    ("blue", r"metrics: unknown metric 'blue' \(did you mean 'bleu'\?\); known: accuracy, "
             "bleu, rouge"),
    ("accuracy,rogue", r"unknown metric 'rogue' \(did you mean 'rouge'\?\)"),
    (",", "metrics: no metric named; choose from accuracy, bleu, rouge"),
])
def test_unknown_metric(metrics, match):
    with pytest.raises(WorkbenchError, match=match):
        parse_metrics(metrics)


def test_too_few_resamples(scores):
    with pytest.raises(WorkbenchError, match="^n resamples: must be an integer >= 1000; got 50"
                       ) as err:
        bootstrap_ci(scores, n_resamples=50)
    assert err.value.param == "n_resamples"  # the CLI shows it as --n-resamples


# ----------------------------------------------------------------- classification (sklearn)
LABEL_CASES = {
    "binary": (list("pnppnnpnpp"), list("ppnpnnpnnp")),
    "three, one never predicted": (list("abcabcabca"), list("abbabbaaba")),
    "a predicted label not in the references": (list("aabbaabb"), list("abcbaacb")),
}


@pytest.mark.parametrize("case", LABEL_CASES)
def test_label_metrics_are_sklearns(case):
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    from workbench.evaluation import score_labels

    true, pred = LABEL_CASES[case]
    rep = score_labels(pred, true)
    assert rep.metrics["accuracy"] == accuracy_score(true, pred)
    assert rep.metrics["macro_f1"] == pytest.approx(
        f1_score(true, pred, average="macro", zero_division=0))
    labels = rep.confusion["labels"]
    assert rep.confusion["matrix"] == confusion_matrix(true, pred, labels=labels).tolist()
    for m in ("accuracy", "macro_f1"):
        lo, hi = rep.ci[m]
        assert lo <= rep.metrics[m] <= hi
    assert rep.to_dict()["task"] == "classification" and "sklearn:" in rep.signature


@pytest.mark.parametrize("case", LABEL_CASES)
def test_resampled_macro_f1_equals_f1_score_on_each_resample(case):
    from sklearn.metrics import f1_score

    from workbench.evaluation.metrics import LabelCodes, macro_f1_resampled

    codes = LabelCodes.from_labels(*LABEL_CASES[case])
    idx = np.random.default_rng(0).integers(0, len(codes.true), size=(40, len(codes.true)))
    got = macro_f1_resampled(codes, idx)
    want = [f1_score(codes.true[r], codes.pred[r], average="macro", zero_division=0)
            for r in idx]
    assert got == pytest.approx(want)


def test_label_scores_pinned_and_seeded():
    from workbench.evaluation import score_labels

    true, pred = LABEL_CASES["binary"]
    a, b = score_labels(pred, true, seed=3), score_labels(pred, true, seed=3)
    assert a.ci == b.ci and a.metrics == {"accuracy": 0.7, "macro_f1": pytest.approx(23 / 33)}  # (6/9 + 8/11) / 2
    assert a.confusion == {"labels": ["n", "p"], "matrix": [[3, 1], [2, 4]]}


def test_label_scores_skip_missing_labels_and_count_missing_predictions():
    from workbench.evaluation import score_labels

    rep = score_labels(["1", None, "0", "1"], ["1", "0", None, 1.0])
    assert rep.n == 3 and rep.metrics["accuracy"] == pytest.approx(2 / 3)
    assert any("1 of 4 rows have no label" in w for w in rep.warnings)
    assert any("1 of 4 predictions were missing" in w for w in rep.warnings)


def test_cohens_kappa_is_sklearns():
    from sklearn.metrics import cohen_kappa_score

    from workbench.review._review import _kappa

    x = ["tie", "a_better", "b_better", "tie", "flag"]
    y = ["tie", "b_better", "b_better", "a_better", "flag"]
    assert _kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))
    assert _kappa(["tie", "b"], ["tie", "a"]) == pytest.approx(1 / 3)  # the pinned value
    assert _kappa(["tie"] * 3, ["tie"] * 3) == 1.0 and _kappa([], []) is None


def test_label_slices_have_their_own_macro_f1():
    from sklearn.metrics import f1_score

    from workbench.evaluation import score_labels

    true, pred = LABEL_CASES["binary"]
    topic = ["x"] * 5 + ["y"] * 5
    rep = score_labels(pred, true, slices={"topic": topic})
    assert rep.slices["topic=y"]["metrics"]["macro_f1"] == pytest.approx(
        f1_score(true[5:], pred[5:], average="macro", zero_division=0))
    assert set(rep.slice_ci["topic=x"]) == {"accuracy", "macro_f1"}


def test_paired_p_value_agrees_with_the_interval_it_is_printed_beside():
    """p < 0.05 exactly when the 95% interval of B - A leaves out zero, on skewed scores too
    (a corpus BLEU-like spread once printed p 0.042 beside [-0.11, 2.81] "no clear change")."""
    checked = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        a = Scores(12, {"m": np.zeros(12)})
        b = Scores(12, {"m": rng.lognormal(-1.0, 1.6, 12) * rng.choice([-1, 1], 12,
                                                                      p=[0.3, 0.7])})
        d = paired_bootstrap(a, b, seed=seed)["m"]
        lo, hi = d.ci
        if min(abs(lo), abs(hi)) < 1e-3 * (hi - lo):
            continue  # zero on the interval's edge: either answer is a rounding
        assert (d.p_value < 0.05) == (lo > 0 or hi < 0), (seed, d)
        checked += 1
    assert checked >= 50
