"""`workbench evaluate`: model on a split, predictions files, comparison, reports, bad input."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.core.store import Store
from workbench.evaluation import (
    MIN_SLICE,
    compare,
    eval_run_label,
    evaluate_model,
    evaluate_predictions,
    report_from_run,
    score_examples,
)
from workbench.reports import render_compare_html, render_html

REFS = ["Hold the button for 10 s.", "It ships today.", "Light rain after 3 pm.",
        "Use a card in the app.", "Replace the batteries.", "Yes, in Settings."] * 6
GOOD = list(REFS)
GOOD[1], GOOD[8], GOOD[15] = "It ships tomorrow.", "", "No rain."
BAD = ["I do not know."] * len(REFS)
BAD[0] = "Hold the button for 10 s."


def _write(tmp_path, name, preds, refs=REFS, **cols):
    frame = pd.DataFrame({"id": [f"q{i}" for i in range(len(preds))], "prediction": preds,
                          "reference": refs, **cols})
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return path


def test_score_examples_counts_nan_predictions_and_small_slices():
    preds = [np.nan, "It ships today.", None, "use a card in the app"]
    rep = score_examples(preds, REFS[:4], slices={"topic": ["a", "a", "b", np.nan]},
                         metrics="accuracy,bleu,rouge")
    assert rep.empty_predictions == 2
    assert rep.records[0]["prediction"] == "" and rep.records[2]["prediction"] == ""
    assert "2 of 4 predictions were missing (NaN) and were scored as empty strings" in rep.warnings
    assert rep.metrics["accuracy"] == 0.5
    assert set(rep.slices) == {"topic=a", "topic=b", "topic=(missing)"}
    assert rep.slices["topic=a"] == {"n": 2, "metrics": pytest.approx(
        {"accuracy": 0.5, "bleu": rep.slices["topic=a"]["metrics"]["bleu"], "rouge1": 0.5,
         "rouge2": 0.5, "rougeL": 0.5, "rougeLsum": 0.5})}
    assert any(w.startswith(f"slice topic=a has only 2 examples (< {MIN_SLICE})")
               for w in rep.warnings)
    assert list(rep.to_dict()) == ["n", "metrics", "ci", "slices", "signature"]
    assert "BLEU nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp" in rep.signature


def test_predictions_file_is_scored_stored_and_reported(project, tmp_path):
    path = _write(tmp_path, "preds.jsonl", GOOD,
                  topic=(["setup", "shipping", "weather"] * 12))
    rep = evaluate_predictions(project, path, slices=["topic"], metrics="accuracy,bleu,rouge")
    assert rep.n == 36 and rep.metrics["accuracy"] == pytest.approx(33 / 36)
    assert all(len(v) == 2 and v[0] <= rep.metrics[k] <= v[1] for k, v in rep.ci.items())
    run = Store.for_project(project).get_run(rep.run_id, kind="evaluate")
    assert run.outputs["result"] == json.loads(json.dumps(rep.to_dict()))
    lines = (project.runs_dir / str(rep.run_id) / "examples.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert {"id", "prompt", "prediction", "reference", "topic", "accuracy", "rougeL"} <= set(first)
    again = report_from_run(project, f"run:{rep.run_id}")
    assert again.metrics == rep.metrics and again.records == json.loads(json.dumps(rep.records))


def test_reports_escape_model_output(project, tmp_path):
    evil = "<script>alert('x')</script>"
    rep = evaluate_predictions(project, _write(tmp_path, "p.csv", [evil] + GOOD[1:],
                                               topic=[evil] * 36), slices=["topic"])
    html = render_html(rep)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html
    assert "Worst examples" in html and "95% interval" in html and rep.signature[:40] in html


def test_compare_finds_the_better_run(project, tmp_path):
    a = evaluate_predictions(project, _write(tmp_path, "a.csv", BAD), metrics="accuracy,bleu,rouge")
    b = evaluate_predictions(project, _write(tmp_path, "b.csv", GOOD), metrics="accuracy,bleu,rouge")
    rep = compare(project, f"run:{a.run_id}", str(b.run_id), seed=1)
    d = rep.differences["accuracy"]
    assert d["diff"] == pytest.approx(33 / 36 - 1 / 36)
    assert d["ci"][0] > 0 and d["p_value"] < 0.01
    assert set(rep.differences) == {"accuracy", "bleu", "rouge1", "rouge2", "rougeL", "rougeLsum"}
    assert rep.changed[0]["delta"] > 0 and rep.n == 36
    # files work too and give the same numbers as the runs
    again = compare(project, str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), seed=1,
                    metrics="accuracy,bleu,rouge")
    for m, d in rep.differences.items():
        assert again.differences[m]["diff"] == pytest.approx(d["diff"])
        assert again.differences[m]["ci"] == pytest.approx(d["ci"])
    html = render_compare_html(rep)
    assert "B better" in html and "&lt;" not in html.split("<body>")[0]
    lineage = Store.for_project(project).lineage(("run", rep.run_id))
    assert {p["id"] for p in lineage["parents"]} == {str(a.run_id), str(b.run_id)}


@pytest.fixture
def eval_data(project, qa_frame, tmp_path):
    from workbench.data import import_dataset

    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    qa_frame.drop(columns=["answer"]).to_csv(tmp_path / "noref.csv", index=False)
    import_dataset(project, str(tmp_path / "qa.csv"), name="qa")
    return tmp_path


BAD_INPUTS = [
    ("missing column", lambda p, t: evaluate_predictions(p, _missing_col(t)),
     r"p\.csv: no 'reference' column \(did you mean 'references'\?\); a predictions file "
     r"needs 'prediction' and 'reference' \(optional: 'id', slice columns\); it has: "
     r"prediction, references"),
    ("empty file", lambda p, t: evaluate_predictions(p, _touch(t / "e.csv")),
     r"e\.csv: the file is empty"),
    ("header only", lambda p, t: evaluate_predictions(p, _text(t / "h.csv", "prediction,reference\n")),
     r"h\.csv: has a header but no data rows"),
    ("unknown metric", lambda p, t: evaluate_predictions(p, t / "x.csv", metrics="accuracy,blue"),
     r"metrics: unknown metric 'blue' \(did you mean 'bleu'\?\); known: accuracy, bleu, rouge"),
    ("reference-less data for bleu",
     lambda p, t: evaluate_model(p, model="tiny:gpt2", data=str(t / "noref.csv"), metrics="bleu"),
     r"noref\.csv: no reference column 'answer' for bleu; columns: question, topic; name "
     r"the reference column, or score a split that has references"),
    ("missing prompt column",
     lambda p, t: evaluate_model(p, model="tiny:gpt2", data="qa", prompt_col="questoin"),
     r"qa@\w+: no prompt column 'questoin' \(did you mean 'question'\?\); columns: question, "
     r"answer, topic$"),
    ("unknown slice", lambda p, t: evaluate_model(p, model="tiny:gpt2", data="qa", slices=["topc"]),
     r"slice: no column 'topc' in qa@\w+ \(did you mean 'topic'\?\)"),
    ("unknown split", lambda p, t: evaluate_model(p, model="tiny:gpt2", data="split:9"),
     r"no split with id 9; stored splits: none"),
    ("summary json to compare", lambda p, t: compare(p, _text(t / "r.json", "{}"), "run:1"),
     r"r\.json: a result summary has no per-example scores; give the run \(run:ID\)"),
    ("unknown run to compare", lambda p, t: compare(p, "run:77", "run:78"),
     r"no evaluation run 'run:77'; evaluation runs: none yet"),
]


def _touch(path):
    path.write_text("")
    return path


def _text(path, text):
    path.write_text(text)
    return str(path)


def _missing_col(t):
    return _text(t / "p.csv", "prediction,references\na,b\n")


@pytest.mark.parametrize("case, call, match", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_name_the_problem(eval_data, project, case, call, match):
    with pytest.raises(WorkbenchError, match=match):
        call(project, eval_data)
    assert Store.for_project(project).list_runs("evaluate") == []  # nothing half-recorded


@pytest.mark.slow
def test_cli_bad_inputs_exit_2_with_one_line(eval_data, project):
    for args, msg in [
        (["--predictions", str(_missing_col(eval_data))], "no 'reference' column"),
        (["--model", "tiny:gpt2"], "evaluate: --data is missing"),
        (["--predictions", "x.csv", "--compare", "1", "2"], "give exactly one of"),
        (["--predictions", str(_touch(eval_data / "e.jsonl"))], "the file is empty"),
        (["--predictions", str(_write(eval_data, "ok.csv", GOOD)), "--n-resamples", "50"],
         r"^error: --n-resamples: must be an integer >= 1000; got 50$"),
        (["--model", "tiny:gpt2", "--data", str(eval_data / "noref.csv"), "--metrics", "bleu"],
         r"error: --reference-col: \S*noref\.csv: no reference column 'answer' for bleu"),
    ]:
        proc = run_cli("evaluate", *args, cwd=project.root)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and re.search(msg, proc.stderr), proc.stderr


@pytest.mark.slow
def test_cli_predictions_then_compare(project, tmp_path):
    a, b = _write(tmp_path, "a.csv", BAD), _write(tmp_path, "b.jsonl", GOOD)
    proc = run_cli("evaluate", "--predictions", str(a), "--json", str(tmp_path / "a.json"),
                   "--html", str(tmp_path / "a.html"), "--resamples", "1200", cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    # the old flag is a hidden alias of --n-resamples: it works, and says the new name
    assert proc.stderr.splitlines()[0] == ("warning: --resamples is renamed --n-resamples; "
                                           "the old name still works for now")
    res = json.loads((tmp_path / "a.json").read_text())
    assert "boot:1200,seed:0" in res["signature"]
    assert list(res) == ["run_id", "n", "metrics", "ci", "slices", "signature"] and res["n"] == 36
    assert "rougeLsum" in proc.stdout and "95% interval" in proc.stdout
    assert (tmp_path / "a.html").stat().st_size < 2_000_000
    assert "accuracy" not in res["metrics"]  # exact match of free text only when asked for
    proc = run_cli("evaluate", "--compare", str(a), str(b), "--metrics", "accuracy,rouge",
                   "--correct", "holm", "--json", "-", "--n-resamples", "1100", cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "boot:paired,1100,seed:0" in out["signature"] and "--resamples" not in proc.stderr
    assert out["metrics"]["accuracy"]["ci"][0] > 0 and out["correction"] == "holm"
    raw = [d["p_value"] for d in out["metrics"].values()]
    from workbench.evaluation.metrics import adjust_pvalues

    assert [d["p_adjusted"] for d in out["metrics"].values()] == adjust_pvalues(raw)
    assert len(raw) == 5 and "correct:holm" in out["signature"] and "p (holm)" in proc.stderr
    assert out["sides"]["a"] == {"label": "a.csv", "run_id": None, "data": "a.csv",
                                 "split": None, "model": None, "training_run": None,
                                 "leakage": None}


@pytest.mark.slow
def test_cli_compare_runs_scored_on_different_metrics(project, tmp_path):
    """One run scored bleu,rouge, the other accuracy,bleu: the comparison covers what both
    have (bleu) instead of failing on the ROUGE score one side lacks."""
    a, b = _write(tmp_path, "a.csv", BAD), _write(tmp_path, "b.csv", GOOD)
    for path, metrics in ((a, "bleu,rouge"), (b, "accuracy,bleu")):
        proc = run_cli("evaluate", "--predictions", str(path), "--metrics", metrics,
                       cwd=project.root)
        assert proc.returncode == 0, proc.stderr
    proc = run_cli("evaluate", "--compare", "run:1", "run:2", "--correct", "holm", "--json", "-",
                   cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out["metrics"]) == ["bleu"] and out["metrics"]["bleu"]["diff"] > 0


def test_sentiment_metric_by_group_slice_from_the_terminal(project, tmp_path):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    curt, warm = "No. This is a silly problem. Read the manual.", "Happy to help, thanks!"
    preds = [curt, warm, curt, warm] * 3
    group = ["woman", "man"] * 6
    preds[2] = warm  # one warm answer to a woman: the woman slice's mean is not the curt one
    path = _write(tmp_path, "g.csv", preds, REFS[:12], gender=group)
    proc = run_cli("evaluate", "--predictions", str(path), "--metrics", "sentiment",
                   "--slice", "gender", "--json", str(tmp_path / "g.json"), cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "g.json").read_text())
    vader = {t: SentimentIntensityAnalyzer().polarity_scores(t)["compound"] for t in (curt, warm)}
    women = (5 * vader[curt] + vader[warm]) / 6
    assert res["metrics"]["sentiment"] == pytest.approx(np.mean([vader[p] for p in preds]))
    assert res["slices"]["gender=woman"]["metrics"]["sentiment"] == pytest.approx(women)
    assert res["slices"]["gender=man"]["metrics"]["sentiment"] == pytest.approx(vader[warm])
    assert "sentiment:vader-compound,prediction" in res["signature"]
    # the terminal's slice table gives each value its interval (a man's: one point)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("gender=man"))
    w = f"{vader[warm]:.3f}"
    assert f"{w} [{w}, {w}]" in row and list(res["metrics"]) == ["sentiment"]


def _recorded_as(store, run_id: int, **generation) -> int:
    """A copy of evaluation run ``run_id`` whose generation settings say ``generation``
    (``None`` drops a key, as a run recorded before it existed lacks it)."""
    run = store.get_run(run_id)
    gen = {**run.config["generation"], **generation}
    cfg = {**run.config, "generation": {k: v for k, v in gen.items() if v is not None}}
    new = store.start_run("evaluate", name=run.name, config=cfg, input_hashes=run.input_hashes)
    store.finish_run(new, status="succeeded", outputs={**run.outputs, "run_id": new})
    return new


@pytest.mark.slow
def test_evaluate_model_on_a_split_base_vs_other(project, tiny_model, qa_frame):
    """The tiny model on a real split: records, lineage, cache, and a comparison."""
    from workbench.data import save_version
    from workbench.generation import GenerationSettings
    from workbench.splits import make_split

    frame = pd.concat([qa_frame] * 5, ignore_index=True)
    frame["answer"] = frame["answer"] + " " + frame.index.astype(str)
    dv, _ = save_version(project, frame, name="qa", source="test")
    split = make_split(project, "qa", label="topic", ratios="0.5,0.5", seed=0)
    s = GenerationSettings(max_new_tokens=6)
    base = evaluate_model(project, model="tiny:gpt2", data=f"split:{split.run_id}",
                          slices=["topic"], settings=s, progress=lambda d, t: None)
    assert base.n == 15 and base.source == f"split:{split.run_id}:test"
    assert {r["id"] for r in base.records} <= set(range(30))
    assert all(r["prompt"] in set(qa_frame["question"]) for r in base.records)
    tmpl = evaluate_model(project, model="tiny:gpt2", data=f"split:{split.run_id}:test",
                          template="Q: {question}\nA:", settings=s, stop=["\n"],
                          progress=lambda d, t: None)
    assert tmpl.records[0]["prompt"].startswith("Q: ")
    rep = compare(project, str(base.run_id), str(tmpl.run_id))
    assert rep.n == 15 and set(rep.differences) >= {"bleu", "rougeL"}
    assert "accuracy" not in base.metrics and rep.correction is None
    # the split repeats each question: its leakage check found duplicates across its
    # parts, and the evaluation, its JSON, its HTML and the comparison say so with counts
    leak = split.manifest["leakage"]
    exact, near = leak["exact"]["cross_split_clusters"], leak["near"]["cross_split_pairs"]
    assert exact + near > 0
    assert base.to_dict()["leakage"] == {
        "split": f"split:{split.run_id}", "part": "test", "checked": True,
        "exact_clusters": exact, "near_pairs": near, "found": True, "dedupe": False,
        "message": f"split:{split.run_id}'s leakage check found {exact} exact-duplicate "
                   f"group(s) and {near} near-duplicate pair(s) across its parts: the test "
                   "part may hold examples seen in training, so scores can be too good; "
                   "split again with dedupe"}
    assert base.leakage["message"] in base.warnings
    assert f"({exact} exact, {near} near)" in render_html(base)
    for side in ("A", "B"):
        assert any(w.startswith(f"{side} (run:") and base.leakage["message"] in w
                   for w in rep.warnings)
    assert rep.sides["b"]["split"] == f"split:{split.run_id}" and \
        rep.sides["b"]["data"] == f"split:{split.run_id}:test"
    assert rep.sides["a"]["model"] == "tiny:gpt2" and rep.sides["a"]["training_run"] is None
    assert render_compare_html(rep).count('badge fail leakage">leaked</span> '
                                          f"{exact} exact-duplicate group(s), {near}") == 2
    clean = make_split(project, "qa", label="topic", ratios="0.5,0.5", seed=0, dedupe=True)
    deduped = evaluate_model(project, model="tiny:gpt2", data=f"split:{clean.run_id}",
                             settings=s, progress=lambda d, t: None)
    assert deduped.leakage["found"] is False and not any("leakage" in w
                                                         for w in deduped.warnings)
    longer = evaluate_model(project, model="tiny:gpt2", data=f"split:{split.run_id}:test",
                            settings=GenerationSettings(max_new_tokens=8),
                            progress=lambda d, t: None)
    with pytest.raises(WorkbenchError, match=r"^compare: the two evaluations generated "
                       r"differently \(max new tokens: 6 in A, 8 in B\); evaluate both"):
        compare(project, str(base.run_id), str(longer.run_id))
    store = Store.for_project(project)
    # the device and precision are in the signature, the report and the run's settings...
    assert "|device:cpu-fp32|" in base.signature and "device:cpu-fp32" in render_html(base)
    assert store.get_run(base.run_id).config["generation"]["device"] == "cpu-fp32"
    assert eval_run_label(store.get_run(base.run_id)).endswith(
        "· completion · greedy · 6 tokens · cpu-fp32")
    # ...and a run generated on another device (as a GPU machine records it) is refused;
    # a run recorded before devices were (no device) is not
    on_gpu, older = (_recorded_as(store, tmpl.run_id, device=d) for d in ("cuda-bf16", None))
    with pytest.raises(WorkbenchError, match=r"generated differently \(device: cpu-fp32 in "
                                             r"A, cuda-bf16 in B\)"):
        compare(project, str(base.run_id), str(on_gpu))
    assert compare(project, str(base.run_id), str(older)).n == 15
    parents = store.lineage(("run", base.run_id))["parents"]
    assert {"type": "run", "id": str(split.run_id), "relation": "evaluated-on"} in parents
    assert store.get_run(base.run_id).input_hashes["data"]
    # the run's duration covers loading the model and generating, not only the scoring
    bounds = store.get_run(base.run_id)
    assert bounds.duration_s > 0.05 and bounds.started < bounds.finished


def test_label_column_scores_accuracy_only(eval_data, project, tiny_model):
    from workbench.generation import GenerationSettings

    rep = evaluate_model(project, model="tiny:gpt2", data="qa", label_col="topic",
                         settings=GenerationSettings(max_new_tokens=3),
                         progress=lambda d, t: None)
    assert list(rep.metrics) == ["accuracy"] and rep.n == 6
    assert rep.records[0]["reference"] == "setup"
    assert "metrics:accuracy|" in rep.signature and "BLEU" not in rep.signature


def test_classification_report_shows_confusion_and_fairness(project, tmp_path):
    """The HTML and the stored run carry the classification metrics, the confusion
    matrix and the fairness table; untrusted labels and groups are escaped."""
    frame = pd.DataFrame({"prediction": ["1", "0", "1", "1"] * 5,
                          "reference": ["1", "0", "0", "1"] * 5,
                          "grp": ["<b>x</b>", "y"] * 10})
    path = tmp_path / "labels.csv"
    frame.to_csv(path, index=False)
    rep = evaluate_predictions(project, path, group_col="grp")
    html = render_html(rep)
    assert "Confusion matrix" in html and "Fairness by grp" in html and "macro_f1" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    badge = {"flagged": '<span class="badge fail">FLAGGED</span>',
             "cleared": '<span class="badge pass">cleared</span>',
             "inconclusive": '<span class="badge warn">inconclusive</span>'}
    assert badge[rep.fairness["verdict"]] in html
    assert '<span class="badge pass">inconclusive' not in html
    back = report_from_run(project, rep.run_id)
    assert back.to_dict() == json.loads(json.dumps(rep.to_dict()))
    assert back.confusion == {"labels": ["0", "1"], "matrix": [[5, 5], [0, 10]]}
    b = evaluate_predictions(project, path, group_col="grp")
    cmp = compare(project, f"run:{rep.run_id}", f"run:{b.run_id}", group_col="grp")
    assert "macro_f1" in cmp.differences and cmp.differences["macro_f1"]["diff"] == 0
    assert "Fairness by grp, before and after" in render_compare_html(cmp)
