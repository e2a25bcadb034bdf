"""The chat model, built from settings through LangChain's own integrations (imported only when used)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel


def build_chat_model(settings: Settings) -> BaseChatModel:
    """``ChatOpenAI`` (any OpenAI-compatible server) or ``ChatOllama``: deterministic, no retries.

    No retry: a failed call falls back to the extractive answer at once, rather than making the user
    wait several timeouts. Temperature 0: the same question gives the same text (and the same verdict).
    """
    if not settings.llm_enabled or not settings.llm_model:
        raise ConfigError("Aucun LLM configuré.", hint="Définissez ASSISTANT_LLM_URL et ASSISTANT_LLM_MODEL.")
    if settings.llm_kind == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=settings.llm_model,
            base_url=settings.llm_url or None,
            temperature=0.0,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout_s},
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_url,
        # Local servers (llama.cpp, vLLM, Ollama's /v1) ignore the key but the client insists on one.
        api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=0,
        temperature=0.0,
        max_tokens=settings.llm_max_tokens,  # type: ignore[call-arg]
    )
