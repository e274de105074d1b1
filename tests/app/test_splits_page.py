"""The Splits page under AppTest: make a split, see its strata and leakage, errors shown."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from tests.conftest import ROOT


def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the app escapes untrusted text)."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
    return html.unescape(text).replace("  \n", "\n")


@pytest.fixture
def demo_project(project, tmp_path, monkeypatch):
    from workbench.data import import_dataset

    demo = pd.read_csv(ROOT / "workbench" / "demo" / "support_qa.csv")
    demo.dropna(subset=["topic"]).to_csv(tmp_path / "support.csv", index=False)
    import_dataset(project, str(tmp_path / "support.csv"))
    monkeypatch.chdir(ROOT)
    return project


def _splits_page():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    at.switch_page("pages/splits.py")
    at.run()
    return at


def test_splits_page_empty_state(project, monkeypatch):
    monkeypatch.chdir(ROOT)
    at = _splits_page()
    assert not at.exception
    assert "No datasets yet" in at.info[0].value


@pytest.mark.slow
def test_splits_page_makes_shows_and_lists_splits(demo_project):
    at = _splits_page()
    assert not at.exception, [e.value for e in at.exception]
    assert "No splits yet" in at.caption[-1].value
    assert at.selectbox(key="split_label").value == "topic"  # guessed: few distinct values
    at.multiselect(key="split_stratify").set_value(["persona"])
    at.text_input(key="split_ratios").input("0.8,0.3")
    at.button(key="split_run").click().run()
    assert [plain(e.value) for e in at.error] == [  # the app's words, not the flag
        "Ratios: must be 2 (train,test) or 3 (train,validation,test) positive numbers "
        "that sum to 1; got '0.8,0.3', which sums to 1.1"]
    at.text_input(key="split_ratios").input("0.8,0.1,0.1")
    at.button(key="split_run").click().run()
    assert not at.exception and not at.error
    from workbench.splits import get_split_run

    counts = get_split_run(demo_project, 1).outputs["manifest"]["counts"]
    assert all(abs(counts[p] - r * 363) < 1 for p, r in zip(counts, [0.8, 0.1, 0.1]))
    assert at.success[0].value.startswith(
        f"Saved split 1: train {counts['train']}, validation {counts['validation']}, "
        f"test {counts['test']}")
    tables = [df.value for df in at.dataframe]
    strata = next(t for t in tables if "stratum" in t.columns)
    assert "weather|woman" in strata["stratum"].tolist()
    leaks = next(t for t in tables if "kind" in t.columns)
    assert "exact duplicate" in leaks["kind"].tolist()
    # a refresh keeps everything: the split comes back from the store
    again = _splits_page()
    assert any("id" in df.value.columns and 1 in df.value["id"].tolist() for df in again.dataframe)
    assert [m.value for m in again.metric][:3] == [str(n) for n in counts.values()]


def test_hundreds_of_small_strata_are_summarised():
    import pandas as pd

    from workbench.core.errors import WorkbenchError
    from workbench.splits import plan_split

    frame = pd.DataFrame({"y": [f"c{i:03d}" for i in range(300)] + ["a"] * 10})
    with pytest.raises(WorkbenchError) as info:
        plan_split(frame, label="y", ratios=[0.5, 0.5], seed=0)
    msg = str(info.value)
    assert msg.count("(1 row)") == 10 and "and 290 more" in msg and len(msg) < 600


def _import_jsonl(project, name: str, rows: list[dict]) -> None:
    """``rows`` as ``NAME.jsonl`` in the project, imported as dataset ``name``."""
    import json

    from workbench.data import import_dataset

    path = project.root / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    import_dataset(project, str(path), name=name)


def test_conversations_split_whole_from_the_page(project, monkeypatch):
    """A dataset of conversations: the page offers its other columns as label and strata
    (never the conversations) and splits it, one conversation per row."""
    rows = [{"id": f"c{i}", "topic": "ab"[i % 2], "messages": [
        {"role": "user", "content": f"Question {i}?"},
        {"role": "assistant", "content": f"Answer {i}."}]} for i in range(12)]
    _import_jsonl(project, "chat", rows)
    monkeypatch.chdir(ROOT)
    at = _splits_page()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="split_label").options == ["id", "topic", "(none)"]
    at.selectbox(key="split_label").set_value("topic")
    at.text_input(key="split_ratios").input("0.5,0.5")
    at.button(key="split_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved split" in plain(s.value) and "train 6" in plain(s.value)
               for s in at.success), [s.value for s in at.success]
    first = at.selectbox(key="split_show").value
    at.number_input(key="split_seed").set_value(1)
    at.button(key="split_run").click().run()  # a second split: the page shows that one
    assert at.selectbox(key="split_show").value == first + 1
    assert f"Saved split {first + 1}:" in plain(at.success[0].value)


def test_the_page_splits_a_file_of_nothing_but_conversations(project, monkeypatch):
    """OpenAI's format: only a ``messages`` column. The label box offers '(none)' (the only
    choice here) and the page makes a random split, each conversation whole."""
    rows = [{"messages": [{"role": "user", "content": f"Question {i}?"},
                          {"role": "assistant", "content": f"Answer {i}."}]} for i in range(10)]
    _import_jsonl(project, "only", rows)
    monkeypatch.chdir(ROOT)
    at = _splits_page()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="split_label").options == ["(none)"]
    at.text_input(key="split_ratios").input("0.6,0.4")
    at.button(key="split_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert any("Saved split" in plain(s.value) and "train 6, test 4" in plain(s.value)
               for s in at.success), [s.value for s in at.success]
