"""Cleaning steps on conversations, to_messages, and the counterfactual_augment step."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli
from workbench.checks import load_suite
from workbench.clean import clean_dataset, clean_frame
from workbench.core.errors import WorkbenchError


def _suite(tmp_path, text, name="rules.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return load_suite(p, check_types=False, require_expectations=False)


def _chat():
    return pd.DataFrame({
        "id": ["a", "b", "c"],
        "topic": ["billing", "shipping", "billing"],
        "messages": [
            [{"role": "system", "content": "Be  kind. Mail ops@example.com"},
             {"role": "user", "content": "  She paid,  mail me: zoe@example.com "},
             {"role": "assistant", "content": "Her card was charged."}],
            [{"role": "user", "content": "Where is it?"},
             {"role": "assistant", "content": "It ships today.", "weight": 1}],
            [{"role": "user", "content": "Is he  there?"}],  # no assistant turn (malformed)
        ]}, dtype=object)


def test_normalize_and_mask_rewrite_only_the_chosen_turns(tmp_path):
    suite = _suite(tmp_path, "id_column: id\nclean:\n"
                   "  - {type: normalize_text, columns: [messages], turns: [user, assistant]}\n"
                   "  - {type: mask_pii, columns: [messages], turns: [user]}\n")
    frame = _chat()
    out, reports = clean_frame(frame, suite)
    first = out["messages"][0]
    assert first[0]["content"] == "Be  kind. Mail ops@example.com"  # system: not chosen
    assert first[1]["content"] == "She paid, mail me: [EMAIL]"
    assert out["messages"][1][1] == {"role": "assistant", "content": "It ships today.",
                                     "weight": 1}  # extra keys kept
    assert out["messages"][2][0]["content"] == "Is he there?"
    norm, mask = reports
    assert norm.rows_changed == 2 and mask.rows_changed == 1
    assert norm.examples[0] == {"row": "a", "column": "messages", "turn": 1,
                                "before": "  She paid,  mail me: zoe@example.com ",
                                "after": "She paid, mail me: zoe@example.com"}
    assert "before" not in mask.examples[0] and mask.examples[0]["turn"] == 1
    assert frame["messages"][0][1]["content"].startswith("  She")  # input untouched


def test_drop_unexpected_rows_drops_malformed_conversations(tmp_path):
    suite = _suite(tmp_path, "id_column: id\nexpectations:\n"
                   "  - {type: expect_column_values_to_be_valid_conversations, column: messages,\n"
                   "     meta: {id: format}}\n"
                   "clean:\n  - {type: drop_unexpected_rows, rule: format}\n")
    out, (rep,) = clean_frame(_chat(), suite)
    assert out["id"].tolist() == ["a", "b"] and rep.rows_removed == 1
    assert rep.examples == [{"row": "c", "rule": "format"}]


def test_to_messages_step(tmp_path, qa_frame):
    suite = _suite(tmp_path, "clean:\n  - {type: to_messages, prompt: question, "
                   "response: answer, system: You are a support agent.}\n")
    out, (rep,) = clean_frame(qa_frame, suite)
    assert list(out.columns) == ["topic", "messages"] and rep.rows_changed == len(qa_frame)
    assert out["messages"][1] == [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": "It ships today."}]
    keep = _suite(tmp_path, "clean:\n  - {type: to_messages, prompt: question, "
                  "response: answer, into: chat, keep_columns: true}\n", "keep.yaml")
    out, _ = clean_frame(qa_frame, keep)
    assert list(out.columns) == ["question", "answer", "topic", "chat"]
    assert out["chat"][0][0]["role"] == "user"


def test_counterfactual_step_on_text_columns_add_and_replace(tmp_path, qa_frame):
    frame = qa_frame.assign(question=["Is she ok?", "Where is his order?", "Will it rain?",
                                      "How does my wife pay?", "Why is her screen blank?",
                                      "Can I change my email?"])
    suite = _suite(tmp_path, "clean:\n  - {type: counterfactual_augment, columns: "
                   "[question, answer], groups: gender, mode: add}\n")
    out, (rep,) = clean_frame(frame, suite)
    assert rep.rows_changed == 4 and rep.rows_after == 10
    assert out["question"].tolist()[6:] == ["Is he ok?", "Where is her order?",
                                            "How does my husband pay?",
                                            "Why is his screen blank?"]
    assert out["counterfactual_of"].tolist()[6:] == [0, 1, 3, 4]
    assert out["counterfactual_of"][:6].isna().all()
    assert rep.details["words_swapped"] == 4 and rep.details["by_word"]["she -> he"] == 1
    assert rep.examples[0] == {"row": 0, "column": "question", "before": "Is she ok?",
                               "after": "Is he ok?"}
    rep_suite = _suite(tmp_path, "clean:\n  - {type: counterfactual_augment, columns: "
                       "[question], mode: replace}\n", "replace.yaml")
    out, (rep,) = clean_frame(frame, rep_suite)
    assert len(out) == 6 and "counterfactual_of" not in out.columns
    assert out["question"][4] == "Why is his screen blank?" and rep.rows_removed == 0


def test_counterfactual_step_on_conversations(tmp_path):
    suite = _suite(tmp_path, "id_column: id\nclean:\n  - {type: counterfactual_augment, "
                   "columns: [messages], turns: [user, assistant]}\n")
    out, (rep,) = clean_frame(_chat(), suite)
    assert len(out) == 5 and out["counterfactual_of"].tolist()[3:] == ["a", "c"]
    assert out["id"].tolist()[3:] == ["a-cf", "c-cf"]
    twin = out["messages"][3]
    assert [t["content"] for t in twin] == ["Be  kind. Mail ops@example.com",
                                            "  He paid,  mail me: zoe@example.com ",
                                            "His card was charged."]
    assert out["messages"][4] == [{"role": "user", "content": "Is she  there?"}]
    assert rep.examples[0]["turn"] == 1 and rep.details["words_swapped"] == 3


def test_clean_dataset_stores_a_new_version_with_lineage(project, tmp_path):
    from workbench.core.store import Store
    from workbench.data import import_dataset, load_frame

    src = tmp_path / "chat.jsonl"
    src.write_text("".join(json.dumps({"id": r.id, "messages": r.messages}) + "\n"
                           for r in _chat().itertuples()), encoding="utf-8")
    before = src.read_bytes()
    raw, _ = import_dataset(project, str(src))
    rules = tmp_path / "cf.yaml"
    rules.write_text("id_column: id\nclean:\n  - {type: counterfactual_augment, "
                     "columns: [messages]}\n")
    rep = clean_dataset(project, raw.ref, rules, name="chat_cf")
    assert rep.created and rep.rows_after == 5 and rep.steps[0].details["rows_changed"] == 2
    _, frame = load_frame(project, rep.result)
    assert frame["messages"][3][1]["content"].startswith("  He paid")
    parents = Store.for_project(project).lineage(("dataset", rep.result))["parents"]
    assert {"type": "dataset", "id": raw.ref, "relation": "clean"} in parents
    assert src.read_bytes() == before


@pytest.mark.parametrize("step,message", [
    ("{type: counterfactual_augment, columns: [questoin]}",
     (r"rules.yaml: clean\[0\].columns\[0\] \(line 2\): no column 'questoin' \(did you "
      r"mean 'question'\?\)")),
    ("{type: counterfactual_augment, columns: [question], groups: gendr}",
     (r"rules.yaml: clean\[0\].groups \(line 2\): unknown word list 'gendr' \(did you mean "
      r"'gender'\?\)")),
    ("{type: counterfactual_augment, columns: [question], groups: both.yaml}",
     (r"rules.yaml: clean\[0\].groups \(line 2\): .*both.yaml: pairs\[1\]\[0\] \(line \d\): "
      r"'man' is on both sides")),
    ("{type: counterfactual_augment, columns: [question], groups: twice.yaml}",
     (r"rules.yaml: clean\[0\].groups \(line 2\): .*twice.yaml: pairs\[1\]\[0\] \(line \d\): "
      r"'woman' is listed twice")),
    ("{type: counterfactual_augment, columns: [question], mode: swap}",
     r"rules.yaml: clean\[0\].mode \(line 2\): must be 'add' or 'replace'; got 'swap'"),
    ("{type: counterfactual_augment, columns: [question], turns: [user]}",
     (r"rules.yaml: clean\[0\].turns \(line 2\): column 'question' holds text, not "
      "conversations")),
    ("{type: to_messages, prompt: question, response: answr}",
     r"clean\[0\].response \(line 2\): no column 'answr' \(did you mean 'answer'\?\)"),
    ("{type: to_messages, prompt: question, response: answer, into: topic}",
     r"clean\[0\].into \(line 2\): the data already has a column 'topic'"),
    ("{type: normalize_text, columns: [answer], turns: [user]}",
     r"clean\[0\].turns \(line 2\): column 'answer' holds text, not conversations"),
])
def test_bad_steps_are_one_line(tmp_path, qa_frame, step, message):
    (tmp_path / "both.yaml").write_text("pairs:\n  - [woman, man]\n  - [man, king]\n")
    (tmp_path / "twice.yaml").write_text("pairs:\n  - [woman, man]\n  - [woman, boy]\n")
    with pytest.raises(WorkbenchError, match=message) as exc:
        clean_frame(qa_frame, _suite(tmp_path, f"clean:\n  - {step}\n"))
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("step,message", [
    ("{type: counterfactual_augment, columns: [answr]}", "no column 'answr'"),
    ("{type: counterfactual_augment, columns: [answer], groups: nope}",
     "unknown word list 'nope'"),
    ("{type: counterfactual_augment, columns: [answer], mode: both}",
     "must be 'add' or 'replace'; got 'both'"),
])
def test_cli_bad_counterfactual_exit_2(project, tmp_path, qa_frame, step, message):
    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    (tmp_path / "r.yaml").write_text(f"clean:\n  - {step}\n")
    proc = run_cli("clean", str(tmp_path / "qa.csv"), "--rules", str(tmp_path / "r.yaml"),
                   cwd=project.root)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_cli_counterfactual_summary(project, tmp_path, qa_frame):
    qa_frame.assign(question=["Is she ok?"] + qa_frame["question"].tolist()[1:]).to_csv(
        tmp_path / "qa.csv", index=False)
    (tmp_path / "r.yaml").write_text("clean:\n  - {type: counterfactual_augment, "
                                     "columns: [question, answer]}\n")
    proc = run_cli("clean", str(tmp_path / "qa.csv"), "--rules", str(tmp_path / "r.yaml"),
                   cwd=project.root)
    assert proc.returncode == 0, proc.stderr
    assert "6 -> 7 rows" in proc.stdout
    assert "1 rows changed, 1 words swapped (she -> he 1)" in proc.stdout
    assert "'Is she ok?' -> 'Is he ok?'" in proc.stdout


def test_spark_refuses_steps_over_turns_and_the_new_steps(tmp_path):
    from workbench.clean import pandas_only_steps

    suite = _suite(tmp_path, "clean:\n  - {type: normalize_text, columns: [a]}\n"
                   "  - {type: normalize_text, columns: [m], turns: [user]}\n"
                   "  - {type: to_messages, prompt: a, response: b}\n"
                   "  - {type: counterfactual_augment, columns: [a]}\n")
    assert [s.index for s in pandas_only_steps(suite)] == [1, 2, 3]
