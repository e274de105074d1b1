"""Evaluating on conversations: the last assistant turn generated from the turns before
it and scored against the reference; bad columns and rows are one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.core.errors import WorkbenchError
from workbench.evaluation._conversations import conversation_cases, render_prompts


def chats(n: int = 12) -> pd.DataFrame:
    rows = []
    for i in range(n):
        m = [{"role": "user", "content": f"Where is order {i}?"},
             {"role": "assistant", "content": f"Order {i} ships today."}]
        if i % 2:
            m = [{"role": "system", "content": "Be brief."}, *m,
                 {"role": "user", "content": "And the invoice?"},
                 {"role": "assistant", "content": "It is in your account."}]
        rows.append({"id": i, "topic": ["billing", "shipping"][i % 2],
                     "question": f"Where is order {i}?", "messages": m})
    return pd.DataFrame(rows)


def test_cases_are_history_and_last_turn():
    histories, refs = conversation_cases(chats(4), "messages", where="data")
    assert refs == ["Order 0 ships today.", "It is in your account.", "Order 2 ships today.",
                    "It is in your account."]
    assert [t["role"] for t in histories[1]] == ["system", "user", "assistant", "user"]


@pytest.mark.parametrize("column,change,message", [
    ("question", None, r"^data: column 'question' holds text, not conversations \(lists of "
                       r"\{role, content\} turns\); name a column of messages$"),
    ("mesages", None, r"^data: no column 'mesages' \(did you mean 'messages'\?\)"),
    ("messages", lambda m: m[:-1], r"^data: column 'messages', row 2, turn 0: the last turn "
                                   r"is 'user', not 'assistant'; there is no reference"),
    ("messages", lambda m: m[-1:], r"^data: column 'messages', row 2: only an assistant "
                                   r"turn; nothing comes before it"),
])
def test_bad_columns_and_rows_are_one_line(column, change, message):
    frame = chats(4)
    if change:
        frame.at[2, "messages"] = change(frame.at[2, "messages"])
    with pytest.raises(WorkbenchError, match=message) as exc:
        conversation_cases(frame, column, where="data")
    assert "\n" not in str(exc.value)
    if column == "question":
        assert exc.value.param == "messages_col"


def test_prompts_end_with_the_assistant_prompt(tiny_model):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    histories, _ = conversation_cases(chats(2), "messages", where="data")
    prompts, end, used = render_prompts(tok, histories)
    assert used == "tokenizer" and end == "\n"
    assert prompts[1] == ("system: Be brief.\nuser: Where is order 1?\nassistant: Order 1 "
                          "ships today.\nuser: And the invoice?\nassistant: ")
    tok.chat_template = None
    prompts, end, used = render_prompts(tok, histories)
    assert used == "chatml" and end == "<|im_end|>"
    assert prompts[0] == "<|im_start|>user\nWhere is order 0?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def eproj(tmp_path_factory):
    import os

    from workbench.core.project import init_project
    from workbench.data import save_version
    from workbench.splits import make_split

    p = init_project(tmp_path_factory.mktemp("evalchat") / "proj")
    os.environ["HF_HOME"] = str(p.hf_home)
    dv, _ = save_version(p, chats(), name="chat", source="test")
    rep = make_split(p, dv, label="topic", ratios=[0.5, 0.5], seed=0)
    return p, rep.run_id


@pytest.mark.slow
def test_cli_evaluates_the_last_turn(eproj, tmp_path):
    project, sid = eproj
    out = tmp_path / "r.json"
    proc = run_cli("--project", str(project.root), "evaluate", "--model", "tiny:gpt2",
                   "--data", f"split:{sid}:test", "--messages-col", "messages",
                   "--max-new-tokens", "4", "--slice", "topic", "--json", str(out),
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(out.read_text())
    assert set(rep["metrics"]) >= {"bleu", "rougeL"} and "accuracy" not in rep["metrics"]
    assert rep["n"] == 6
    assert "last-turn:messages" in rep["signature"] and "chat:tokenizer" in rep["signature"]
    assert "|device:cpu-fp32|" in rep["signature"]
    import re

    path = re.search(r"per-example records in (\S+examples\.jsonl)", proc.stdout)[1]
    examples = [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines()]
    odd = next(e for e in examples if e["id"] % 2)
    assert odd["reference"] == "It is in your account."
    assert odd["history"][-1] == {"role": "user", "content": "And the invoice?"}
    assert odd["prompt"].startswith("system: Be brief. | user: Where is order")
    assert "\n" not in odd["prediction"]  # cut where the template ends a turn
    _review_shows_the_history(project, sid, rep["run_id"], odd)


def _review_shows_the_history(project, sid, run_a: int, odd: dict) -> None:
    """The Evaluate page evaluates conversations on their last turn (as the CLI did); Review
    of the two evaluations shows the turns before the answer as chat turns above A and B."""
    from tests.conftest import ROOT, app_page, wait_for_success

    from workbench.core.store import Store

    mp = pytest.MonkeyPatch()
    mp.setenv("WORKBENCH_PROJECT", str(project.root))
    mp.chdir(ROOT)
    try:
        at = app_page("evaluate")
        at.selectbox(key="eval_model").set_value("tiny:gpt2").run()
        at.selectbox(key="eval_data").set_value(f"split:{sid}:test").run()
        assert at.selectbox(key="eval_messages").value == "messages"
        assert not [w for w in at.selectbox if w.key == "eval_prompt"]  # no prompt column
        at.number_input(key="eval_max_new").set_value(2)
        at.button[0].click().run()
        finished = wait_for_success(at, "Evaluation finished")
        assert not at.exception and not at.error, [e.value for e in at.error]
        b = Store.for_project(project).list_runs("evaluate")[0]
        assert b.id != run_a and f"run {b.id}" in finished[0]
        assert b.config["messages_col"] == "messages" and b.config["generation"][
            "max_new_tokens"] == 2
        assert at.selectbox(key="eval_run").format_func(b.id) == (
            f"run {b.id}: tiny:gpt2 on split:{sid}:test (last turn of messages) · chat · "
            "greedy · 2 tokens · cpu-fp32")
        at.switch_page("pages/review.py").run()
        at.selectbox(key="run_a").set_value(run_a)
        at.selectbox(key="run_b").set_value(b.id)
        at.checkbox(key="only_diff").uncheck().run()
        assert not at.exception, [e.value for e in at.exception]
        total = int(at.number_input(key="item_pos").proto.max)
        for pos in range(1, total + 1):  # find the multi-turn item
            at.number_input(key="item_pos").set_value(pos).run()
            if len(at.get("chat_message")) == len(odd["history"]):
                break
        assert [c.proto.name for c in at.get("chat_message")] == [
            t["role"] for t in odd["history"]]
        texts = [t.value for t in at.text]
        turns = [t["content"] for t in odd["history"]]
        assert texts[:len(turns)] == turns  # the history first, as text
        assert texts[len(turns)] == odd["reference"]  # then the reference; A and B below
        assert "**Conversation so far**" in [m.value for m in at.markdown]
        assert not [m for m in at.multiselect if m.key == "filter_history"]  # not a filter
    finally:
        mp.undo()


def test_cli_messages_col_of_strings_exit_2(eproj):
    project, sid = eproj
    proc = run_cli("--project", str(project.root), "evaluate", "--model", "tiny:gpt2",
                   "--data", f"split:{sid}:test", "--messages-col", "question", timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: --messages-col: split:{sid}:test: column 'question' holds text, not "
        "conversations (lists of {role, content} turns); name a column of messages"]
