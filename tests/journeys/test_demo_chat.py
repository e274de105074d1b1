"""The conversation demo: every planted format defect in DEFECTS.md is found by its rule,
cleaning removes or fixes each, and the cleaned version passes."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

DEMO = ROOT / "workbench" / "demo"


def planted() -> dict[str, set[str]]:
    text = (DEMO / "DEFECTS.md").read_text(encoding="utf-8").split(
        "<!-- conversations")[1]
    out: dict[str, set[str]] = {}
    for rule, ids in re.findall(r"^## .* \[(\w+)\]\n\n`\w+`: (.*)$", text, flags=re.M):
        out.setdefault(rule, set()).update(re.findall(r"c\d{4}", ids))
    return out


def test_demo_file_is_current_and_importable(project):
    from workbench.data import import_dataset, is_conversation_column, load_frame

    dv, _ = import_dataset(project, str(DEMO / "support_chat.jsonl"), name="support_chat")
    _, frame = load_frame(project, dv)
    assert is_conversation_column(frame["messages"]) and len(frame) == 120
    multi = sum(sum(t["role"] == "assistant" for t in m) > 1 for m in frame["messages"])
    assert multi >= 20
    assert sum(len(v) for v in planted().values()) == 13


@pytest.mark.slow
def test_demo_check_finds_every_planted_defect_and_clean_fixes_them(project):
    from workbench.checks import check_dataset
    from workbench.clean import clean_dataset
    from workbench.data import import_dataset

    suite = DEMO / "support_chat.yaml"
    dv, _ = import_dataset(project, str(DEMO / "support_chat.jsonl"), name="support_chat")
    report, _ = check_dataset(project, dv.ref, suite, data_docs=False)
    found = {r.expectation: {str(e["row"] if isinstance(e, dict) else e) for e in r.examples}
             for r in report.results}
    want = planted()
    assert found["expect_column_values_to_be_valid_conversations"] == want["format"]
    assert found["expect_column_values_to_not_contain_pii"] == want["pii"]
    # the spaces-only answer (an empty_content defect) is stray whitespace too
    assert want["whitespace"] <= found["expect_column_values_to_not_have_stray_whitespace"]
    cleaned = clean_dataset(project, dv.ref, suite)
    assert cleaned.rows_after == 120 - len(want["format"])
    after, _ = check_dataset(project, cleaned.result, suite, data_docs=False)
    assert after.success
