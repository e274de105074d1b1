"""Training on conversations: the loss mask over assistant turns, ChatML for a tokenizer
without a template, cuts at turn boundaries, bad input, and a real tiny Trainer run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import run_cli
from workbench.core.errors import DataError, WorkbenchError
from workbench.train._data import IGNORE, encode_conversation

THREE = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": "Hey there"}]


@pytest.fixture(scope="module")
def chatml_tok(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    from workbench.data import CHATML_TEMPLATE

    tok.chat_template = CHATML_TEMPLATE
    return tok


def _split_text(tok, ex):
    learned = tok.decode([t for t, lab in zip(ex["input_ids"], ex["labels"]) if lab != IGNORE])
    masked = tok.decode([t for t, lab in zip(ex["input_ids"], ex["labels"]) if lab == IGNORE])
    return learned, masked


def test_loss_falls_on_the_assistant_turn_only(chatml_tok):
    ex, cut = encode_conversation(chatml_tok, THREE, 256)
    assert not cut
    learned, masked = _split_text(chatml_tok, ex)
    assert learned == "Hey there<|im_end|>\n<|endoftext|>"  # the answer, its end, EOS
    assert masked == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi"
                      "<|im_end|>\n<|im_start|>assistant\n")
    # the mask is a prefix of -100 then the answer: pinned token by token
    n = ex["labels"].count(IGNORE)
    assert ex["labels"][:n] == [IGNORE] * n and ex["labels"][n:] == ex["input_ids"][n:]
    assert chatml_tok.decode(ex["input_ids"]) == masked + learned


def test_every_assistant_turn_learned_and_weight_zero_left_out(chatml_tok, tiny_model):
    turns = [{"role": "user", "content": "A?"}, {"role": "assistant", "content": "One."},
             {"role": "user", "content": "B?"}, {"role": "assistant", "content": "Two."},
             {"role": "user", "content": "C?"},
             {"role": "assistant", "content": "Three.", "weight": 0},
             {"role": "user", "content": "D?"}, {"role": "assistant", "content": "Four."}]
    ex, _ = encode_conversation(chatml_tok, turns, 512)
    pieces, run = [], []
    for t, lab in zip(ex["input_ids"], ex["labels"]):
        if lab != IGNORE:
            run.append(t)
        elif run:
            pieces.append(chatml_tok.decode(run))
            run = []
    pieces.append(chatml_tok.decode(run))
    assert pieces == ["One.<|im_end|>\n", "Two.<|im_end|>\n", "Four.<|im_end|>\n<|endoftext|>"]
    # the tokenizer's own template ("role: content" lines) is used when it has one
    from transformers import AutoTokenizer

    own = AutoTokenizer.from_pretrained(str(tiny_model))
    ex, _ = encode_conversation(own, THREE, 256)
    assert _split_text(own, ex) == ("Hey there\n<|endoftext|>",
                                    "system: Be brief.\nuser: Hi\nassistant: ")


def test_long_conversations_are_cut_at_a_turn_boundary(chatml_tok):
    long = [{"role": "user", "content": "Q1?"}, {"role": "assistant", "content": "A1."},
            {"role": "user", "content": "Q2 " + "word " * 60},
            {"role": "assistant", "content": "A2 " + "long " * 60}]
    full, cut = encode_conversation(chatml_tok, long, 4096)
    assert not cut
    first, _ = encode_conversation(chatml_tok, long[:2], 4096)
    ex, cut = encode_conversation(chatml_tok, long, len(full["input_ids"]) - 5)
    assert cut and ex["input_ids"] == first["input_ids"][:len(ex["input_ids"])]
    learned, masked = _split_text(chatml_tok, ex)
    assert learned == "A1.<|im_end|>\n" and "Q2" not in masked  # whole turns only
    none, cut = encode_conversation(chatml_tok, long[:2], 8)
    assert none is None and cut


# -------------------------------------------------------------------- through the Trainer
def chat_rows(n: int = 24) -> pd.DataFrame:
    rows = []
    for i in range(n):
        m = [{"role": "user", "content": f"Where is order {i}?"},
             {"role": "assistant", "content": f"Order {i} ships today."}]
        if i % 3 == 0:  # multi-turn, and long enough to be cut at max_length 96
            m += [{"role": "user", "content": "And the invoice? " + "please " * 12},
                  {"role": "assistant", "content": "It is in your account. " * 3}]
        rows.append({"id": f"c{i}", "topic": ["billing", "shipping"][i % 2], "messages": m})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def cproj(tmp_path_factory, tiny_model):
    """A project with a split of conversations and a copy of tiny:gpt2 without a chat
    template (a local folder model spec)."""
    from workbench.core.project import init_project
    from workbench.data import import_dataset
    from workbench.splits import make_split

    root = tmp_path_factory.mktemp("chat")
    p = init_project(root / "proj")
    os.environ["HF_HOME"] = str(p.hf_home)
    src = root / "chat.jsonl"
    chat_rows().to_json(src, orient="records", lines=True)
    dv, _ = import_dataset(p, str(src))
    make_split(p, dv, label="topic", ratios=[0.75, 0.25], seed=0)
    bare = root / "bare_gpt2"
    shutil.copytree(tiny_model, bare)
    cfg = json.loads((bare / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(cfg))
    for f in bare.glob("chat_template.*"):
        f.unlink()
    return p, bare


def chat_config(model, **data) -> dict:
    return {"model": str(model), "task": "causal-lm",
            "data": {"split": "chat", "messages": "messages", **data},
            "training": {"max_steps": 2, "batch_size": 4, "max_length": 96,
                         "logging_steps": 1, "eval_steps": 2, "save_steps": 2,
                         "learning_rate": 1e-3}}


@pytest.mark.slow
def test_train_on_conversations_with_chatml_card(cproj):
    from workbench.train import parse_config, train

    project, bare = cproj
    res = train(project, parse_config(chat_config(bare)))
    card = res.checkpoint
    text = (Path(card) / "README.md").read_text()
    assert "- column: `messages` (conversations); loss on every assistant turn" in text
    assert "- chat template: ChatML" in text and "saved with the model" in text
    import re

    found = re.search(r"cut at a turn boundary to fit max_length=96: (\d+) train, (\d+) eval "
                      r"conversations \(never inside an assistant turn\)", text)
    assert found and int(found[1]) + int(found[2]) == 8 and int(found[1]) > 0, text
    assert f"- note: {found[1]} of 18 training conversations were longer" in text
    saved = json.loads((Path(card) / "tokenizer_config.json").read_text())
    assert "<|im_start|>" in (saved.get("chat_template")
                              or (Path(card) / "chat_template.jinja").read_text())
    assert res.steps == 2


@pytest.mark.parametrize("data,message", [
    ({"prompt": "question"}, r"data\.prompt: give either data\.messages \(a column of "
                             r"conversations\) or data\.prompt, not both$"),
])
def test_messages_with_prompt_is_refused(data, message):
    from workbench.train import parse_config

    with pytest.raises(WorkbenchError, match=message):
        parse_config(chat_config("tiny:gpt2", **data), source="c.yaml")


@pytest.mark.parametrize("change,message", [
    (lambda m: m[:1] + [{"role": "bot", "content": "Hi"}],
     r"data\.messages: split:\d+:train row \d+, turn 1: role 'bot' is not one of system, "
     r"user, assistant$"),
    (lambda m: m[:1], r"data\.messages: split:\d+:train row \d+: no assistant turn; a "
                      r"training conversation needs one"),
    (lambda m: [{"role": "user"}], r"data\.messages: split:\d+:train row \d+, turn 0: no "
                                   r"'content'"),
])
def test_bad_training_conversations_name_row_and_turn(tmp_path, tiny_model, change, message):
    from workbench.core.project import init_project
    from workbench.data import save_version
    from workbench.splits import make_split
    from workbench.train import parse_config, plan_training

    p = init_project(tmp_path / "p")
    frame = chat_rows(8)
    frame["messages"] = [change(m) for m in frame["messages"]]
    dv, _ = save_version(p, frame, name="chat", source="test")
    make_split(p, dv, label="topic", ratios=[0.5, 0.5], seed=0)
    cfg = chat_config("tiny:gpt2", eval_part="none")
    with pytest.raises(DataError, match=message) as exc:  # the data is wrong, not the config
        plan_training(p, parse_config(cfg), source="c.yaml")
    assert "\n" not in str(exc.value)


@pytest.mark.slow
def test_cli_bad_training_conversation_exit_2(cproj, tmp_path):
    project, _ = cproj
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(chat_config("tiny:gpt2", prompt="question")))
    proc = run_cli("--project", str(project.root), "train", str(path), timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: {path}: data.prompt (line 3): give either data.messages (a column of conversations) "
        "or data.prompt, not both"]
