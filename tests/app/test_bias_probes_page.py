"""The Bias probes page under AppTest: edit a set with inline errors, run on an outputs
file, see the result, compare two runs."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]


def plain(markdown: str) -> str:
    """What the reader sees of escaped Markdown (the app escapes untrusted text)."""
    text = re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
    return html.unescape(text).replace("  \n", "\n")


def _outputs(path: Path, effect: bool) -> Path:
    rows = [{"group": g, "template": f"t{t}",
             "output": ("<script>x</script> wonderful and kind" if g == "woman" or not effect
                        else "awful and sad")}
            for t in range(16) for g in ("woman", "man")]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture
def page(project, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/bias_probes.py")
    return at.run()


@pytest.mark.slow
def test_bias_probes_page_flow(page, project, tmp_path):
    at = page
    root = project.root
    assert not at.exception
    assert any("No probe runs yet" in i.value for i in at.info)
    # edit the selected probe set: an undeclared slot is reported inline
    at.selectbox(key="set_name").select("gender").run()
    text = at.text_area(key="set_yaml_gender").value
    at.text_area(key="set_yaml_gender").input(text.replace("{occupation}", "{job}", 1)).run()
    assert any("slot {job} is not declared in fillers" in plain(e.value) for e in at.error)
    # run on an outputs file
    at.radio(key="source").set_value("An outputs file").run()
    # a file outside the project is refused (the app reads only the project and uploads)
    at.text_input(key="outputs_path").input(str(_outputs(tmp_path / "b.csv", False))).run()
    assert any(plain(e.value).startswith("Path: ") and "outside the project" in plain(e.value)
               for e in at.error), [e.value for e in at.error]
    at.text_input(key="outputs_path").input("b.csv").run()
    _outputs(root / "b.csv", False)
    at.text_input(key="outputs_path").input(str(root / "b.csv")).run()
    at.button(key="run_probe").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Run #1 stored" in plain(s.value) for s in at.success), ([e.value for e in at.error], [s.value for s in at.success])
    (root / "a").mkdir()
    at.text_input(key="outputs_path").input(str(_outputs(root / "a" / "b.csv", True))).run()
    at.button(key="run_probe").click().run()
    assert any(e.value.startswith("Flagged") for e in at.error)
    # before/after of the two stored runs
    at.run()  # the stored runs are listed on the next rerun
    at.button(key="compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("flagged and the before-model was not" in plain(e.value) for e in at.error)
    from workbench.core.store import Store

    recorded = Store.for_project(project).list_runs("bias-compare")  # as bias-report does
    assert len(recorded) == 1 and recorded[0].status == "succeeded"
    assert any(plain(c.value).startswith(f"Recorded as run {recorded[0].id}; report: ")
               and "run1-vs-run2" in plain(c.value) for c in at.caption)
    # the result survives a rerun (another widget, a download), with its interval chart
    at.run()
    assert any("flagged and the before-model was not" in plain(e.value) for e in at.error)
    assert at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")
    gaps = at.dataframe[-2].value
    assert {"95% low", "95% high"} <= set(gaps.columns) and "ci" not in gaps.columns
    # each gap change's verdict stands next to its interval, not off to the right
    assert list(gaps.columns)[:9] == ["a", "b", "n_contexts", "before", "after", "change",
                                      "95% low", "95% high", "verdict"], list(gaps.columns)
    assert gaps["verdict"].iloc[0] in {"widened", "narrowed", "unchanged", "inconclusive"}


@pytest.mark.slow
def test_model_probe_runs_in_the_background(page, project):
    """Probing a model starts a background thread; the page keeps answering and shows the
    stored run when it finishes."""
    import time

    at = page
    at.radio(key="source").set_value("A model").run()
    at.selectbox(key="run_probes_A model").select("gender").run()
    assert at.selectbox(key="model").options[0].startswith("packaged:smollm2-135m-instruct")
    at.selectbox(key="model").set_value("tiny:gpt2").run()
    at.number_input(key="max_new_tokens").set_value(4).run()
    assert at.checkbox(key="probe_chat").value  # the chat template on, as `workbench probe`
    at.button(key="run_probe").click().run()
    assert not at.exception, [e.value for e in at.exception]
    deadline = time.time() + 240
    while time.time() < deadline:
        at.run()  # a rerun while the probe is running: the page is not blocked
        done = [plain(s.value) for s in at.success if "stored" in s.value]
        if done or at.error:
            break
        time.sleep(1)
    assert not at.error, [e.value for e in at.error]
    assert done and done[0].startswith("Run #1 stored")
    # the same model probed from the terminal with its defaults compares with it: same mode
    from tests.conftest import run_cli

    root = project.root
    proc = run_cli("probe", "--model", "tiny:gpt2", "--probes", "gender", "--max-new-tokens",
                   "4", cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    proc = run_cli("bias-report", "--before", "1", "--after", "2", cwd=root)
    assert proc.returncode in (0, 1), proc.stderr  # 2: "generated differently" refused
