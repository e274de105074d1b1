"""Each model is evaluated as what it is: train a classifier, a seq2seq model and a causal
LM for real (tiny data, one step), then evaluate each through the `workbench` CLI. A model
whose weights would be newly initialised is refused with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import run_cli

pytestmark = pytest.mark.slow

SPLIT: dict[str, int] = {}
WORDS = {"1": ["great", "lovely", "superb"], "0": ["awful", "dull", "poor"]}


def reviews(n: int = 40) -> pd.DataFrame:
    rows = []
    for i in range(n):
        label = str(i % 2)
        w = WORDS[label][i % 3]
        rows.append({"text": f"The film was {w}, item {i}.", "label": int(label),
                     "gender": "f" if i % 4 < 2 else "m",
                     "question": f"Is film {i} good?", "answer": f"It was {w}."})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def proj(tmp_path_factory):
    import os

    from workbench.core.project import init_project
    from workbench.data import save_version
    from workbench.splits import make_split

    p = init_project(tmp_path_factory.mktemp("tasks") / "proj")
    os.environ["HF_HOME"] = str(p.hf_home)
    dv, _ = save_version(p, reviews(), name="reviews", source="test")
    split = make_split(p, dv, label="label", ratios="0.5,0.1,0.4", seed=0)
    SPLIT["id"] = split.run_id
    return p


def _train_cli(proj, tmp_path: Path, cfg: dict) -> int:
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    proc = run_cli("train", str(path), "--json", str(tmp_path / "train.json"), cwd=proj.root,
                   timeout=600)
    assert proc.returncode == 0, proc.stderr
    return int(json.loads((tmp_path / "train.json").read_text())["run_id"])


def _train(proj, cfg: dict) -> int:
    from workbench.train import parse_config, train

    return train(proj, parse_config(cfg)).run_id


def _evaluate(proj, tmp_path: Path, *args: str) -> tuple[dict, str]:
    out = tmp_path / "eval.json"
    proc = run_cli("evaluate", "--data", f"split:{SPLIT['id']}:test", *args, "--json",
                   str(out), cwd=proj.root, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text()), proc.stdout


TRAINING = {"max_steps": 1, "batch_size": 4, "max_length": 32, "eval_at_start": False,
            "logging_steps": 1, "eval_steps": 1, "save_steps": 1}


def test_classifier_predicts_with_its_head(proj, tmp_path, monkeypatch):
    run = _train_cli(proj, tmp_path, {
        "model": "packaged:minilm-l6", "task": "classification", "method": "full",
        "data": {"split": "reviews", "text": "text", "label": "label", "max_train_rows": 8,
                 "max_eval_rows": 4},
        "training": TRAINING})
    res, stdout = _evaluate(proj, tmp_path, "--model", f"run:{run}", "--label-col", "label",
                            "--prompt-col", "text", "--group-col", "gender")
    assert res["task"] == "classification"
    assert set(res["metrics"]) == {"accuracy", "macro_f1"} and set(res["ci"]) == set(res["metrics"])
    assert res["confusion"]["labels"] == ["0", "1"]
    assert sum(map(sum, res["confusion"]["matrix"])) == res["n"] == 16
    # predicted labels are the model's own classes, never generated text
    pred_counts = [sum(col) for col in zip(*res["confusion"]["matrix"])]
    assert sum(pred_counts) == res["n"]
    fair = res["fairness"]
    assert fair["groups"] == ["f", "m"] and fair["positive_label"] == "1"
    assert set(fair["differences"]) == {"demographic_parity_difference",
                                        "equalized_odds_difference"}
    assert fair["verdict"] in ("flagged", "cleared", "inconclusive")
    assert "confusion matrix" in stdout and "fairness by gender" in stdout
    assert "task:classification" in res["signature"]
    _classifier_on_the_evaluate_page(proj, run, res, monkeypatch)
    # no label column: one line, exit 2
    bad = run_cli("evaluate", "--model", f"run:{run}", "--data", f"split:{SPLIT['id']}:test",
                  "--prompt-col", "text", cwd=proj.root)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        (f"error: --label-col: model 'run:{run}' is a classifier: name the label column to score its "
        "predicted labels against")]


def test_seq2seq_generates_through_its_encoder_decoder(proj, tmp_path):
    import torch

    from workbench.generation import GenerationSettings, generate
    from workbench.models import load_model

    run = _train(proj, {
        "model": "packaged:minilm-l6", "task": "seq2seq", "method": "full",
        "data": {"split": "reviews", "prompt": "question", "response": "answer",
                 "max_train_rows": 8, "max_eval_rows": 2},
        "training": TRAINING, "card": {"max_new_tokens": 3}})
    res, _ = _evaluate(proj, tmp_path, "--model", f"run:{run}", "--prompt-col", "question",
                       "--reference-col", "answer", "--metrics", "accuracy,rouge",
                       "--max-new-tokens", "4", "--batch-size", "3")
    assert res["task"] == "seq2seq" and "task:seq2seq" in res["signature"]
    assert set(res["metrics"]) >= {"accuracy", "rougeL"} and res["n"] == 16
    # batched (right-padded encoder input) equals one prompt at a time through generate()
    model, tok, _, task = load_model(proj, f"run:{run}")
    assert task == "seq2seq" and model.config.is_encoder_decoder
    prompts = ["Is film 3 good?", "Is the very long film number 12 good or not?"]
    got = generate(proj, f"run:{run}", prompts, use_cache=False,
                   settings=GenerationSettings(max_new_tokens=4, batch_size=2),
                   progress=lambda d, t: None)
    for prompt, text in zip(prompts, got):
        enc = tok(prompt, return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**enc, max_new_tokens=4, do_sample=False)
        assert text == tok.decode(out[0], skip_special_tokens=True)


def test_causal_lm_generates_as_before(proj, tmp_path):
    run = _train(proj, {
        "model": "tiny:gpt2", "task": "causal-lm", "method": "full",
        "data": {"split": "reviews", "prompt": "question", "response": "answer",
                 "max_train_rows": 8, "max_eval_rows": 2},
        "training": TRAINING})
    res, _ = _evaluate(proj, tmp_path, "--model", f"run:{run}", "--prompt-col", "question",
                       "--reference-col", "answer", "--max-new-tokens", "4")
    assert "task" not in res and "confusion" not in res
    assert set(res["metrics"]) >= {"bleu", "rougeL"} and "accuracy" not in res["metrics"]


def test_a_model_with_newly_initialised_weights_is_refused(proj):
    """all-MiniLM is an encoder without an LM head: as a causal LM its head would be random."""
    proc = run_cli("evaluate", "--model", "packaged:minilm-l6", "--data",
                   f"split:{SPLIT['id']}:test", "--prompt-col", "text", "--label-col",
                   "label", cwd=proj.root)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: model 'packaged:minilm-l6': ")
    assert "would be newly initialised" in lines[0]


def test_a_t5_checkpoint_generates_as_an_encoder_decoder(proj, tmp_path):
    """A tiny random T5 built here: batched generation (right-padded encoder input) gives
    model.generate's tokens one prompt at a time, and it is evaluated as seq2seq."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        PreTrainedTokenizerFast,
        T5Config,
        T5ForConditionalGeneration,
    )

    from workbench.generation import GenerationSettings, encode_prompts, generate_ids

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe.train_from_iterator(reviews()["question"].tolist() * 3, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<pad>", "</s>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>")
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(
        vocab_size=len(tok), d_model=32, d_ff=64, num_layers=2, num_heads=2, d_kv=16,
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)).eval()
    folder = tmp_path / "t5"
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    prompts = ["Is film 1 good?", "Is the very long film number 12 good or is it not good?"]
    ids = encode_prompts(tok, prompts)
    got = generate_ids(model, tok, ids, settings=GenerationSettings(max_new_tokens=5,
                                                                      batch_size=2))
    for x, new in zip(ids, got):
        with torch.no_grad():
            want = model.generate(input_ids=torch.tensor([x]), max_new_tokens=5,
                                  do_sample=False)[0, 1:].tolist()
        cut = next((j for j, t in enumerate(want) if t == 1), None)
        assert new == (want[:cut + 1] if cut is not None else want)
    res, _ = _evaluate(proj, tmp_path, "--model", str(folder), "--prompt-col", "question",
                       "--reference-col", "answer", "--metrics", "rouge", "--max-new-tokens",
                       "3")
    assert res["task"] == "seq2seq" and res["n"] == 16


def _classifier_on_the_evaluate_page(proj, run: int, cli: dict, monkeypatch) -> None:
    """The Evaluate page offers a classifier's text, label and group columns (preset from
    its training config), runs it in the background and shows what the CLI gave: the
    same metrics, confusion matrix and fairness verdict."""
    from tests.conftest import ROOT, app_page, wait_for_success

    from workbench.core.store import Store

    monkeypatch.setenv("WORKBENCH_PROJECT", str(proj.root))
    monkeypatch.chdir(ROOT)
    at = app_page("evaluate")
    at.selectbox(key="eval_model").set_value(f"run:{run}").run()
    at.selectbox(key="eval_data").set_value(f"split:{SPLIT['id']}:test").run()
    assert at.selectbox(key="eval_cls_text").value == "text"  # from the training config
    assert at.selectbox(key="eval_cls_label").value == "label"
    assert not [w for w in at.number_input if w.key == "eval_max_new"]  # no generation
    at.selectbox(key="eval_group").set_value("gender")
    before = {r.id for r in Store.for_project(proj).list_runs("evaluate")}
    at.button[0].click().run()
    finished = wait_for_success(at, "Evaluation finished")
    errors = [e.value for e in at.error if "Fairness by" not in e.value]
    assert not at.exception and not errors, errors
    new = [r for r in Store.for_project(proj).list_runs("evaluate") if r.id not in before]
    assert len(new) == 1 and f"run {new[0].id}" in finished[0]
    assert at.selectbox(key="eval_run").value == new[0].id  # the page shows the new run
    tables = [d.value for d in at.dataframe]
    metrics = tables[0].set_index("metric")["value"]
    assert metrics.round(6).to_dict() == {m: round(v, 6) for m, v in cli["metrics"].items()}
    confusion = next(t for t in tables if "true \\ predicted" in t.columns)
    assert confusion[["0", "1"]].values.tolist() == cli["confusion"]["matrix"]
    groups = next(t for t in tables if "group" in t.columns)
    assert groups.set_index("group")["n"].to_dict() == cli["fairness"]["counts"]
    verdict = cli["fairness"]["verdict"]
    shown = [m.value.replace("\\", "") for m in (*at.error, *at.success, *at.info)
             if "Fairness by gender" in m.value]
    assert len(shown) == 1 and f"{verdict}:" in shown[0], shown
    diffs = next(t for t in tables if "difference" in t.columns)
    assert diffs["verdict"].tolist() == [d["verdict"] for d in cli["fairness"]["differences"].values()]
