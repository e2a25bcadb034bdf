"""Screenshots of the staff chat in Debian's Chromium at 1366×900, for docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts ``streamlit run ui/app.py`` on a free loopback port over a fresh data dir and the bundled corpus
(the first start indexes it: about a minute), then captures what a staff member sees without scrolling:
the start page, a first answer, a computation, an abstention, the « Bulletins » page, and the conversation
list after a reload. Prints, for each answer, whether its figure card (or abstention banner) is inside the
viewport. Never downloads a browser.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1366, "height": 900}
TIMEOUT_MS = 600_000

ANSWER = "Combien d'assurés ont activé Mon Espace Santé ?"
COMPUTATION = (
    "De combien le nombre d'assurés ayant activé Mon Espace Santé a-t-il augmenté entre janvier 2025 et janvier 2026 ?"
)
ABSTENTION = "Combien de lits de réanimation compte la Corse ?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]


def ask(page: Any, question: str, *, abstains: bool = False) -> Any:
    """Type ``question``, wait for its reply to be complete; returns the top element of the new reply."""
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    reply = page.get_by_test_id("stChatMessage").nth(before + 1)
    reply.get_by_text("Copier la réponse et ses sources").wait_for(state="visible", timeout=TIMEOUT_MS)
    page.wait_for_timeout(2000)  # the page settles (the reply's last widgets, the scroll)
    return reply.get_by_test_id("stAlert" if abstains else "stMetricValue").first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "ASSISTANT_DATA_DIR": data, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        env.pop("ASSISTANT_ADMIN_KEY", None)
        cmd = [sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1"]  # fmt: skip
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport=VIEWPORT, locale="fr-FR", timezone_id="Europe/Paris")
                page.goto(url)
                page.locator(".st-key-start_page").get_by_test_id("stButton").first.wait_for(timeout=TIMEOUT_MS)
                page.wait_for_timeout(1000)
                page.screenshot(path=str(args.out / "1-start-page.png"))
                for name, question, abstains in [
                    ("2-first-answer", ANSWER, False),
                    ("3-computation", COMPUTATION, False),
                    ("4-abstention", ABSTENTION, True),
                ]:
                    top = ask(page, question, abstains=abstains)
                    print(f"{name}: top of the reply in the viewport: {in_viewport(page, top)}")
                    page.screenshot(path=str(args.out / f"{name}.png"))
                page.reload()
                page.get_by_test_id("stChatMessage").nth(5).wait_for(timeout=TIMEOUT_MS)
                page.wait_for_timeout(2000)
                page.screenshot(path=str(args.out / "6-conversations-after-reload.png"))
                page.goto(f"{url}/Bulletins")
                page.get_by_label("Rechercher dans les bulletins").wait_for(timeout=TIMEOUT_MS)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(args.out / "5-bulletins-page.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"screenshots in {args.out}")


if __name__ == "__main__":
    main()
