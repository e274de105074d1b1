"""End to end in a real headless Chromium (Debian's package) driven by Playwright against
`streamlit run` on 127.0.0.1: open the app, review, record a verdict, reload, see it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from test_review import make_run

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
PAGES = ["", "data", "data_quality", "splits", "train", "evaluate", "bias_probes", "review",
         "reports"]

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(project):
    base = [{"id": str(i), "prompt": f"How do I do thing {i}?", "prediction": f"base answer {i}",
             "reference": f"answer {i}"} for i in range(3)]
    tuned = [{**r, "prediction": f"tuned answer {i}"} for i, r in enumerate(base)]
    make_run(project, "evaluate", base, "base")
    make_run(project, "evaluate", tuned, "tuned")
    port = _free_port()
    env = {**os.environ, "WORKBENCH_PROJECT": str(project.root)}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("streamlit")), "run", str(ROOT / "app.py"),
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
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_review_verdict_survives_reload(server, project):
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: run `make test` (it installs it)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
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
        browser.close()
    from workbench import review

    runs = sorted(r.id for r in review.reviewable_runs(project))
    v = review.verdicts(project, runs[0], runs[1])
    assert list(v["reviewer"]) == ["browser-reviewer"] * 2
    assert list(v["verdict"]) == ["b_better", "tie"] and list(v["item"]) == ["0", "1"]
