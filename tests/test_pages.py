"""Every page runs under AppTest on a project with data: no exception, key widgets present."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the app escapes untrusted text)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("  \n", "\n")


PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture
def app_project(project, qa_frame, tmp_path, monkeypatch):
    from workbench.data import import_dataset

    qa_frame.to_csv(tmp_path / "qa.csv", index=False)
    import_dataset(project, str(tmp_path / "qa.csv"))
    monkeypatch.chdir(ROOT)
    return project


def _run(page: str):
    """Run the real app entry point, then switch to ``page`` as the navigation would."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    if page != "home.py":
        at.switch_page(f"pages/{page}")
        at.run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_page_runs(app_project, page):
    at = _run(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.caption  # title + one-line purpose


def test_app_navigation_lists_lifecycle_in_order():
    text = (ROOT / "app.py").read_text()
    order = ["Home", "Data", "Data quality", "Splits", "Train", "Evaluate", "Bias probes",
             "Review", "Reports"]
    positions = [text.index(f'title="{t}"') for t in order]
    assert positions == sorted(positions)


def test_home_shows_datasets_and_imports_with_errors(app_project, tmp_path):
    at = _run("home.py")
    assert any("qa" in str(df.value["name"].tolist()) for df in at.dataframe)
    (tmp_path / "ragged.csv").write_text("a,b\n1,2\n3,4,5\n")
    at.text_input(key="import_path").input(str(tmp_path / "ragged.csv"))
    at.button[0].click().run()
    assert [plain(e.value) for e in at.error] == [f"{tmp_path / 'ragged.csv'}: line 3 has 3 fields, "
                                           "the header has 2"]
    (tmp_path / "new.csv").write_text("x,y\n1,2\n")
    at.text_input(key="import_path").input(str(tmp_path / "new.csv"))
    at.button[0].click().run()
    assert not at.error
    assert "Imported new@" in at.success[0].value


def test_upload_names_never_escape(project):
    from workbench.data import save_upload

    path, safe = save_upload(project, "../../etc/evil.csv", b"a\n1\n")
    assert path.parent == project.uploads_dir and path.suffix == ".csv"
    assert safe == "evil.csv"
    from workbench.core.errors import WorkbenchError

    with pytest.raises(WorkbenchError, match="unsupported file type '.sh'"):
        save_upload(project, "x.sh", b"rm -rf /")


def _eval_runs(project, tmp_path):
    import pandas as pd

    from workbench.evaluation import evaluate_predictions

    refs = ["Hold the button.", "It ships today.", "Light rain.", "Use a card."] * 3
    runs = []
    for name, preds in (("base", ["No idea."] * 12), ("tuned", refs[:-1] + ["<script>x</script>"])):
        pd.DataFrame({"id": range(12), "prediction": preds, "reference": refs,
                      "topic": ["a", "b"] * 6}).to_csv(tmp_path / f"{name}.csv", index=False)
        runs.append(evaluate_predictions(project, tmp_path / f"{name}.csv", slices=["topic"]))
    return runs


@pytest.mark.slow
def test_evaluate_page_shows_results_and_compares(app_project, tmp_path):
    base, tuned = _eval_runs(app_project, tmp_path)
    at = _run("evaluate.py")
    assert not at.exception, [e.value for e in at.exception]
    metrics = at.dataframe[0].value
    assert metrics["metric"].tolist() == ["accuracy", "bleu", "rouge1", "rouge2", "rougeL",
                                          "rougeLsum"]
    assert metrics["95% low"].notna().all()
    assert any(plain(w.value).startswith("2 slices have fewer than 30 examples")
               for w in at.warning)
    charts = lambda: len(at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart"))  # noqa: E731
    assert charts() == 1  # the slices with their intervals
    assert at.selectbox(key="cmp_a").value == base.run_id
    from workbench import review

    review.record_verdict(app_project, run_a=base.run_id, run_b=tuned.run_id, item="0",
                          verdict="b_better", reviewer="ana")
    at.button(key="cmp_go").click().run()
    assert any(plain(i.value).startswith("Human review: 1 items by ana: A better 0, B better 1")
               for i in at.info)
    assert not at.exception, [e.value for e in at.exception]
    assert charts() == 3  # + B - A for BLEU and for the 0-1 metrics
    from workbench.core.store import Store

    reports = Store.for_project(app_project).list_reports("compare")
    assert len(reports) == 1 and Path(reports[0]["path"]).is_file()
    diffs = at.dataframe[-2].value
    assert diffs.set_index("metric").loc["accuracy", "verdict"] == "B better"
    side = at.dataframe[-1].value
    assert {"a", "b", "delta"} <= set(side.columns)


@pytest.mark.slow
def test_evaluate_page_runs_a_model_in_the_background(app_project):
    import time

    at = _run("evaluate.py")
    assert "No evaluations yet" in " ".join(i.value for i in at.info)
    at.selectbox(key="eval_model").set_value("tiny:gpt2")
    at.number_input(key="eval_max_new").set_value(4)
    at.checkbox(key="eval_chat").uncheck()  # tiny:gpt2 has no chat template
    at.button[0].click().run()
    deadline = time.time() + 240
    while time.time() < deadline and not at.success:
        time.sleep(2)
        at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Evaluation finished: run" in plain(at.success[0].value)
    from workbench.core.store import Store

    assert [r["kind"] for r in Store.for_project(app_project).list_reports()] == ["evaluate"]
    assert at.dataframe[0].value["metric"].tolist()[0] == "accuracy"


def test_before_after_pickers_default_to_base_and_fine_tuned(app_project):
    """Review and Evaluate preselect A = the base model's run and B = the fine-tuned
    run:ID's run on the same data, whatever order they were made in."""
    import json

    from workbench.core.store import Store

    store = Store.for_project(app_project)
    with store.record("train", config={"model": "packaged:base"}) as out:
        train = out["run_id"]

    def evaluated(model: str, data: str) -> int:
        with store.record("evaluate", name=model, config={"model": model, "data": data}) as o:
            path = app_project.runs_dir / str(o["run_id"]) / "examples.jsonl"
            path.parent.mkdir(parents=True)
            path.write_text("".join(json.dumps({"id": str(i), "prompt": f"q{i}",
                                                "prediction": f"{model} {i}"}) + "\n"
                                    for i in range(3)))
            o["examples"] = str(path)
        return o["run_id"]

    tuned = evaluated(f"run:{train}", "split:1:test")
    base = evaluated("packaged:base", "split:1:test")
    evaluated("packaged:base", "other-data")  # the newest, but not on the same data
    evaluated("tiny:gpt2", "split:1:test")
    at = _run("review.py")
    assert not at.exception, [e.value for e in at.exception]
    assert (at.selectbox(key="run_a").value, at.selectbox(key="run_b").value) == (base, tuned)
