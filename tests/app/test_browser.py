"""End to end in a real headless Chromium (Debian's package) driven by Playwright against
`streamlit run` on 127.0.0.1: open the app, review, record a verdict, reload, see it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.review.test_review import make_run

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
PAGES = ["", "data", "data_quality", "splits", "train", "evaluate", "bias_probes", "review",
         "reports"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(project):
    """`streamlit run app.py` on 127.0.0.1 for ``project``; yields its URL."""
    port = _free_port()
    env = {**os.environ, "WORKBENCH_PROJECT": str(project.root)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def chromium_page():
    """A page in Debian's headless chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: run `make test` (it installs it)"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


@pytest.fixture
def server(project):
    base = [{"id": str(i), "prompt": f"How do I do thing {i}?", "prediction": f"base answer {i}",
             "reference": f"answer {i}"} for i in range(3)]
    tuned = [{**r, "prediction": f"tuned answer {i}"} for i, r in enumerate(base)]
    make_run(project, "evaluate", base, "base")
    make_run(project, "evaluate", tuned, "tuned")
    with streamlit_server(project) as url:
        yield url


def test_review_verdict_survives_reload(server, project):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        # A deep link as the server's very first request still goes through app.py's
        # navigation (lifecycle order, page titles), not a file-named sidebar.
        page.goto(f"{server}/review")
        page.wait_for_selector("h1", timeout=30_000)
        nav = page.locator("[data-testid='stSidebarNav'] a")
        expect(nav).to_have_count(9, timeout=15_000)
        labels = [t.split("\n")[-1] for t in nav.all_inner_texts()]
        assert labels == ["Home", "Data", "Data quality", "Splits", "Train", "Evaluate",
                          "Bias probes", "Review", "Reports"]
        for name in PAGES:
            page.goto(f"{server}/{name}")
            page.wait_for_selector("h1", timeout=30_000)
            page.wait_for_timeout(1500)
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / f"{name or 'home'}.png"), full_page=True)
        page.goto(f"{server}/review")
        page.get_by_label("Your name (stored with each verdict)").fill("browser-reviewer")
        page.keyboard.press("Enter")
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="B better").click()
        expect(page.get_by_text("Recorded 'B better'")).to_be_visible(timeout=15_000)
        # the next item is shown; the keyboard records a verdict once the focus leaves the
        # text boxes (a click on the page, as a reviewer would)
        expect(page.get_by_label("Item (of 3)")).to_have_value("2", timeout=15_000)
        page.locator("h1").first.click()
        page.keyboard.press("3")
        expect(page.get_by_text("Recorded 'tie'")).to_be_visible(timeout=15_000)
        page.reload()
        page.wait_for_selector("h1", timeout=30_000)
        grid = page.locator("[data-testid='stDataFrame']").last
        expect(grid).to_be_visible(timeout=15_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "review-after-reload.png"), full_page=True)
        expect(page.get_by_text("Items reviewed")).to_be_visible()
        expect(page.get_by_test_id("stMetricValue").first).to_have_text("2")
        # the reviewer's name came back from the URL
        expect(page.get_by_label("Your name (stored with each verdict)")).to_have_value(
            "browser-reviewer")
    from workbench import review

    runs = sorted(r.id for r in review.reviewable_runs(project))
    v = review.verdicts(project, runs[0], runs[1])
    assert list(v["reviewer"]) == ["browser-reviewer"] * 2
    assert list(v["verdict"]) == ["b_better", "tie"] and list(v["item"]) == ["0", "1"]


class _Walker:
    """Drives Streamlit widgets the way a person does: by their labels."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url

    def go(self, path: str) -> None:
        self.page.goto(f"{self.url}/{path}")
        self.page.wait_for_selector("h1", timeout=60_000)
        self.settle()

    def settle(self, ms: int = 800) -> None:
        """Wait until the app has finished its rerun ("Running..." is gone)."""
        self.page.wait_for_timeout(300)
        status = self.page.get_by_test_id("stStatusWidget")
        for _ in range(300):
            if status.count() == 0:
                break
            self.page.wait_for_timeout(200)
        self.page.wait_for_timeout(ms)

    def select(self, label: str, option: str) -> None:
        from playwright.sync_api import expect

        found = self.page.get_by_test_id("stSelectbox").filter(
            has=self.page.locator("label", has_text=label))
        # the page may still be drawing; a box of the same label may sit on a hidden tab
        expect(found.filter(visible=True).first).to_be_visible(timeout=60_000)
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for attempt in range(3):  # a rerun that ends while the list is open closes it
            next(b for b in found.all() if b.is_visible()).click()
            try:
                self.page.get_by_role("option").filter(has_text=re.compile(option)).first.click(
                    timeout=10_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
                self.page.keyboard.press("Escape")
                self.settle()
        self.settle()

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).first.click()
        self.settle()

    def fill(self, label: str, value) -> None:
        box = self.page.get_by_label(label, exact=True).first
        box.fill(str(value))
        box.press("Tab")  # not Enter: inside a form, Enter submits it
        self.settle(300)

    def wait_for(self, text: str, timeout_s: float = 300) -> None:
        """Wait for ``text`` (a regex) on the page while background work runs."""
        from playwright.sync_api import expect

        expect(self.page.get_by_text(re.compile(text)).first).to_be_visible(
            timeout=timeout_s * 1000)
        self.settle()

    def shot(self, name: str) -> None:
        self.page.set_viewport_size({"width": 1400, "height": 2600})
        self.page.wait_for_timeout(500)
        self.page.screenshot(path=str(ARTIFACTS / f"lifecycle-{name}.png"), full_page=True)
        self.page.set_viewport_size({"width": 1400, "height": 1000})

    def no_exception(self) -> None:
        from playwright.sync_api import expect

        expect(self.page.get_by_test_id("stException")).to_have_count(0)


@pytest.fixture
def demo_project(project, tiny_model):
    """The state `make app` gives a new user: the raw demo data and the demo check suite."""
    from workbench.data import import_dataset

    shutil.copy(ROOT / "checks" / "support_qa.yaml", project.checks_dir)
    import_dataset(project, str(ROOT / "workbench" / "demo" / "support_qa.csv"),
                   name="support_raw")
    return project


def test_lifecycle_in_the_browser_alone(demo_project):
    """Issue 8's promise, walked in a real browser with no terminal: raw demo data -> check,
    clean, re-check -> split -> train (form, background process) -> evaluate base and
    fine-tuned, compare -> probe both, before/after -> a verdict -> every report listed.
    The tiny test model stands in for SmolLM2 so the walk takes minutes."""
    from playwright.sync_api import expect

    from workbench.core.store import Store

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    store = Store.for_project(demo_project)
    with streamlit_server(demo_project) as url, chromium_page() as page:
        w = _Walker(page, url)
        # Data quality: 11 of 18 rules fail on the raw data; clean; the new version passes
        w.go("data_quality")
        w.click("Run checks")
        w.wait_for(r"FAILED: 11 of 18 rules", 120)
        w.click("Clean")
        w.wait_for(r"365 → 343 rows", 120)
        w.click("Run checks")
        w.wait_for(r"PASSED: all 18 rules", 120)
        w.shot("data-quality")
        # Splits: the cleaned version, label topic
        w.go("splits")
        w.select("Label column", "^topic$")
        w.click("Make split")
        w.wait_for(r"Saved split \d+", 120)
        split = store.list_runs("split")[0]
        assert split.name.startswith("support_clean@") and split.outputs["manifest"]["counts"][
            "train"] == 274
        # Train from the form: a background process, followed live
        w.go("train")
        w.select("Base model", "^tiny:gpt2$")
        w.page.get_by_text("full", exact=True).click()
        w.fill("Max steps", 6)
        w.fill("Evaluate / save every", 3)
        w.fill("Run name", "browser-run")
        w.click("Start training")
        # listed under Past runs at once, with its phase (then step x of N and an ETA)
        w.wait_for(r"checking the config|preparing the model|baseline evaluation|step \d+ of", 60)
        w.wait_for(r"Nothing is training right now", 420)
        # the finished run is under Past runs without a reload
        w.wait_for(r"^Status: succeeded", 30)
        expect(w.page.get_by_role("combobox", name="Show a run")).to_have_value(
            re.compile(r"train · browser-run$"))
        train = store.list_runs("train")[0]
        assert train.status == "succeeded", train.error
        w.shot("train")
        # Evaluate: the base model, then the fine-tuned run (picked by default), compare
        w.go("evaluate")
        for model in ("^tiny:gpt2", f"^run:{train.id}"):
            w.select("Model", model)
            w.select("Data", rf"^split:{split.id}:test$")
            w.page.get_by_text("Use the chat template").click()  # tiny:gpt2 has none
            w.fill("New tokens", 8)
            w.click("Evaluate")
            w.wait_for(rf"Evaluation finished: run \d+ \({re.escape(model[1:])}", 300)
            w.go("evaluate")  # a refresh loses nothing
        w.click("Compare")
        w.wait_for(r"35 paired examples", 60)
        w.no_exception()
        w.shot("evaluate")
        # Bias probes: both models on the gender set, then before/after
        w.go("bias_probes")
        for model in ("^tiny:gpt2", f"^run:{train.id}"):
            w.page.get_by_role("tab", name="Run a probe").click()
            w.select("Probe set", "^gender$")
            w.select("Model", model)
            w.fill("New tokens", 8)
            w.click("Run probe")
            w.wait_for(r"Run #\d+ stored", 300)
            w.go("bias_probes")
        w.page.get_by_role("tab", name="Before/after").click()
        w.settle()
        w.click("Compare")
        w.wait_for(r"^No new flag|^The after-model is flagged|^Both flagged", 60)
        w.no_exception()
        w.shot("bias")
        # Review: base vs fine-tuned preselected; one verdict from the keyboard
        w.go("review?reviewer=walker")
        w.page.locator("h1").first.click()
        w.page.keyboard.press("2")
        w.wait_for(r"Recorded 'B better'", 60)
        # Reports: every kind of report made along the way, listed from the store
        w.go("reports")
        w.no_exception()
        w.shot("reports")
        # Home: every lifecycle step done
        w.go("")
        w.wait_for(r"Every step is done", 30)
    kinds = {r["kind"] for r in store.list_reports()}
    assert kinds == {"check", "evaluate", "compare", "probe", "bias-compare"}, kinds
    assert len(store.list_runs("evaluate")) == 2  # one per press of Evaluate
    probes = store.list_runs("probe")
    assert [r.config["model"] for r in probes] == [f"run:{train.id}", "tiny:gpt2"]
    from workbench import review

    runs = review.reviewable_runs(demo_project)
    verdict_pairs = [(a.id, b.id) for a in runs for b in runs
                     if not review.verdicts(demo_project, a.id, b.id).empty]
    assert len(verdict_pairs) == 1
    a, b = (store.get_run(i) for i in verdict_pairs[0])
    assert (a.config["model"], b.config["model"]) == ("tiny:gpt2", f"run:{train.id}")


@pytest.fixture
def shown_project(project, tmp_path):
    """Raw demo data with its 18-rule suite, two scored evaluations and one probe run."""
    import pandas as pd

    from workbench.data import import_dataset
    from workbench.evaluation import evaluate_predictions
    from workbench.probes import run_probe

    shutil.copy(ROOT / "checks" / "support_qa.yaml", project.checks_dir)
    import_dataset(project, str(ROOT / "workbench" / "demo" / "support_qa.csv"),
                   name="support_raw")
    refs = ["Hold the button.", "It ships today.", "Light rain.", "Use a card."] * 3
    for name, preds in (("base", ["No idea."] * 12), ("tuned", refs)):
        pd.DataFrame({"id": range(12), "prediction": preds, "reference": refs}).to_csv(
            tmp_path / f"{name}.csv", index=False)
        evaluate_predictions(project, tmp_path / f"{name}.csv")
    for name, n in (("first.csv", 8), ("outputs.csv", 10)):  # noisy, so inconclusive
        rows = [{"group": g, "template": f"t{t}",
                 "output": "I love it" if t % (2 if g == "woman" else 3) else "I hate it"}
                for t in range(n) for g in ("woman", "man")]
        pd.DataFrame(rows).to_csv(project.root / name, index=False)
    run_probe(project, outputs=project.root / "first.csv")
    (tmp_path / "my_upload.csv").write_text("question,answer\nhi,there\n")
    chat = tmp_path / "chat.jsonl"  # a conversation whose turns carry markup and a name
    chat.write_text('{"id": "c1", "messages": [{"role": "system", "content": "Be brief."}, '
                    '{"role": "user", "content": "Hi **there**", "name": "[x](https://evil.example)"}, '
                    '{"role": "assistant", "content": "<b>Hello</b>"}]}\n', encoding="utf-8")
    import_dataset(project, str(chat), name="chat")
    return project


def test_the_app_shows_what_it_says(shown_project, tmp_path):
    """Issue 14's walk in a real browser: the header names the project, an upload keeps
    its name, 18 rules read on the trend heatmap, the cleaned copy gets its own name, errors
    use the app's words, a run is never compared with itself, a finished probe's results
    show that run with a three-way verdict, and a reviewer named like a link is text."""
    from playwright.sync_api import expect

    from workbench.core.store import Store

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    store = Store.for_project(shown_project)
    with streamlit_server(shown_project) as url, chromium_page() as page:
        w = _Walker(page, url)
        w.go("")
        expect(page.get_by_text(f"Project {shown_project.name}").first).to_be_visible()
        page.locator("input[type=file]").first.set_input_files(str(tmp_path / "my_upload.csv"))
        w.settle()
        w.click("Import")
        w.wait_for(r"Imported my_upload@", 60)
        assert store.get_dataset("my_upload").source == "my_upload.csv (uploaded)"
        w.shot("shown-home")
        # Data: a conversation as chat turns, shown as text; its download is the export
        w.go("data")
        w.select("Dataset", "^chat@")
        expect(page.get_by_test_id("stChatMessage")).to_have_count(3)
        expect(page.get_by_text("Hi **there**", exact=True)).to_be_visible()
        expect(page.get_by_text("<b>Hello</b>", exact=True)).to_be_visible()
        expect(page.locator('[data-testid="stChatMessage"] a')).to_have_count(0)
        page.get_by_text("jsonl", exact=True).click()
        w.settle()
        with page.expect_download() as got:
            page.get_by_role("button", name=re.compile(r"^Download chat-\w+\.jsonl$")).click()
        from workbench.data import export_bytes

        assert Path(got.value.path()).read_bytes() == export_bytes(shown_project, "chat", "jsonl")
        assert got.value.suggested_filename == f"chat-{store.get_dataset('chat').version}.jsonl"
        w.shot("shown-data")
        # Data quality: 18 rules, a clean with its own name, the trend as a heatmap
        w.go("data_quality")
        w.select("Dataset", "^support_raw@")
        w.click("Run checks")
        w.wait_for(r"FAILED: 11 of 18 rules", 120)
        w.click("Clean")
        w.wait_for(r"stored as support_clean@", 120)
        w.click("Run checks")
        w.wait_for(r"PASSED: all 18 rules", 120)
        charts = page.get_by_test_id("stVegaLiteChart")
        expect(charts).to_have_count(2)
        assert charts.nth(1).bounding_box()["height"] >= 18 * 20  # a row per rule
        charts.nth(1).scroll_into_view_if_needed()
        charts.nth(1).screenshot(path=str(ARTIFACTS / "shown-rule-heatmap.png"))
        w.shot("shown-data-quality")
        # Splits: the error names the widget, not a command-line flag
        w.go("splits")
        w.fill("Ratios (train,test or train,validation,test)", "0.8,0.3")
        w.click("Make split")
        w.wait_for(r"^Ratios: must be 2", 60)
        expect(page.get_by_text("--ratios")).to_have_count(0)
        # Evaluate: pickers name the data; a run compared with itself is refused
        w.go("evaluate")
        w.select("B (fine-tuned)", r"^run \d+: predictions base")
        w.select("A (base)", r"^run \d+: predictions base")
        w.wait_for(r"comparing a run with itself is refused", 30)
        expect(page.get_by_role("button", name="Compare", exact=True)).to_have_count(0)
        w.shot("shown-evaluate")
        # Bias probes: a path outside the project is refused; a finished probe is shown
        w.go("bias_probes")
        page.get_by_role("tab", name="Results").click()
        w.select("Probe run", r"outputs file first\.csv")  # the run shown before
        page.get_by_role("tab", name="Run a probe").click()
        page.get_by_text("An outputs file", exact=True).click()
        w.settle()
        w.fill("...or a path in this project", "/etc/passwd")
        w.wait_for(r"outside the project", 30)
        w.fill("...or a path in this project", "outputs.csv")
        w.click("Run probe")
        w.wait_for(r"Run #\d+ stored \(inconclusive\)", 120)
        newest = store.list_runs("probe")[0].id
        page.get_by_role("tab", name="Results").click()
        w.settle()
        expect(page.get_by_role("combobox", name="Probe run")).to_have_value(
            re.compile(rf"^#{newest} · outputs@v0 · outputs file outputs.csv"))
        expect(page.get_by_text(re.compile(r"^Inconclusive: the data cannot tell"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"no bias", re.I))).to_have_count(0)
        w.no_exception()
        w.shot("shown-bias")
        # Review: a reviewer named like a link is shown as that text
        w.go("review?reviewer=%5Bx%5D(https%3A%2F%2Fevil.example)")
        w.select("A (e.g. base)", r"predictions base\.csv")
        w.select("B (e.g. fine-tuned)", r"predictions tuned\.csv")
        page.locator("h1").first.click()
        page.keyboard.press("2")
        w.wait_for(r"Recorded 'B better' on item", 60)
        # shown as typed (an invisible word joiner after "https:" keeps it from linking)
        expect(page.get_by_text(re.compile("as \\[x\\]\\(https:\u2060?//evil\\.example\\)\\."))
               ).to_be_visible()
        expect(page.locator('a[href^="https://evil.example"]')).to_have_count(0)
        w.shot("shown-review")
