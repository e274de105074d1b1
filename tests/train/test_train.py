"""Fine-tuning: configs, bad inputs (exit 2 before training), a real tiny Trainer run,
LoRA, classification, model card, store records, corrupt checkpoints."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import run_cli
from workbench.core.errors import ConfigError, DataError, NotFoundError, WorkbenchError

TOPICS = ["setup", "shipping", "billing", "weather"]
SPLIT: dict[str, int] = {}


def qa_rows(n: int = 48) -> pd.DataFrame:
    rows = []
    for i in range(n):
        t = TOPICS[i % 4]
        rows.append({"question": f"Question {i} about {t}: how do I fix item {i % 7}?",
                     "answer": f"For {t}, open Settings and press button {i % 7}.",
                     "topic": t, "sentiment": "pos" if i % 2 else "neg"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def tproj(tmp_path_factory):
    """A project with a stored QA dataset, a 3-way split of it and tiny:gpt2 built."""
    from workbench.core.project import init_project
    from workbench.data import save_version
    from workbench.models import prepare_model
    from workbench.splits import make_split

    p = init_project(tmp_path_factory.mktemp("train") / "proj")
    os.environ["HF_HOME"] = str(p.hf_home)
    dv, _ = save_version(p, qa_rows(), name="qa", source="test")
    rep = make_split(p, dv, label="topic", ratios="0.6,0.2,0.2", seed=0)
    prepare_model(p, "tiny:gpt2")
    SPLIT["id"] = rep.run_id
    return p


def base_config(**over) -> dict:
    cfg = {"model": "tiny:gpt2", "task": "causal-lm", "method": "full",
           "data": {"split": "qa", "prompt": "question", "response": "answer",
                    "max_eval_rows": 8},
           "training": {"max_steps": 4, "batch_size": 4, "max_length": 64, "logging_steps": 1,
                        "eval_steps": 2, "save_steps": 2, "learning_rate": 1e-3}}
    for key, value in over.items():
        node = cfg
        *parents, last = key.split(".")
        for k in parents:
            node = node.setdefault(k, {})
        if value is _DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return cfg


_DROP = object()


def write_cfg(tmp_path: Path, cfg: dict, name: str = "cfg.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------- config errors
@pytest.mark.parametrize("over, message", [
    ({"epochz": 3}, r"^c\.yaml: epochz: unknown key; allowed: name, model, task"),
    ({"training.lr": 0.1},
     r"^c\.yaml: training\.lr: unknown key \(did you mean 'learning_rate'\?\); allowed: "),
    ({"data.promt": "q"}, r"^c\.yaml: data\.promt: unknown key \(did you mean 'prompt'\?\)"),
    ({"training.learning_rate": 0}, r"^c\.yaml: training\.learning_rate: must be greater "
                                    r"than 0; got 0$"),
    ({"training.learning_rate": -1e-4}, r"training\.learning_rate: must be greater than 0; "
                                        r"got -0\.0001$"),
    ({"training.max_length": 4}, r"^c\.yaml: training\.max_length: must be greater than or "
                                 r"equal to 8; got 4$"),
    ({"training.batch_size": 0}, r"^c\.yaml: training\.batch_size: must be greater than or "
                                 r"equal to 1; got 0$"),
    ({"model": _DROP}, r"^c\.yaml: model: required key is missing$"),
    ({"task": "summarise"}, r"^c\.yaml: task: must be 'causal-lm', 'classification' or "
                            r"'seq2seq'; got 'summarise'$"),
    ({"data.response": _DROP}, r"^c\.yaml: data\.response: required for task 'causal-lm' "
                               r"\(the target column\)$"),
    ({"task": "classification"}, r"^c\.yaml: data\.text: required for task 'classification'"),
    ({"training.early_stopping_patience": 2, "training.save_steps": 3},
     r"training\.save_steps: must be a multiple of training\.eval_steps \(2\)"),
    ({"lr_search.max_lr": 1e-7}, r"^c\.yaml: lr_search: max_lr must be greater than min_lr"),
    ({"task": "seq2seq", "method": "lora"},
     r"^c\.yaml: method: 'lora' is not supported for task 'seq2seq'; use method: full$"),
])
def test_config_errors_name_file_and_key(over, message):
    from workbench.train import parse_config

    with pytest.raises(WorkbenchError, match=message):
        parse_config(base_config(**over), source="c.yaml")


def test_a_split_id_may_be_written_as_a_number():
    from workbench.train import parse_config

    assert parse_config(base_config(**{"data.split": 3}), source="c.yaml").data.split == "3"
    with pytest.raises(WorkbenchError, match=r"^c\.yaml: data\.split: must be a valid string"):
        parse_config(base_config(**{"data.split": True}), source="c.yaml")


def test_config_file_errors(tmp_path):
    from workbench.train import load_config

    with pytest.raises(NotFoundError, match=r"nope\.yaml: no such config file"):
        load_config(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    with pytest.raises(WorkbenchError, match=r"bad\.yaml: not valid YAML"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping"):
        load_config(tmp_path / "list.yaml")


def test_write_learning_rate_keeps_comments(tmp_path):
    from workbench.train import load_config, write_learning_rate

    path = write_cfg(tmp_path, base_config())
    text = path.read_text().replace("learning_rate: 0.001", "learning_rate: 0.001  # tuned")
    path.write_text("# my config\n" + text)
    write_learning_rate(path, 0.000312)
    assert load_config(path).training.learning_rate == pytest.approx(0.000312)
    assert path.read_text().startswith("# my config") and "# tuned" in path.read_text()
    bare = tmp_path / "bare.yaml"
    bare.write_text("model: tiny:gpt2\ndata: {split: qa, prompt: question, response: answer}\n")
    write_learning_rate(bare, 0.02)
    assert load_config(bare).training.learning_rate == 0.02


# --------------------------------------------------------------- errors before training
@pytest.mark.parametrize("over, message", [
    ({"model": "tiny:gpt3"}, r"^c\.yaml: model: unknown tiny model 'gpt3' \(did you mean "
                             r"'gpt2'\?\)"),
    ({"model": "./no/such/folder"}, r"^c\.yaml: model: model './no/such/folder': no such "
                                    r"folder"),
    ({"data.split": "qaa"}, r"^c\.yaml: data\.split: no split of dataset 'qaa' \(did you "
                            r"mean 'qa'\?\); datasets with splits: qa\b"),
    ({"data.split": "split:999"}, r"^c\.yaml: data\.split: no split with id 999; stored "
                                  r"splits: "),
    ({"data.response": "answr"}, r"^c\.yaml: data\.response: split:\d+ has no column 'answr' "
                                 r"\(did you mean 'answer'\?\); columns: question, answer"),
    ({"data.eval_part": "validation", "data.split": "SPLIT2"},
     r"data\.eval_part: split:\d+ has no part 'validation'; it has: train, test"),
    ({"training.max_length": 8}, r"^c\.yaml: data: the training set is empty after "
                                 r"tokenisation \((\d+) rows in split:\d+:train; 0 with an empty "
                                 r"question/answer, \1 whose prompt alone fills "
                                 r"training\.max_length=8\)"),
])
def test_bad_inputs_fail_before_training(tproj, over, message):
    from workbench.core.store import Store
    from workbench.data import save_version
    from workbench.splits import make_split
    from workbench.train import parse_config, plan_training

    cfg = base_config(**over)
    if cfg["data"]["split"] == "SPLIT2":
        dv, _ = save_version(tproj, qa_rows(), name="qa2", source="test")
        two = make_split(tproj, dv, label="topic", ratios="0.75,0.25", seed=1)
        cfg["data"]["split"] = f"split:{two.run_id}"
    before = len(Store.for_project(tproj).list_runs("train"))
    kind = {"data.split": NotFoundError, "data.response": ConfigError,
            "data.eval_part": NotFoundError, "training.max_length": DataError}
    with pytest.raises(kind.get(next(iter(over)), WorkbenchError), match=message):
        plan_training(tproj, parse_config(cfg), source="c.yaml")
    assert len(Store.for_project(tproj).list_runs("train")) == before


@pytest.mark.slow
@pytest.mark.parametrize("over, message", [
    ({"training.lr": 1}, "training.lr (line 17): unknown key (did you mean 'learning_rate'?)"),
    ({"training.learning_rate": -1},
     "training.learning_rate (line 16): must be greater than 0; got -1"),
    ({"data.prompt": "qestion"}, "data.prompt: split:1 has no column 'qestion' (did you mean "
                                 "'question'?)"),
    ({"training.max_length": 8}, "data: the training set is empty after tokenisation"),
])
def test_cli_bad_inputs_exit_2_with_one_line(tproj, tmp_path, over, message):
    path = write_cfg(tmp_path, base_config(**over))
    proc = run_cli("--project", str(tproj.root), "train", str(path), timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [x for x in proc.stderr.splitlines() if not x.startswith("...")]
    assert lines == [f"error: {path}: {message}"] or message in lines[0], proc.stderr
    assert str(path) in lines[0]
    assert len(lines) == 1 and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ training
@pytest.mark.slow
def test_train_full_records_run_card_and_loads(tproj):
    from workbench.core.store import Store
    from workbench.models import load_causal_lm, model_fingerprint, prepare_model
    from workbench.train import parse_config, train

    events = []
    res = train(tproj, parse_config(base_config(name="full-tiny")), progress=events.append)
    store = Store.for_project(tproj)
    run = store.get_run(res.run_id)
    assert run.kind == "train" and run.status == "succeeded" and run.name == "full-tiny"
    ck = Path(run.outputs["checkpoint"])
    assert ck.is_absolute() and ck == Path(res.checkpoint)
    files = {p.name for p in ck.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md",
            "loss_curve.svg"} <= files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl"))]
    assert not (ck.parent / "trainer").exists()  # Trainer checkpoints removed on success
    assert res.steps == 4 and res.device["device"] == "cpu" and res.device["precision"] == "fp32"
    assert run.outputs["device"]["device"] == "cpu"
    assert res.eval_loss_start is not None and res.eval_loss_end is not None
    # metrics per logging step (through the callback) and lineage from the split
    keys = {(m["step"], m["key"]) for m in store.metrics(res.run_id)}
    assert {(1, "loss"), (2, "loss"), (4, "loss"), (0, "eval_loss"), (4, "eval_loss")} <= keys
    assert {"type": "run", "id": str(SPLIT['id']), "relation": "train"} in \
        store.lineage(("run", res.run_id))["parents"]
    assert events and events[-1].step == 4 and events[-1].max_steps == 4
    card = (ck / "README.md").read_text()
    for needle in ("tiny:gpt2", f"split:{SPLIT['id']}", "data:qa@", "learning_rate | 0.001",
                   "final train loss", "eval loss", "data:image/svg+xml;base64,",
                   "## Example: before and after", "Fine-tuned:"):
        assert needle in card, needle
    # usable everywhere a model spec is accepted
    assert prepare_model(tproj, f"run:{res.run_id}") == ck
    model, tok, path = load_causal_lm(tproj, f"run:{res.run_id}")
    assert path == ck and model_fingerprint(ck)
    assert json.loads((ck / "training_config.json").read_text())["model"] == "tiny:gpt2"
    _card_carries_evaluation_verdicts_and_signoff(tproj, res.run_id, ck)


def _as_app_job(project, card: Path, make):
    """``make()`` as the app's background model job (pages/_ui.py ``start_model_job``);
    its result, once the job's note says ``card`` was updated."""
    import time

    from pages._ui import _model_jobs, start_model_job

    made = []
    with pytest.MonkeyPatch.context() as mp:  # the project the app serves
        mp.setenv("WORKBENCH_PROJECT", str(project.root))
        job = start_model_job(lambda state: {"run_id": made.append(make()) or made[0].run_id,
                                             "note": "done."}, label="test")
    state = _model_jobs()[job]
    for _ in range(600):
        if state["status"] != "running":
            break
        time.sleep(0.1)
    assert state["status"] == "finished", state
    assert state["note"] == f"done. Model card updated: {card}.", state
    return made[0]


def _card_carries_evaluation_verdicts_and_signoff(project, rid: int, ck: Path) -> None:
    """Once an evaluation, probes and a sign-off of the run are recorded, its card carries
    them: model-index metadata with the evaluation's numbers, and the verdict and sign-off
    under "Bias, Risks, and Limitations"."""
    import yaml

    from workbench.core.store import Store
    from workbench.evaluation import evaluate_model
    from workbench.generation import GenerationSettings
    from workbench.probes import compare_results, expand, parse_probe_set, run_probe
    from workbench.reports import sign_off_report, write_compare_report

    probe_set = {"name": "occupation_gender", "version": 1, "scorer": "sentiment",
                 "attribute": "gender",
                 "groups": {"woman": ["The woman", "She"], "man": ["The man", "He"]},
                 "fillers": {"occupation": ["nurse", "engineer"]},
                 "templates": ["{subject} worked as a {occupation} and"]}
    card = ck / "README.md"
    assert "## Bias, Risks, and Limitations\n\nNo evaluation or bias probe" in card.read_text()
    # the evaluation and the probe of the fine-tuned model run as the app's Evaluate and
    # Bias probes pages run them (a background model job): the card is refreshed when each
    # job ends, as the CLI refreshes it
    ev = _as_app_job(project, card, lambda: evaluate_model(
        project, model=f"run:{rid}", data=f"split:{SPLIT['id']}", metrics="rouge",
        settings=GenerationSettings(max_new_tokens=4)))
    [[result]] = [m["results"] for m in yaml.safe_load(card.read_text().split("---\n")[1])[
        "model-index"]]
    assert {m["type"]: m["value"] for m in result["metrics"]} == pytest.approx(ev.metrics,
                                                                                 abs=1e-6)
    plan = expand(parse_probe_set(probe_set))
    base = run_probe(project, plan=plan, model="tiny:gpt2", max_new_tokens=4)
    tuned = _as_app_job(project, card, lambda: run_probe(project, plan=plan, model=f"run:{rid}",
                                                         max_new_tokens=4))
    assert f"run:{tuned.run_id}, " in card.read_text()  # its verdict, before any sign-off
    write_compare_report(project, compare_results(base.result, tuned.result),
                         project.reports_dir / "card-cmp.html")
    report = Store.for_project(project).list_reports("bias-compare")[0]
    s, _path, cards = sign_off_report(project, report["id"], reviewer="Ana <b>",
                                      decision="approve", comment="fine *for now*")
    assert cards == [card] and s.runs == [base.run_id, tuned.run_id]
    text = card.read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["base_model"] and meta["tags"] == ["workbench", "causal-lm"]
    [entry] = meta["model-index"]
    [result] = entry["results"]
    assert entry["name"] == "full-tiny" and result["task"] == {"type": "text-generation"}
    assert result["dataset"]["name"] == f"split:{SPLIT['id']}:test"
    assert {m["type"]: m["value"] for m in result["metrics"]} == pytest.approx(ev.metrics,
                                                                                 abs=1e-6)
    risks = text[text.index("## Bias, Risks, and Limitations"):]
    verdict = tuned.result["verdict"]
    assert f"occupation\\_gender v1 (sentiment), run:{tuned.run_id}, " in risks
    assert f"**{verdict}**" in risks and "No evaluation or bias probe" not in risks
    assert "**approve** by Ana \\<b\\> on " in risks and ": fine \\*for now\\*" in risks
    assert text.count("## Bias, Risks, and Limitations") == 1 and "## Training" in text


@pytest.mark.slow
def test_train_lora_with_merge(tproj):
    from workbench.models import load_causal_lm
    from workbench.train import parse_config, train

    res = train(tproj, parse_config(base_config(**{"method": "lora", "lora.merge": True,
                                                   "lora.r": 4, "training.eval_at_start": False})))
    adapter = Path(res.adapter)
    assert {"adapter_model.safetensors", "adapter_config.json", "README.md"} <= \
        {p.name for p in adapter.iterdir()}
    assert res.checkpoint == res.merged and (Path(res.merged) / "model.safetensors").exists()
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    assert cfg["target_modules"] == ["c_attn"] or set(cfg["target_modules"]) == {"c_attn"}
    model, _, _ = load_causal_lm(tproj, f"run:{res.run_id}")
    assert type(model).__name__ == "GPT2LMHeadModel"
    # the adapter folder alone loads too (peft installed)
    model2, _, _ = load_causal_lm(tproj, str(adapter))
    assert getattr(model2, "peft_config", None)


def test_lora_unknown_target_module(tproj):
    from workbench.train import parse_config, train

    cfg = parse_config(base_config(**{"method": "lora", "lora.target_modules": ["q_proj"]}))
    with pytest.raises(WorkbenchError, match=r"^lora\.target_modules: .*q_proj.*module names "
                                             r"in this model include"):
        train(tproj, cfg)


@pytest.mark.slow
def test_classification_saves_label_mapping(tproj):
    from workbench.train import parse_config, train

    cfg = base_config(**{"task": "classification", "data.prompt": _DROP, "data.response": _DROP,
                         "data.text": "question", "data.label": "sentiment",
                         "training.eval_at_start": False})
    res = train(tproj, parse_config(cfg))
    conf = json.loads((Path(res.checkpoint) / "config.json").read_text())
    assert conf["id2label"] == {"0": "neg", "1": "pos"} and conf["label2id"] == {"neg": 0, "pos": 1}
    assert res.example["after"] in ("neg", "pos")


@pytest.mark.slow
def test_seq2seq_from_the_packaged_encoder(tproj):
    """MiniLM (a BERT encoder) becomes an encoder-decoder; it trains, saves and generates."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from workbench.train import parse_config, train

    cfg = base_config(**{"model": "packaged:minilm-l6", "task": "seq2seq",
                         "data.max_train_rows": 8, "data.max_eval_rows": 4,
                         "training.batch_size": 2, "training.max_length": 32,
                         "card.max_new_tokens": 4})
    res = train(tproj, parse_config(cfg))
    assert res.steps == 4 and math.isfinite(res.train_loss) and math.isfinite(res.eval_loss_end)
    ck = Path(res.checkpoint)
    files = {p.name for p in ck.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md"} <= files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl"))]
    card = (ck / "README.md").read_text()
    assert "task `seq2seq`" in card and "EncoderDecoderModel" in card and "Fine-tuned:" in card
    model = AutoModelForSeq2SeqLM.from_pretrained(str(ck))
    tok = AutoTokenizer.from_pretrained(str(ck))
    assert type(model).__name__ == "EncoderDecoderModel"
    assert model.config.decoder.is_decoder and model.config.decoder.add_cross_attention
    assert model.config.decoder_start_token_id == tok.cls_token_id
    enc = tok(["Question 1 about billing: how do I fix item 1?"], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**enc, max_new_tokens=3, do_sample=False)
    assert out.shape[1] >= 2 and out[0, 0] == tok.cls_token_id


def test_model_card_escapes_outputs(tproj):
    """Model text lands in fenced code blocks; fences inside it cannot break out."""
    from workbench.train._card import _code

    assert _code("```<script>x</script>") == "```text\n` ` `<script>x</script>\n```"


# -------------------------------------------------------------------------- checkpoints
def _fake_interrupted_run(tproj, cfg):
    """A run of ``cfg`` that 'died' after saving a checkpoint (status still running)."""
    from workbench.core.store import Store
    from workbench.train import parse_config, plan_training
    from workbench.train._run import build_trainer, trainer_dir

    plan = plan_training(tproj, parse_config(cfg))
    store = Store.for_project(tproj)
    rid = store.start_run("train", name="killed", config=cfg,
                          input_hashes={"config": plan.config.fingerprint()})
    store.update_run(rid, pid=2 ** 22 + 12345)  # a pid that is not running
    trainer = build_trainer(plan, plan.model, trainer_dir(tproj, rid), max_steps=2)
    trainer.train()
    return rid, trainer_dir(tproj, rid) / "checkpoint-2"


@pytest.mark.parametrize("damage, message", [
    ("model.safetensors", r"checkpoint .*checkpoint-2: model\.safetensors is corrupt"),
    ("optimizer.pt", r"checkpoint .*checkpoint-2: optimizer\.pt is corrupt"),
    ("trainer_state.json", r"checkpoint .*checkpoint-2: trainer_state\.json is corrupt"),
])
def test_corrupt_checkpoint_fails_clearly(tproj, damage, message):
    from workbench.train import parse_config, plan_training

    cfg = base_config(**{"training.seed": 100 + len(damage)})  # its own config fingerprint
    rid, ckpt = _fake_interrupted_run(tproj, cfg)
    data = (ckpt / damage).read_bytes()
    (ckpt / damage).write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=message + r" \(.*\); delete this checkpoint folder to "
                       r"resume from an earlier one, or train from the start without resuming$"):
        plan_training(tproj, parse_config(cfg), resume=True, source="c.yaml")


@pytest.mark.slow
def test_resume_continues_an_interrupted_run(tproj):
    from workbench.core.store import Store
    from workbench.train import parse_config, train

    cfg = base_config(**{"training.seed": 7})
    old, _ = _fake_interrupted_run(tproj, cfg)
    res = train(tproj, parse_config(cfg), resume=True)
    store = Store.for_project(tproj)
    assert res.resumed_from == {"run": old, "step": 2, "checkpoint": "checkpoint-2"}
    assert res.steps == 4
    assert store.get_run(old).status == "failed"
    assert "resumed as run:" in store.get_run(old).error
    assert {"type": "run", "id": str(old), "relation": "resumed"} in \
        store.lineage(("run", res.run_id))["parents"]
    # nothing left to resume: a fresh run
    again = train(tproj, parse_config(cfg), resume=True)
    assert again.resumed_from is None


@pytest.mark.slow
def test_sigkill_then_resume_reaches_the_same_step_count(tproj, tmp_path):
    """Kill `workbench train` with SIGKILL after a checkpoint; --resume finishes the run."""
    import signal
    import subprocess
    import sys
    import time

    from workbench.core.store import Store
    from workbench.splits import split_frame
    from workbench.train import parse_config, train

    cfg = base_config(**{"training.max_steps": _DROP, "training.epochs": 2,
                         "training.save_steps": 4, "training.logging_steps": 1,
                         "data.eval_part": "none", "training.seed": 11})
    full = train(tproj, parse_config({**cfg, "name": "uninterrupted"}))
    n_train = len(split_frame(tproj, SPLIT["id"], "train"))
    assert full.steps == 2 * math.ceil(n_train / 4) >= 12  # 2 epochs of batches of 4
    path = write_cfg(tmp_path, cfg)
    exe = Path(sys.executable).with_name("workbench")
    proc = subprocess.Popen([str(exe), "--project", str(tproj.root), "train", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = Store.for_project(tproj)
    deadline = time.time() + 120
    killed_run = None
    while time.time() < deadline and proc.poll() is None:
        runs = [r for r in store.list_runs("train") if r.pid == proc.pid]
        if runs and list((tproj.runs_dir / str(runs[0].id) / "trainer").glob(
                "checkpoint-*/trainer_state.json")):
            killed_run = runs[0]
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=30)
    assert killed_run is not None, "the run finished before a checkpoint could be killed"
    assert store.get_run(killed_run.id).status == "running"  # SIGKILL: no chance to finish
    last_logged = max(m["step"] for m in store.metrics(killed_run.id))
    out = tmp_path / "resumed.json"
    r = run_cli("--project", str(tproj.root), "train", str(path), "--resume", "--json", str(out),
                timeout=300)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert res["steps"] == full.steps
    assert res["resumed_from"]["run"] == killed_run.id
    assert last_logged - res["resumed_from"]["step"] <= 4  # at most one save interval lost
    assert f"resumed from run:{killed_run.id}" in r.stdout
    steps = sorted({m["step"] for m in store.metrics(res["run_id"]) if m["key"] == "loss"})
    assert steps == list(range(1, full.steps + 1))  # the curve has every step, old and new


# ------------------------------------------------------------------------------ lr search
def test_choose_rate_rules():
    from workbench.train import choose_rate

    lrs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
    chosen, at_min, steepest, rule, notes = choose_rate(lrs, [5.0, 4.0, 2.0, 1.5, 9.0])
    assert at_min == 1e-2 and chosen == pytest.approx(1e-3) and steepest == 1e-4
    assert "/ 10" in rule and not notes
    chosen, *_, notes = choose_rate(lrs, [1.0, 2.0, 3.0, 4.0, 5.0])
    assert chosen == 1e-5 and "never fell" in notes[0]
    *_, notes = choose_rate(lrs, [5.0, 4.0, 3.0, 2.0, 1.0])
    assert "still falling" in notes[0]


@pytest.mark.slow
def test_lr_search_stores_trials_plots_and_writes_back(tproj, tmp_path):
    from workbench.core.store import Store
    from workbench.train import load_config

    cfg = base_config(**{"lr_search": {"min_lr": 1e-5, "max_lr": 1.0, "steps": 12}})
    path = write_cfg(tmp_path, cfg)
    out, html = tmp_path / "lr.json", tmp_path / "lr.html"
    r = run_cli("--project", str(tproj.root), "train", str(path), "--lr-search", "--write-lr",
                "--json", str(out), "--html", str(html), timeout=300)
    assert r.returncode == 0, r.stderr
    res = json.loads(out.read_text())
    assert 4 <= len(res["trials"]) <= 12
    lrs = [t["lr"] for t in res["trials"]]
    assert lrs == sorted(lrs) and lrs[0] == pytest.approx(1e-5)
    run = Store.for_project(tproj).get_run(res["run_id"])
    assert run.kind == "lr-search" and run.status == "succeeded"
    stored = [m for m in Store.for_project(tproj).metrics(res["run_id"]) if m["key"] == "lr"]
    assert len(stored) == len(res["trials"])  # every trial is in the store
    assert f"chosen learning rate: {res['chosen_lr']:.3g}" in r.stdout
    assert load_config(path).training.learning_rate == pytest.approx(float(f"{res['chosen_lr']:.3g}"))
    page = html.read_text()
    assert "<svg" in page and "loss versus learning rate" in page
    assert not re.search(r"https?://", page)  # self-contained


def test_write_lr_needs_lr_search(tproj, tmp_path):
    path = write_cfg(tmp_path, base_config())
    r = run_cli("--project", str(tproj.root), "train", str(path), "--write-lr")
    assert r.returncode == 2 and "--write-lr needs --lr-search" in r.stderr


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "configs")
                                        .glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path):
    from workbench.train import load_config

    cfg = load_config(path)
    # fits a CPU: at most about 1,000 training rows (the strong planted-bias configs, 120
    # steps of 8, took 5.5 min on 2 cores)
    assert cfg.training.max_steps and cfg.training.max_steps * cfg.training.batch_size <= 1000


def test_training_device_comes_from_the_models_helper(monkeypatch):
    """Training and inference choose the device in one place (models' inference_device)."""
    import torch

    from workbench import models
    from workbench.models import DeviceChoice, inference_device
    from workbench.train import device_choice

    here = device_choice()
    assert (here["device"], here["precision"]) == (inference_device().device,
                                                   inference_device().precision)
    assert here == {"device": "cpu", "precision": "fp32", "threads": torch.get_num_threads(),
                    "reason": "no CUDA device: CPU, fp32"}  # what a run recorded before
    # whatever the one helper decides, training follows it
    monkeypatch.setattr(models, "inference_device", lambda: DeviceChoice("cpu", "bf16"))
    assert device_choice()["precision"] == "bf16"
