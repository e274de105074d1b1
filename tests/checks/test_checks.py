"""Check suites: loading errors, real Great Expectations runs, text rules, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli
from workbench.checks import (
    DatasetRef,
    check_dataset,
    check_history,
    load_suite,
    run_checks,
)
from workbench.core.errors import WorkbenchError

DEMO = ROOT / "workbench" / "demo"
SUITE = ROOT / "checks" / "support_qa.yaml"


def _defects() -> dict[str, set[str]]:
    text = (DEMO / "DEFECTS.md").read_text()
    text = text.split("\n# Planted defects in `support_chat.jsonl`")[0]  # the CSV's section
    return {m.group(1): set(m.group(2).split(", "))
            for m in re.finditer(r"^`(\w+)`: (.+)$", text, re.M)}


@pytest.fixture
def demo(project):
    from workbench.data import import_dataset

    shutil.copy(SUITE, project.checks_dir / SUITE.name)
    dv, _ = import_dataset(project, str(DEMO / "support_qa.csv"), name="support_raw")
    return project, dv


def _suite(tmp_path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _ref(frame):
    return DatasetRef(name="t", version="v", rows=len(frame))


# ----------------------------------------------------------------- the demo, end to end
def test_raw_demo_fails_with_every_planted_defect_then_clean_passes(demo):
    from workbench.clean import clean_dataset
    from workbench.core.store import Store
    from workbench.data import content_hash, load_frame

    project, raw = demo
    suite = load_suite(SUITE)
    report, run_id = check_dataset(project, "support_raw", SUITE, data_docs=False)
    assert not report.success
    assert [r.expectation for r in report.results] == [e.type for e in suite.expectations]
    found: dict[str, set[str]] = {}
    for rule, res in zip(suite.expectations, report.results):
        if "defect" in rule.meta:
            assert not res.success, rule.type
            found.setdefault(rule.meta["defect"], set()).update(
                str(e["row"]) for e in res.examples)
        else:
            assert res.success, (rule.type, res.examples)
    defects = _defects()
    assert set(found) == set(defects)
    for name, ids in defects.items():
        assert ids <= found[name], name

    cleaned = clean_dataset(project, "support_raw", SUITE)
    assert cleaned.created and cleaned.parent == raw.ref
    assert cleaned.rows_after == raw.rows - 22
    by_type = {s.type: s for s in cleaned.steps}
    assert by_type["drop_nulls"].rows_removed == 8
    assert by_type["normalize_text"].rows_changed == 5
    assert by_type["mask_pii"].rows_changed == 2
    assert {e["row"] for e in by_type["drop_unexpected_rows"].examples} == \
        defects["mislabeled_topic"]
    # the parent version is untouched; the new one points at it
    _, parent_frame = load_frame(project, raw.ref)
    assert content_hash(parent_frame) == raw.content_hash
    store = Store.for_project(project)
    assert {"type": "dataset", "id": raw.ref, "relation": "clean"} in \
        store.lineage(("dataset", cleaned.result))["parents"]
    after, _ = check_dataset(project, cleaned.result, SUITE, data_docs=False)
    assert after.success, [r.label for r in after.failed]
    _, clean_frame = load_frame(project, cleaned.result)
    assert not clean_frame["answer"].str.contains("555 0100").any()
    hist = check_history(project, suite="support_qa")
    assert [h.success for h in hist] == [True, False]


def test_counts_match_great_expectations_conventions(tmp_path):
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, None, 3.0, 4.0],
                          "t": ["ok", " lead", None, "two  spaces"]})
    suite = load_suite(_suite(tmp_path, """
id_column: id
expectations:
  - {type: expect_column_values_to_not_be_null, column: x}
  - {type: expect_column_values_to_be_between, column: x, min_value: 2}
  - {type: expect_column_values_to_not_have_stray_whitespace, column: t, mostly: 0.5}
  - {type: expect_table_row_count_to_be_between, min_value: 10}
"""))
    rep = run_checks(frame, suite, dataset=_ref(frame))
    null, between, ws, count = rep.results
    assert (null.unexpected_count, null.unexpected_percent) == (1, 25.0)
    # missing values are skipped: 1 of 3 non-missing is below 2
    assert between.unexpected_count == 1 and between.unexpected_percent == pytest.approx(100 / 3)
    assert between.examples == [{"row": "a", "value": 1.0}]
    assert (ws.unexpected_count, ws.unexpected_percent, ws.success) == (2, pytest.approx(200 / 3), False)
    assert [e["row"] for e in ws.examples] == ["b", "d"]
    assert not count.success and count.examples == [{"observed_value": 4}]
    assert set(rep.to_dict()) == {"success", "suite", "dataset", "results"}
    assert set(rep.to_dict()["results"][0]) == {"expectation", "column", "success",
                                                "unexpected_count", "unexpected_percent",
                                                "examples"}


def test_text_rules(tmp_path):
    frame = pd.DataFrame({
        "q": ["Where is my order SKY-12345?", "where is my order sky-12345", "Mail me at a@b.co",
              "Call +44 20 7946 0958 now", "Card 4111 1111 1111 1111 please", "Price $4.99 at 18:30",
              "Whre is my order SKY-12345?"],
        "label": ["a", "a", "a", "b", "b", "b", "c"],
        "story": ["she and her mum", "he", "his dad", "", "", "", ""],
    })
    suite = load_suite(_suite(tmp_path, """
expectations:
  - {type: expect_column_values_to_not_contain_pii, column: q}
  - {type: expect_column_near_duplicate_rate_to_be_at_most, column: q, max_rate: 0.2}
  - {type: expect_column_value_word_counts_to_be_between, column: q, min_value: 5}
  - {type: expect_column_value_shares_to_be_at_least, column: label, min_share: 0.2}
  - {type: expect_column_demographic_mentions_to_be_balanced, column: story, max_distance: 0.1}
  - type: expect_column_values_to_mention_label_keywords
    column: q
    label_column: label
    keywords: {a: [order, mail], b: [call, card]}
"""), check_types=False)
    pii, near, words, shares, balance, kw = run_checks(frame, suite, dataset=_ref(frame)).results
    assert [(e["row"], e["pii"]) for e in pii.examples] == [(2, ["email"]), (3, ["phone"]),
                                                            (4, ["card"])]
    assert [(e["row"], e["duplicate_of"]) for e in near.examples] == [(1, 0), (6, 0)]
    assert near.observed["near_duplicate_rate"] == pytest.approx(2 / 7) and not near.success
    assert [e["row"] for e in words.examples] == [2, 5]
    assert not shares.success and shares.examples[0]["value"] == "c"
    # 3 female mentions (she, her, mum), 2 male (he, his, dad = 3): 3 vs 3 -> balanced
    assert balance.observed == {"distance": 0.0, "mentions": {"female": 3, "male": 3}}
    assert [e["row"] for e in kw.examples] == [5] and kw.unexpected_percent == pytest.approx(100 / 6)


# ------------------------------------------------------------------------- bad input
BAD_SUITES = [
    ("expectations:\n  - type: expect_column_values_to_not_be_nul\n    column: a\n",
     r"s.yaml: expectations\[0\].type \(line 2\): unknown expectation type "
     r"'expect_column_values_to_not_be_nul' \(did you mean 'expect_column_values_to_not_be_null'\?\)"),
    ("expectations:\n  - type: expect_column_values_to_not_be_null\n    colum: a\n",
     r"s.yaml: expectations\[0\].colum \(line 3\): not a keyword of "
     r"expect_column_values_to_not_be_null \(did you mean 'column'\?\); allowed: .*column, mostly"),
    ("expectations:\n  - type: expect_column_values_to_be_in_set\n    column: a\n",
     r"expectations\[0\].value_set \(line 2\): required by expect_column_values_to_be_in_set"),
    ("expectations:\n  - type: expect_column_value_word_counts_to_be_between\n    column: a\n"
     "    max_vlaue: 3\n", r"expectations\[0\].max_vlaue \(line 4\): not a keyword of "
     r"expect_column_value_word_counts_to_be_between \(did you mean 'max_value'\?\)"),
    ("expectations:\n  - type: expect_column_values_to_not_be_null\n    column: a\n   bad: [\n",
     r"s.yaml: not valid YAML \(line 4, column 4\)"),
    ("name: x\nexpectations: []\n", r"s.yaml: expectations \(line 2\): the suite has no rules"),
    ("", r"s.yaml: expectations: the suite has no rules"),
    ("expectation:\n  - type: x\n", r"s.yaml: expectation \(line 1\): unknown key "
     r"\(did you mean 'expectations'\?\)"),
    ("expectations:\n  - column: a\n", r"expectations\[0\].type \(line 2\): missing; each rule needs a .type:."),
    ("expectations:\n  - type: expect_column_values_to_not_be_null\n    column: a\n"
     "  - type: expect_column_values_to_not_be_null\n    column: a\n",
     r"expectations\[1\] \(line 4\): the same rule as expectations\[0\]"),
]


@pytest.mark.parametrize("text,message", BAD_SUITES)
def test_bad_suites_name_file_field_and_line(tmp_path, text, message):
    with pytest.raises(WorkbenchError, match=message):
        load_suite(_suite(tmp_path, text))


def test_missing_suite_file_lists_suites(demo):
    project, _ = demo
    with pytest.raises(WorkbenchError, match=r"support_q.yaml: no such suite file \(did you mean "
                                             r"'support_qa.yaml'\?\); suites in .*: support_qa.yaml"):
        load_suite(project.checks_dir / "support_q.yaml")


@pytest.mark.parametrize("data,suite,message", [
    ("nope", None, r"no dataset named 'nope'; stored: support_raw"),
    ("support_raw@ffff", None, r"dataset 'support_raw' has no version 'ffff'; it has: "),
    ("EMPTY", None, r"has a header but no data rows"),
    ("support_raw", "expectations:\n  - type: expect_column_values_to_not_be_null\n"
                    "    column: answr\n",
     r"expectations\[0\].column \(line 3\): no column 'answr' in support_raw@\w+ \(did you "
     r"mean 'answer'\?\); it has: id, question, answer, topic, persona, age_group"),
    ("support_raw", "expectations:\n  - type: expect_compound_columns_to_be_unique\n"
                    "    column_list: [id, topik]\n",
     r"expectations\[0\].column_list\[1\] \(line 3\): no column 'topik'"),
    ("support_raw", "id_column: ident\nexpectations:\n  - {type: expect_column_values_to_be_unique, column: id}\n",
     r"id_column \(line 1\): no column 'ident'"),
    # the data is read while the suite loads: a bad suite still speaks first
    ("nope", "expectations:\n  - {type: expect_column_values_to_be_nul, column: id}\n",
     r"expectations\[0\].type \(line 2\): unknown expectation type 'expect_column_values_to_be_nul'"),
])
def test_bad_check_input_stores_no_successful_run(demo, tmp_path, data, suite, message):
    from workbench.core.store import Store

    project, _ = demo
    (tmp_path / "empty.csv").write_text("a,b\n")
    data = str(tmp_path / "empty.csv") if data == "EMPTY" else data
    path = _suite(tmp_path, suite) if suite else SUITE
    with pytest.raises(WorkbenchError, match=message):
        check_dataset(project, data, path, data_docs=False)
    assert Store.for_project(project).list_runs("check", status="succeeded") == []


# ------------------------------------------------------------------------------ the CLI
@pytest.mark.slow
def test_cli_exit_codes_json_html_and_data_docs(demo, tmp_path):
    project, _ = demo
    cwd = project.root
    bad = _suite(tmp_path, "expectations:\n  - {type: expect_column_values_to_be_in_set, "
                           "column: topic, value_set: [setup]}\n", "bad.yaml")
    frame = pd.DataFrame({"topic": ["setup", "<script>alert(1)</script>"]})
    frame.to_csv(tmp_path / "x.csv", index=False)
    proc = run_cli("check", str(tmp_path / "x.csv"), "--suite", str(bad), "--json",
                   str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"), cwd=cwd)
    assert proc.returncode == 1, proc.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["success"] is False and result["suite"] == "bad"
    assert result["dataset"]["rows"] == 2
    assert result["results"][0]["examples"] == [{"row": 1, "value": "<script>alert(1)</script>"}]
    html = (tmp_path / "r.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "http://" not in html and "https://" not in html
    assert (project.state / "data_docs" / "index.html").exists()

    proc = run_cli("check", "support_raw", "--suite", "checks/nope.yaml", cwd=cwd)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: checks/nope.yaml: no such suite file (did you mean 'support_qa.yaml'?); "
        "suites in checks: support_qa.yaml"]

    good = _suite(tmp_path, "expectations:\n  - {type: expect_column_values_to_not_be_null, "
                            "column: id}\n", "good.yaml")
    proc = run_cli("check", "support_raw", "--suite", str(good), "--no-data-docs", "--json", "-",
                   cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["success"] is True

    proc = run_cli("check", "history", "--json", "-", cwd=cwd)
    assert proc.returncode == 0
    hist = json.loads(proc.stdout)
    assert [h["suite"] for h in hist] == ["good", "bad"]
    assert [h["success"] for h in hist] == [True, False]


def test_history_does_not_import_great_expectations(project):
    code = ("import os, sys, json, contextlib, io; os.environ['_WORKBENCH_NO_EXIT']='1'\n"
            "from workbench.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(['check', 'history'])\n"
            "print(json.dumps({'rc': rc, 'gx': 'great_expectations' in sys.modules}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=project.root, timeout=60)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"rc": 0, "gx": False}


@pytest.mark.parametrize("text,message", [
    ("expectations:\n  - {type: expect_column_values_to_not_be_null, column: id}\n",
     r"s.yaml: clean: no cleaning rules; add a 'clean:' list"),
    ("clean:\n  - type: drop_nul\n", r"clean\[0\].type \(line 2\): unknown cleaning rule "
     r"'drop_nul' \(did you mean 'drop_nulls'\?\)"),
    ("clean:\n  - type: drop_nulls\n    column: [a]\n", r"clean\[0\].column \(line 3\): not a "
     r"keyword of drop_nulls \(did you mean 'columns'\?\)"),
    ("clean:\n  - type: drop_nulls\n    columns: [answr]\n", r"clean\[0\].columns\[0\] \(line 3\): "
     r"no column 'answr' \(did you mean 'answer'\?\); it has: id, question"),
    ("clean:\n  - {type: drop_unexpected_rows, rule: nope}\n", r"no rule with meta.id 'nope'"),
    ("clean:\n  - {type: filter_length, column: answer}\n", r"clean\[0\] \(line 2\): give at least "
     r"one of min_words"),
])
def test_bad_clean_rules(demo, tmp_path, text, message):
    from workbench.clean import clean_dataset
    from workbench.core.store import Store

    project, raw = demo
    with pytest.raises(WorkbenchError, match=message):
        clean_dataset(project, "support_raw", _suite(tmp_path, text))
    assert Store.for_project(project).list_datasets("support_raw") == [raw]


def test_integer_ids_in_examples_are_stored(project, tmp_path):
    """Failing examples keyed by an integer id column store as plain JSON (no int64)."""
    from workbench.checks import check_dataset
    from workbench.core.store import Store

    suite = _suite(tmp_path, "id_column: id\nexpectations:\n  - {type: "
                             "expect_column_values_to_not_be_null, column: answer}\n")
    pd.DataFrame({"id": [1, 2, 3], "answer": ["a", None, "c"]}).to_parquet(tmp_path / "i.parquet")
    report, run_id = check_dataset(project, str(tmp_path / "i.parquet"), suite, data_docs=False)
    assert not report.success
    run = Store.for_project(project).get_run(run_id)
    assert run.status == "succeeded"
    assert run.outputs["result"]["results"][0]["unexpected_count"] == 1


# ------------------------------------------------------------------ conversations
SYS = {"role": "system", "content": "You are a helpful support agent."}


def _u(c, **k):
    return {"role": "user", "content": c, **k}


def _a(c, **k):
    return {"role": "assistant", "content": c, **k}


# one planted defect per row after c0 (see the reasons pinned below)
CHAT = [
    {"id": "c0", "messages": [SYS, _u("Where is my order?"), _a("It ships today.")]},
    {"id": "c1", "messages": [_u("Hi, I am Zoë. ", name="zoe"), _a("Hello! How can I help?"),
                              _u("Reset my station?"),
                              _a("Hold the button for ten seconds, then wait until the light "
                                 "turns green.", weight=1)]},
    {"id": "c2", "messages": [{"role": "User", "content": "Can I pay by card?"},
                              _a("Yes, in the app.")]},
    {"id": "c3", "messages": [_u("Why is my screen blank?"), _a("")]},
    {"id": "c4", "messages": [_u("Will it rain?"), _a("Light rain after 3 pm."),
                              _u("And tomorrow?")]},
    {"id": "c5", "messages": [_u("Change my email?"), SYS, _a("Yes, in Settings.")]},
    {"id": "c6", "messages": [_u("Hello?"), _u("Anyone there?"), _a("Yes, I am here.")]},
    {"id": "c7", "messages": [_u("Is it waterproof?"), {"role": "assistant"}]},
    {"id": "c8", "messages": [_u("Who do I email?"), _a("Write to help@example.com.")]},
    {"id": "c9", "messages": [_u("  Where is my order?"), _a("It ships today.")]},
    {"id": "c10", "messages": []},
    {"id": "c11", "messages": None},
]
FORMAT_REASONS = {
    "c2": "turn 0: role 'User' is not one of system, user, assistant (did you mean 'user'?)",
    "c3": "turn 1: empty content",
    "c4": "the last turn is 'user', not 'assistant'",
    "c5": "turn 1: a system turn after the first turn",
    "c6": "turn 1: 'user' follows 'user' (roles must alternate)",
    "c7": "turn 1: no 'content'",
    "c10": "no turns",
}
CHAT_SUITE = """\
name: chat
id_column: id
expectations:
  - {type: expect_column_values_to_be_unique, column: id}
  - {type: expect_column_values_to_not_be_null, column: messages}
  - type: expect_column_values_to_be_valid_conversations
    column: messages
    meta: {id: format}
  - {type: expect_column_conversation_token_counts_to_be_between, column: messages,
     model: "tiny:gpt2", max_value: MAX_TOKENS}
  - {type: expect_column_values_to_not_contain_pii, column: messages, turns: [assistant]}
  - {type: expect_column_values_to_not_contain_pii, column: messages, turns: [user]}
  - {type: expect_column_values_to_not_have_stray_whitespace, column: messages, turns: [user]}
  - {type: expect_column_near_duplicate_rate_to_be_at_most, column: messages, turns: [user]}
  - {type: expect_column_value_word_counts_to_be_between, column: messages, turns: [assistant],
     max_value: 8}
clean:
  - {type: drop_nulls, columns: [messages]}
  - {type: drop_unexpected_rows, rule: format}
"""


def _write_chat(path, rows=CHAT):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _token_counts(model_path) -> dict[str, int]:
    """Independently: the model's own apply_chat_template(tokenize=True) per conversation."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_path))
    return {r["id"]: len(tok.apply_chat_template(r["messages"], tokenize=True,
                                                 return_dict=False))
            for r in CHAT if r["messages"] and r["id"] not in ("c7",)}


@pytest.mark.slow
def test_conversation_rules_in_a_real_check_run(project, tmp_path, tiny_model):
    """`workbench check` on a JSONL file with planted defects: Great Expectations rules and
    the conversation rules side by side, each failing row named with its reason."""
    counts = _token_counts(tiny_model)
    limit = sorted(counts.values())[len(counts) // 2]
    too_long = {i for i, n in counts.items() if n > limit}
    src = _write_chat(tmp_path / "chat.jsonl")
    suite = _suite(tmp_path, CHAT_SUITE.replace("MAX_TOKENS", str(limit)), "chat.yaml")
    r = run_cli("data", "import", str(src), cwd=project.root)
    assert r.returncode == 0, r.stderr
    r = run_cli("check", "chat", "--suite", str(suite), "--json", str(tmp_path / "r.json"),
                "--html", str(tmp_path / "r.html"), "--no-data-docs", cwd=project.root)
    assert r.returncode == 1, r.stderr
    res = json.loads((tmp_path / "r.json").read_text())["results"]
    unique, not_null, fmt, tokens, pii_a, pii_u, ws, near, words = res
    assert unique["success"] and not not_null["success"]
    assert [e["row"] for e in not_null["examples"]] == ["c11"]
    # the format check: every planted defect, in row order, with its reason
    assert {e["row"]: e["reason"] for e in fmt["examples"]} == FORMAT_REASONS
    assert [e["row"] for e in fmt["examples"]] == list(FORMAT_REASONS)
    assert fmt["unexpected_count"] == 7 and fmt["unexpected_percent"] == pytest.approx(700 / 11)
    assert fmt["examples"][0]["value"] == CHAT[2]["messages"]
    # token counts: the same numbers as the model's own chat template gives
    got = {e["row"]: e.get("tokens", e.get("reason")) for e in tokens["examples"]}
    assert {i for i, v in got.items() if isinstance(v, int)} == too_long
    assert all(got[i] == counts[i] for i in too_long)
    assert got["c7"] == "not countable: turn 1: no 'content'; each turn needs a 'role' and a " \
                        "'content'"
    assert got["c10"] == "not countable: no turns"
    # the text rules read the roles `turns` chooses
    assert [(e["row"], e["pii"]) for e in pii_a["examples"]] == [("c8", ["email"])]
    assert pii_u["success"]
    assert [e["row"] for e in ws["examples"]] == ["c1", "c9"]  # c1: its first user turn
    assert [(e["row"], e["duplicate_of"]) for e in near["examples"]] == [("c9", "c0")]
    assert [(e["row"], e["words"]) for e in words["examples"]] == [("c1", 18)]
    assert "Zoë" in (tmp_path / "r.html").read_text(encoding="utf-8")

    # the malformed rows clean out, and the cleaned version passes the format check
    r = run_cli("clean", "chat", "--rules", str(suite), "--json", "-", cwd=project.root)
    assert r.returncode == 0, r.stderr
    cleaned = json.loads(r.stdout)
    assert cleaned["rows_after"] == 12 - 1 - 7
    r = run_cli("check", cleaned["result"], "--suite", str(suite), "--json", "-",
                "--no-data-docs", cwd=project.root)
    after = json.loads(r.stdout)["results"]
    assert after[2]["success"] and after[1]["success"]


def test_token_counts_fall_back_to_chatml(project, tmp_path, tiny_model):
    """A tokenizer without a chat template is counted on ChatML, and says so."""
    from transformers import AutoTokenizer

    model = tmp_path / "no-template"
    shutil.copytree(tiny_model, model)
    (model / "chat_template.jinja").unlink()
    conv = [_u("Hi"), _a("Hello there")]
    frame = pd.DataFrame({"messages": [conv, None]})
    suite = load_suite(_suite(tmp_path, "expectations:\n  - {type: "
                              "expect_column_conversation_token_counts_to_be_between, column: "
                              f"messages, model: '{model}', min_value: 1000}}\n"),
                       check_types=False)
    (res,) = run_checks(frame, suite, dataset=_ref(frame)).results
    tok = AutoTokenizer.from_pretrained(str(model))
    assert tok.chat_template is None
    chatml = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello there<|im_end|>\n"
    expected = len(tok(chatml, add_special_tokens=False)["input_ids"])
    assert res.examples == [{"row": 0, "value": conv, "tokens": expected}]
    assert res.observed["chat_template"] == "ChatML (the model has none)"
    assert res.observed["min"] == res.observed["max"] == expected
    assert res.element_count == 2 and res.unexpected_percent == 100.0  # the null is skipped


def test_turns_choose_what_the_text_rules_read(tmp_path):
    frame = pd.DataFrame({"messages": [
        [{"role": "system", "content": "he said"}, _u("she and her mum"), _a("ok")],
        [_u("Where is my order?"), _a("It  ships today.")],
        [_u("where is my order"), _a("Sure.")],
    ], "label": ["setup", "setup", "billing"]})
    suite = load_suite(_suite(tmp_path, """
expectations:
  - {type: expect_column_demographic_mentions_to_be_balanced, column: messages, max_distance: 0.1}
  - {type: expect_column_demographic_mentions_to_be_balanced, column: messages, max_distance: 0.1,
     turns: [user]}
  - {type: expect_column_values_to_not_have_stray_whitespace, column: messages}
  - {type: expect_column_values_to_not_have_stray_whitespace, column: messages, turns: [user]}
  - {type: expect_column_near_duplicate_rate_to_be_at_most, column_list: [messages, label],
     turns: [user]}
  - type: expect_column_values_to_mention_label_keywords
    column: messages
    turns: [assistant]
    label_column: label
    keywords: {setup: [ship], billing: [sure]}
"""), check_types=False)
    bal_all, bal_user, ws_all, ws_user, near, kw = run_checks(frame, suite,
                                                              dataset=_ref(frame)).results
    # every turn: he (system) against she, her, mum (user) ... user turns only: female only
    assert bal_all.observed["mentions"] == {"female": 3, "male": 1}
    assert bal_user.observed == {"distance": 0.5, "mentions": {"female": 3, "male": 0}}
    assert [e["row"] for e in ws_all.examples] == [1] and ws_user.success
    assert ws_all.examples[0]["value"] == "Where is my order?\nIt  ships today."
    assert near.success  # same user text, other label: not duplicates
    assert [e["row"] for e in kw.examples] == [0]


@pytest.mark.parametrize("text,message", [
    ("  - {type: expect_column_values_to_be_valid_conversations, column: m, final: assistent}\n",
     r"expectations\[0\] \(line 2\): final: 'assistent' is not one of the roles \(system, "
     r"user, assistant\)"),
    ("  - {type: expect_column_values_to_be_valid_conversations, column: m, system: first}\n",
     r"expectations\[0\].system \(line 2\): must be 'first_only', 'required', 'any' "
     r"or 'never'"),
    ("  - {type: expect_column_values_to_be_valid_conversations, column: m, role: [user]}\n",
     r"expectations\[0\].role \(line 2\): not a keyword of "
     r"expect_column_values_to_be_valid_conversations \(did you mean 'roles'\?\)"),
    ("  - {type: expect_column_values_to_be_valid_conversations, column: m, roles: []}\n",
     r"expectations\[0\].roles \(line 2\): List should have at least 1 item"),
    ("  - {type: expect_column_values_to_be_valid_conversations, column: m, roles: [user, "
     "assistant], system: required}\n", r"system: 'required' needs 'system' among the roles"),
    ("  - {type: expect_column_conversation_token_counts_to_be_between, column: m, "
     "model: 'tiny:gpt2'}\n", r"expectations\[0\] \(line 2\): give min_value, max_value or both"),
    ("  - {type: expect_column_conversation_token_counts_to_be_between, column: m, "
     "model: 'tiny:gpt2', min_value: 9, max_value: 3}\n", r"min_value 9 is above max_value 3"),
    ("  - {type: expect_column_conversation_token_counts_to_be_between, column: m, "
     "max_value: 3}\n",
     r"expectations\[0\].model \(line 2\): required by expect_column_conversation_token"),
    ("  - {type: expect_column_values_to_not_contain_pii, column: m, turns: []}\n",
     r"expectations\[0\].turns \(line 2\): List should have at least 1 item"),
    ("  - {type: expect_column_values_to_not_contain_pii, column: m, turn: [user]}\n",
     r"expectations\[0\].turn \(line 2\): not a keyword of "
     r"expect_column_values_to_not_contain_pii \(did you mean 'turns'\?\)"),
])
def test_bad_conversation_rule_arguments(tmp_path, text, message):
    with pytest.raises(WorkbenchError, match=message):
        load_suite(_suite(tmp_path, "expectations:\n" + text), check_types=False)


def test_turns_on_a_text_column_is_an_error_exit_2(project, tmp_path):
    pd.DataFrame({"q": ["a", "b"]}).to_csv(tmp_path / "t.csv", index=False)
    suite = _suite(tmp_path, "expectations:\n  - {type: expect_column_values_to_not_contain_pii, "
                             "column: q, turns: [user]}\n")
    r = run_cli("check", str(tmp_path / "t.csv"), "--suite", str(suite), "--no-data-docs",
                cwd=project.root)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "error: turns: column 'q' holds text, not conversations; 'turns' chooses the roles "
        "read from a column of messages (lists of {role, content} turns)"]


def test_format_check_reports_text_values_instead_of_crashing(tmp_path):
    """A column of JSON text (or of anything) is checked too: malformed rows are reported."""
    frame = pd.DataFrame({"m": ['[{"role": "user", "content": "Hi"}, {"role": "assistant", '
                                '"content": "Hey"}]', "hello", '[{"role": ', 42]}, dtype=object)
    suite = load_suite(_suite(tmp_path, "expectations:\n  - {type: "
                              "expect_column_values_to_be_valid_conversations, column: m}\n"),
                       check_types=False)
    (res,) = run_checks(frame, suite, dataset=_ref(frame)).results
    assert [(e["row"], e["reason"]) for e in res.examples] == [
        (1, "expected a list of {role, content} turns, got text 'hello'"),
        (2, "not valid JSON (Expecting value at character 10)"),
        (3, "expected a list of {role, content} turns, got int")]


def test_stray_whitespace_is_found_in_any_turn(tmp_path):
    """A trailing space at the end of an inner turn is stray, though the turns joined by
    newlines would hide it."""
    frame = pd.DataFrame({"messages": [[_u("Hi "), _a("Hello")], [_u("Hi"), _a("Hello")]]})
    suite = load_suite(_suite(tmp_path, "expectations:\n  - {type: "
                              "expect_column_values_to_not_have_stray_whitespace, column: "
                              "messages}\n"), check_types=False)
    (res,) = run_checks(frame, suite, dataset=_ref(frame)).results
    assert res.examples == [{"row": 0, "value": "Hi \nHello"}]


# ------------------------------------------------------- pinned results, faster checks
# The demo check's full result (the JSON contract and the details kept in the store),
# pinned before the check was made faster: 11 of 18 rules fail, on these rows. The digest
# catches any other change (a percent, an example value, an observed value, a note).
DEMO_RESULTS = [
    ("expect_table_row_count_to_be_between", None, True, 0, []),
    ("expect_column_values_to_be_unique", "id", True, 0, []),
    ("expect_column_values_to_not_be_null", "question", False, 2, ["q0115", "q0352"]),
    ("expect_column_values_to_not_be_null", "answer", False, 4,
     ["q0022", "q0025", "q0153", "q0229"]),
    ("expect_column_values_to_not_be_null", "topic", False, 2, ["q0058", "q0192"]),
    ("expect_column_values_to_be_in_set", "topic", True, 0, []),
    ("expect_column_values_to_be_in_set", "age_group", True, 0, []),
    ("expect_compound_columns_to_be_unique", None, False, 8,
     ["q0033", "q0044", "q0109", "q0183", "q0186", "q0215", "q0236", "q0259"]),
    ("expect_column_near_duplicate_rate_to_be_at_most", "question", False, 8,
     ["q0109", "q0183", "q0215", "q0259", "q0262", "q0273", "q0339", "q0363"]),
    ("expect_column_value_word_counts_to_be_between", "question", True, 0, []),
    ("expect_column_value_word_counts_to_be_between", "answer", False, 3,
     ["q0118", "q0304", "q0323"]),
    ("expect_column_values_to_not_have_stray_whitespace", "question", False, 3,
     ["q0020", "q0149", "q0203"]),
    ("expect_column_values_to_not_have_stray_whitespace", "answer", False, 2, ["q0225", "q0288"]),
    ("expect_column_values_to_not_contain_pii", "question", False, 1, ["q0238"]),
    ("expect_column_values_to_not_contain_pii", "answer", False, 1, ["q0002"]),
    ("expect_column_values_to_mention_label_keywords", "question", False, 3,
     ["q0040", "q0136", "q0217"]),
    ("expect_column_value_shares_to_be_at_least", "topic", True, 0, []),
    ("expect_column_demographic_mentions_to_be_balanced", None, True, 0, []),
]
DEMO_CONTRACT_SHA256 = "94ac05a54866916c4ed731f72ed8edfc996116fcdc788100134772dea19709ac"
DEMO_FULL_SHA256 = "d611868a2732d739806b0bb6b8a336b4e54012fee86f2579ca0555bf8f419aee"


def _summary(result: dict) -> list[tuple]:
    return [(r["expectation"], r["column"], r["success"], r["unexpected_count"],
             [e["row"] for e in r["examples"] if isinstance(e, dict) and "row" in e])
            for r in result["results"]]


def _sha256(obj) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def test_demo_check_results_are_pinned(demo):
    from workbench.core.output import to_jsonable

    project, _ = demo
    report, _ = check_dataset(project, "support_raw", SUITE, data_docs=False)
    contract = to_jsonable(report.to_dict())
    assert _summary(contract) == DEMO_RESULTS
    assert _sha256(contract) == DEMO_CONTRACT_SHA256
    assert _sha256(to_jsonable({"result": report.to_dict(), "details": report.details()})) \
        == DEMO_FULL_SHA256


@pytest.mark.slow
def test_check_command_validates_without_spark_or_data_docs_and_pins_the_demo(demo, tmp_path):
    """The CLI imports Great Expectations without pyspark and its Spark, SQL and file
    datasources (and scipy.stats / altair until a rule uses them), builds no Data Docs
    unless asked, and its results equal the pin."""
    import scipy.stats

    from workbench.core.store import Store

    project, _ = demo
    kl = _suite(tmp_path, "expectations:\n  - {type: expect_column_kl_divergence_to_be_less_than, "
                          "column: c, partition_object: {values: [a, b], weights: [0.5, 0.5]}, "
                          "threshold: 0.1}\n", "kl.yaml")
    js = _suite(tmp_path, "expectations:\n  - {type: expect_column_values_to_match_json_schema, "
                          "column: j, json_schema: {properties: {a: {type: integer}}}}\n",
                "js.yaml")
    code = f"""
import contextlib, gc, io, json, os, sys
os.environ['_WORKBENCH_NO_EXIT'] = '1'
from workbench.cli import main
from workbench.checks._gx import _OTHER_DATASOURCES
other_datasources = [f'great_expectations.datasource.fluent.{{m}}' for m in _OTHER_DATASOURCES]
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(['check', 'support_raw', '--suite', {str(SUITE)!r},
               '--json', {str(tmp_path / 'r.json')!r}])
seen = {{'rc': rc, 'gc': gc.isenabled(),
         'imported': sorted(m for m in ('pyspark', 'scipy.stats', 'altair', 'jsonschema',
                                        'mistune', *other_datasources) if m in sys.modules)}}
import pandas as pd
from workbench.checks import DatasetRef, load_suite, run_checks
from workbench.checks._gx import run_expectations
rules = load_suite({str(kl)!r})
res = run_checks(pd.DataFrame({{'c': list('aaab')}}), rules,
                 dataset=DatasetRef(name='t', version='v', rows=4)).results[0]
seen['kl'] = [res.success, res.observed, 'scipy.stats' in sys.modules]
js = run_checks(pd.DataFrame({{'j': ['{{"a": 1}}', '{{"a": "x"}}']}}), load_suite({str(js)!r}),
                dataset=DatasetRef(name='t', version='v', rows=2)).results[0]
seen['json'] = [js.unexpected_count, js.examples, 'jsonschema' in sys.modules]
try:
    run_expectations(pd.DataFrame({{'c': [1]}}), rules.expectations, suite_name='s',
                     datasource='spark')
except Exception as exc:
    seen['spark'] = str(exc)
print(json.dumps(seen))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=project.root, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["rc"] == 1 and seen["gc"] is True and seen["imported"] == []
    assert seen["kl"] == [False, pytest.approx(scipy.stats.entropy([0.75, 0.25], [0.5, 0.5])),
                          True]
    assert seen["json"] == [1, [{"row": 1, "value": '{"a": "x"}'}], True]
    assert re.fullmatch(r"engine: this process imported Great Expectations for pandas only, "
                        r"so it cannot run Spark checks; run them in a process of their own",
                        seen["spark"])
    assert not (project.state / "data_docs").exists()
    contract = json.loads((tmp_path / "r.json").read_text())
    assert _summary(contract) == DEMO_RESULTS
    run = Store.for_project(project).list_runs("check")[0]
    assert contract["run_id"] == run.id  # the one key --json gained; the rest is pinned
    assert _sha256({k: v for k, v in contract.items() if k != "run_id"}) \
        == DEMO_CONTRACT_SHA256
    assert _sha256({"result": run.outputs["result"], "details": run.outputs["details"]}) \
        == DEMO_FULL_SHA256


def test_means_of_decimal_and_numeric_columns_are_great_expectations_own(tmp_path):
    """Only an object column is scanned for Decimal values before its mean: both kinds
    come out as Great Expectations computes them."""
    from decimal import Decimal

    frame = pd.DataFrame({"d": [Decimal("1.5"), Decimal("2.5"), Decimal("2.5"), Decimal(2)],
                          "x": [1.5, 2.5, None, 2.0]})
    suite = load_suite(_suite(tmp_path, """expectations:
  - {type: expect_column_mean_to_be_between, column: d, min_value: 2.1, max_value: 3}
  - {type: expect_column_mean_to_be_between, column: x, min_value: 2.1, max_value: 3}
  - {type: expect_column_sum_to_be_between, column: d, min_value: 8, max_value: 9}
"""))
    results = run_checks(frame, suite, dataset=_ref(frame)).results
    assert [(r.success, r.observed) for r in results] == [(True, 2.125), (False, 2.0),
                                                          (True, 8.5)]
    assert all(isinstance(r.observed, float) for r in results)  # Decimals became floats


def test_examples_name_rows_by_id_for_every_rule_shape(tmp_path):
    """Column, column-pair and multicolumn rules name failing rows by the id column and
    show the values Great Expectations' own id lookup showed (pinned from it)."""
    from workbench.core.output import to_jsonable

    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, 5.0, None, 2.0],
                          "y": [2.0, 1.0, 3.0, 2.0], "t": ["p", "q", "p", "d"],
                          "u": ["1", "2", "1", "1"]})
    suite = load_suite(_suite(tmp_path, """id_column: id
expectations:
  - {type: expect_column_pair_values_a_to_be_greater_than_b, column_A: x, column_B: y}
  - {type: expect_compound_columns_to_be_unique, column_list: [t, u]}
  - {type: expect_column_values_to_be_in_set, column: id, value_set: [a, b]}
  - {type: expect_select_column_values_to_be_unique_within_record, column_list: [id, t]}
"""))
    results = run_checks(frame, suite, dataset=_ref(frame)).results
    assert [to_jsonable(r.examples) for r in results] == [
        [{"row": "a", "value": {"x": 1.0, "y": 2.0}}, {"row": "c", "value": {"x": None, "y": 3.0}},
         {"row": "d", "value": {"x": 2.0, "y": 2.0}}],
        [{"row": "a", "value": {"t": "p", "u": "1"}}, {"row": "c", "value": {"t": "p", "u": "1"}}],
        [{"row": "c", "value": "c"}, {"row": "d", "value": "d"}],
        [{"row": "d", "value": {"t": "d"}}],
    ]


@pytest.mark.parametrize("text,expected", [
    ("id_column: id\nexpectations:\n  - {type: expect_column_values_to_not_be_null, column: b}\n"
     "  - {type: expect_column_pair_values_to_be_equal, column_A: c, column_B: a}\n"
     "  - {type: expect_table_row_count_to_be_between, min_value: 1}\n"
     "  - {type: expect_compound_columns_to_be_unique, column_list: [b, d]}\n"
     "  - {type: expect_column_value_word_counts_to_be_between, column: t, min_value: 1}\n",
     ["id", "b", "c", "a", "d", "t"]),
    ("expectations:\n  - {type: expect_table_column_count_to_equal, value: 5}\n", None),
    ("expectations:\n  - {type: expect_column_to_exist, column: b, column_index: 1}\n", None),
    ("expectations:\n  - {type: expect_table_columns_to_match_set, column_set: [a, b]}\n", None),
    ("expectations:\n  - {type: expect_column_values_to_not_be_null, column: b, "
     "row_condition: 'a>1', condition_parser: pandas}\n", None),
    ("expectations:\n  - {type: expect_column_values_to_not_be_null, column: b}\n"
     "  - {type: expect_column_values_to_be_shouty, column: b}\n", None),
])
def test_columns_read_only_when_every_rule_names_its_columns(tmp_path, monkeypatch, text,
                                                            expected):
    from workbench.checks import RULES, register_rule
    from workbench.checks._rules import ColumnMapArgs, Outcome
    from workbench.checks._run import columns_read

    # a rule from an extension may read any column
    monkeypatch.setitem(RULES, "expect_column_values_to_be_shouty", None)

    @register_rule("expect_column_values_to_be_shouty", ColumnMapArgs)
    def _shouty(frame, args, id_column=None):
        """Values are upper case (and may look at any column)."""
        return Outcome(True, len(frame))

    assert columns_read(load_suite(_suite(tmp_path, text))) == expected


def _spy_reads(monkeypatch) -> list[tuple[str, list | None]]:
    """Which thread read the data for a check, and which columns (the real reader runs)."""
    import threading

    import workbench.data

    seen, read = [], workbench.data.resolve_data

    def resolve_data(*args, **kwargs):
        seen.append((threading.current_thread().name.split("_")[0], kwargs.get("columns")))
        return read(*args, **kwargs)

    monkeypatch.setattr(workbench.data, "resolve_data", resolve_data)
    return seen


def test_the_columns_guessed_before_the_import_are_what_great_expectations_says():
    """The data is read while Great Expectations imports only when the columns guessed
    from the suite's YAML are those its classes name; they agree on every rule it has."""
    from workbench.checks import _gx
    from workbench.checks._run import _names_its_columns

    disagree = []
    for type_ in _gx.expectation_types():
        allowed = _gx.allowed_kwargs(type_)
        kwargs = {k: "a" for k in ("column", "column_A", "column_B") if k in allowed}
        kwargs.update({"column_list": ["a", "b"]} if "column_list" in allowed else {})
        for extra in ({}, {"row_condition": 'a>0'} if "row_condition" in allowed else {}):
            both = {**kwargs, **extra}
            if _names_its_columns(type_, both) != _gx.reads_named_columns_only(type_, both):
                disagree.append((type_, both))
    assert disagree == []
    assert _names_its_columns("expect_column_to_exist", {"column": "a"}) is False


def test_a_stored_version_is_read_for_the_suite_columns_only(project, tmp_path, monkeypatch):
    from workbench.data import import_dataset, load_frame

    frame = pd.DataFrame({"id": ["r1", "r2", "r3", "r4", "r5"], "a": [1.0, 7.0, None, 3.0, 9.0],
                          "b": ["x", None, "y", "x", None], "c": [1, 2, 3, 4, 5],
                          "d": ["long text", "t", "u", "v", "w"]})
    frame.to_parquet(tmp_path / "wide.parquet", index=False)
    import_dataset(project, str(tmp_path / "wide.parquet"), name="wide")
    assert list(load_frame(project, "wide", columns=["b", "zz", "id"])[1].columns) == ["id", "b"]

    path = _suite(tmp_path, "id_column: id\nexpectations:\n"
                            "  - {type: expect_column_values_to_not_be_null, column: b}\n"
                            "  - {type: expect_column_values_to_be_between, column: a, "
                            "max_value: 5}\n")
    read_in = _spy_reads(monkeypatch)
    report, _ = check_dataset(project, "wide", path, data_docs=False)
    assert read_in == [("workbench-read", ["id", "b", "a"])]  # while the suite loaded
    whole = run_checks(frame, load_suite(path), dataset=report.dataset)
    assert [r.model_dump() for r in report.results] == [r.model_dump() for r in whole.results]
    assert [[e["row"] for e in r.examples] for r in report.results] == [["r2", "r5"], ["r2", "r5"]]
    # a table-shape rule sees every column; a missing column is named against all of them
    shape = _suite(tmp_path, "expectations:\n  - {type: expect_table_column_count_to_equal, "
                             "value: 5}\n", "shape.yaml")
    read_in.clear()
    assert check_dataset(project, "wide", shape, data_docs=False)[0].success
    assert read_in == [("MainThread", None)]
    missing = _suite(tmp_path, "expectations:\n  - {type: expect_column_values_to_not_be_null, "
                               "column: zz}\n", "missing.yaml")
    with pytest.raises(WorkbenchError, match=r"expectations\[0\].column \(line 2\): no column "
                                             r"'zz' in wide@\w+; it has: id, a, b, c, d$"):
        check_dataset(project, "wide", missing, data_docs=False)
