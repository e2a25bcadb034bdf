"""The chat with an LLM configured, in Debian's Chromium: its text streams in a box marked as being checked,
then the guarded answer replaces it (a kept text, or the reader's answer when a figure fails the guard).

The LLM is the scripted OpenAI-compatible server of ``conftest_llm`` streaming slowly, so what the browser
sees is deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest_llm import Script, ScriptedLLM
from .test_ui_browser import (
    ANSWER_TIMEOUT_MS,
    FIRST_ANSWER_TIMEOUT_MS,
    Server,
    browser,  # noqa: F401 (the module-scoped Chromium fixture)
    streamlit_chat,
    sync_api,
)

pytestmark = pytest.mark.browser
pytest_plugins = ["tests.conftest_llm"]

QUESTION = "Combien d'assurés ont activé Mon Espace Santé ?"
RIGHT = "Selon le bilan publié le 29 janvier 2026, 24 millions d’assurés ont activé Mon Espace Santé [1]."
SWAPPED = "Selon le bilan publié le 29 janvier 2026, 25 millions d’assurés ont activé Mon Espace Santé [1]."


@pytest.fixture(scope="module")
def llm_chat(tmp_path_factory: pytest.TempPathFactory, scripted_llm: ScriptedLLM) -> Iterator[tuple[Server, str]]:
    """The chat with ASSISTANT_LLM_* pointing at the scripted server; (server, model name)."""
    model = scripted_llm.add(Script(RIGHT, chunk_delay_s=0.2))
    root = tmp_path_factory.mktemp("ui-llm")
    with streamlit_chat(root, ASSISTANT_LLM_URL=scripted_llm.base_url, ASSISTANT_LLM_MODEL=model) as srv:
        yield srv, model


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
