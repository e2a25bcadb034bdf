"""Optional LLM generation: a fluent answer written from the reader's, kept only if every figure checks out.

Off unless ``ASSISTANT_LLM_URL`` / ``ASSISTANT_LLM_PROVIDER=ollama`` is set (docs/generation.md). Nothing
here imports an LLM client at module load: :func:`~assistant.generation.llm.build_chat_model` does, lazily.
"""

from __future__ import annotations

from .generator import Generator, StreamEvent
from .guard import Verdict, check

__all__ = ["Generator", "StreamEvent", "Verdict", "check"]
