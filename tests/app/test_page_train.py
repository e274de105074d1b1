"""The Train page under AppTest: empty state, a run started from the form in a background
process, live progress from the store, cancel, and past runs with their curves."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the app escapes untrusted text)."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
    return html.unescape(text).replace("  \n", "\n")


def _page(timeout: int = 60):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    return at


def test_empty_state_points_to_splits(project, monkeypatch):
    monkeypatch.chdir(ROOT)
    at = _page()
    assert not at.exception
    assert any("needs a split" in i.value for i in at.info)
    assert any("No training runs yet" in i.value for i in at.info)


@pytest.mark.slow
def test_form_starts_background_run_shows_it_and_cancels(project, monkeypatch):
    from tests.train import test_train  # the same tiny QA rows as the training tests

    from workbench.core.store import Store
    from workbench.data import save_version
    from workbench.models import prepare_model
    from workbench.splits import make_split
    from workbench.train import jobs

    monkeypatch.chdir(ROOT)
    dv, _ = save_version(project, test_train.qa_rows(), name="qa", source="test")
    make_split(project, dv, label="topic", ratios="0.6,0.2,0.2", seed=0)
    prepare_model(project, "tiny:gpt2")
    at = _page()
    assert not at.exception
    at.selectbox(key="model").select("tiny:gpt2")
    at.run()
    at.number_input(key="max_steps").set_value(400)
    at.number_input(key="max_len").set_value(64)
    at.number_input(key="lr").set_value(1e-3)
    at.button(key="FormSubmitter:train_form-Start training").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success and "Started process" in at.success[0].value, [e.value for e in at.error]
    job = jobs.list_jobs(project)[0]
    # the config path is shown as itself in a code span: no Markdown backslashes in it
    assert any(m.value.endswith(f"`{job.config}`") for m in at.markdown
               if m.value.startswith(f"**Process {job.pid}**")), [m.value for m in at.markdown]
    # listed under Past runs from its first second, with what it is doing
    status = at.dataframe[0].value["status"].astype(str).tolist()
    assert any(f"(process {job.pid})" in s for s in status), status
    store = Store.for_project(project)
    deadline = time.time() + 180
    run = None
    while time.time() < deadline:  # wait for the background process to log steps
        run = jobs.job_run(project, job)
        if run and jobs.progress(project, run.id)["step"] >= 2:
            break
        assert job.alive, job.log_tail()
        time.sleep(0.5)
    assert run is not None
    at.run()  # the page shows live progress read from the store
    texts = [plain(p.proto.text or "") for p in at.get("progress")]
    assert any(f"run:{run.id}: step" in t and ("left" in t or "ETA" in t) for t in texts), texts
    at.button(key=f"cancel_{job.pid}").click().run()
    assert store.get_run(run.id).status == "cancelled"
    assert not job.alive
    # past runs list it, with its curve
    at = _page()
    frame = at.dataframe[0].value
    assert run.id in frame["id"].tolist(), frame
    assert frame.set_index("id").loc[run.id, "status"] == "cancelled"
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_bad_config_file_shows_one_line(project, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    outside = tmp_path / "outside.yaml"
    outside.write_text("model: tiny:gpt2\n")
    at = _page()
    at.text_input(key="cfg_path").input(str(outside))
    at.button(key="FormSubmitter:file_form-Start from file").click().run()
    assert plain(at.error[0].value).startswith(f"Config file: {outside}: outside the project")
    bad = project.root / "bad.yaml"
    bad.write_text("model: tiny:gpt2\nepochz: 1\ndata: {split: x, prompt: a, response: b}\n")
    at = _page()
    at.text_input(key="cfg_path").input(str(bad))
    at.button(key="FormSubmitter:file_form-Start from file").click().run()
    assert [plain(e.value) for e in at.error] == [f"{bad}: epochz (line 2): unknown key; allowed: name, model, "
                                           "task, method, data, lora, training, card, lr_search"]


def test_show_a_run_picks_an_older_run(project, monkeypatch):
    """Choosing any but the newest run under "Show a run" shows it (the picker was drawn
    once per run until it matched, a duplicate-key crash as soon as a second run existed)."""
    from workbench.core.store import Store

    monkeypatch.chdir(ROOT)
    store = Store.for_project(project)
    ids = []
    for name in ("old-run", "new-run"):
        with store.record("train", name=name, config={"model": "tiny:gpt2"}) as out:
            ids.append(out["run_id"])
    old = ids[0]
    at = _page()
    assert not at.exception
    at.selectbox(key="show_run").select(old).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="show_run").value == old
