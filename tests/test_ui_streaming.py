"""The chat with an LLM configured, in Debian's Chromium: its text streams in a box marked as being checked,
then the guarded answer replaces it (a kept text, or the reader's answer when a figure fails the guard).

The LLM is the scripted OpenAI-compatible server of ``conftest_llm`` streaming slowly, so what the browser
sees is deterministic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest_llm import Script, ScriptedLLM
from .test_ui_browser import (
    ANSWER_TIMEOUT_MS,
    CORPUS,
    FIRST_ANSWER_TIMEOUT_MS,
    ROOT,
    Server,
    _free_port,
    _wait_http,
    browser,  # noqa: F401 (the module-scoped Chromium fixture)
    sync_api,
)

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.conftest_llm"]

QUESTION = "Combien d'assurés ont activé Mon Espace Santé ?"
RIGHT = "Selon le bilan publié le 29 janvier 2026, 24 millions d’assurés ont activé Mon Espace Santé [1]."
SWAPPED = "Selon le bilan publié le 29 janvier 2026, 25 millions d’assurés ont activé Mon Espace Santé [1]."


@pytest.fixture(scope="module")
def llm_chat(tmp_path_factory: pytest.TempPathFactory, scripted_llm: ScriptedLLM) -> Iterator[tuple[Server, str]]:
    """``streamlit run ui/app.py`` with ASSISTANT_LLM_* pointing at the scripted server; (server, model name)."""
    root = tmp_path_factory.mktemp("ui-llm")
    corpus = root / "src" / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    model = scripted_llm.add(Script(RIGHT, chunk_delay_s=0.2))
    port = _free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(root / "data"),
        "ASSISTANT_CORPUS_DIR": str(corpus),
        "ASSISTANT_LLM_URL": scripted_llm.base_url,
        "ASSISTANT_LLM_MODEL": model,
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    cmd = [sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1"]  # fmt: skip
    log = root / "streamlit.log"
    with log.open("wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(url, proc, log)
        yield Server(url, port, started, log, {}), model
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _ask(page: Any, question: str) -> Any:
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)
    before = page.get_by_test_id("stChatMessage").count()
    box.fill(question)
    box.press("Enter")
    return page.get_by_test_id("stChatMessage").nth(before + 1)


def test_llm_text_streams_then_the_checked_answer_replaces_it(
    browser: Any,  # noqa: F811
    llm_chat: tuple[Server, str],
    scripted_llm: ScriptedLLM,
) -> None:
    server, model = llm_chat
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(server.url, wait_until="domcontentloaded")
        reply = _ask(page, QUESTION)
        live = page.locator(".st-key-llm_live")
        live.wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)  # model load + ingest, then streaming
        first = live.inner_text()
        assert "en cours de vérification" in first
        page.wait_for_timeout(600)
        assert live.count() == 0 or len(live.inner_text()) > len(first)  # the text grows as it is written
        # The final render: the box is gone, the kept text is the answer, said to be checked.
        reply.get_by_text("Copier la réponse et ses sources").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
        sync_api.expect(live).to_have_count(0)
        body = reply.inner_text()
        assert "24 millions" in body and "Mon Espace Santé [1]" in body
        assert f"Rédigé par le modèle {model}" in body

        # A figure the source does not hold streams too, but never stays on screen.
        scripted_llm.scripts[model] = Script(SWAPPED, chunk_delay_s=0.2)
        reply = _ask(page, "Et au total, combien d'assurés ont activé Mon Espace Santé ?")
        live.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
        reply.get_by_text("Copier la réponse et ses sources").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
        sync_api.expect(live).to_have_count(0)
        body = page.inner_text("body")
        assert "25 millions" not in body
        assert "Texte du modèle écarté (un chiffre absent de sa source)" in reply.inner_text()
        assert page.get_by_test_id("stException").count() == 0
    finally:
        context.close()
