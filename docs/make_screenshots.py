"""Refresh the README's screenshots: serve the app on 127.0.0.1 and photograph each page
in Debian's headless Chromium (Playwright drives it; no browser is downloaded).

    .venv/bin/python docs/make_screenshots.py [--project DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
PAGES = {"home": "", "data_quality": "data_quality", "splits": "splits", "train": "train",
         "evaluate": "evaluate", "bias_probes": "bias_probes", "review": "review",
         "reports": "reports"}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default=str(ROOT))
    ap.add_argument("--width", type=int, default=1280)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "WORKBENCH_PROJECT": args.project}
    proc = subprocess.Popen([str(Path(sys.executable).with_name("streamlit")), "run",
                             str(ROOT / "app.py"), "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"),
                                         args=["--no-sandbox", "--disable-gpu",
                                               "--disable-background-networking"])
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            for name, path in PAGES.items():
                page.goto(f"{url}/{path}")
                page.wait_for_selector("h1", timeout=60_000)
                page.wait_for_timeout(4000)
                page.screenshot(path=str(OUT / f"{name}.png"))
                print("saved", OUT / f"{name}.png")
            browser.close()
    finally:
        proc.terminate()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
