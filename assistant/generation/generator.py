"""The generation step: after the reader, an LLM rewrites the answer; the guard decides what is returned.

Every outcome is an :class:`~assistant.models.Answer`: the LLM's text with ``generation.used = true``
when :func:`~assistant.generation.guard.check` passes, else the reader's answer unchanged with
``generation.used = false`` and the reason. LLM failures (down, slow, HTTP errors, garbage) are ordinary
outcomes: logged, never raised. There is one call per question and no retry, so a second draw can never
slip a figure through.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..models import Answer, Citation, Generation, Passage
from ..settings import Settings
from .guard import MARKER, check
from .prompt import build_messages

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel

log = logging.getLogger(__name__)

PageOf = Callable[[str, int], int | None]

#: A blank line ends the answer: the prompt asks for one short paragraph, and small models ramble on.
STOP = ["\n\n"]

#: Retrieved passages offered besides the reader's citations, for context (« que dit le bulletin sur … »).
EXTRA_PASSAGES = 2


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of :meth:`Assistant.ask_stream`: a piece of unchecked text, or the final checked answer.

    ``delta`` events carry text as the LLM writes it; the single ``final`` event carries the answer to
    show in their place (the guard's verdict: the LLM's text, or the reader's answer if it failed).
    """

    kind: Literal["delta", "final"]
    text: str = ""
    answer: Answer | None = None


class Generator:
    """Calls the configured chat model once per answer and guards its text."""

    def __init__(self, settings: Settings, *, page_of: PageOf | None = None, model: BaseChatModel | None = None):
        self.settings = settings
        self.page_of = page_of
        self._model = model
        self._lock = threading.Lock()

    @property
    def model(self) -> BaseChatModel:
        """The LangChain chat model, built (and its client package imported) on first use."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from .llm import build_chat_model

                    self._model = build_chat_model(self.settings)
        return self._model

    @property
    def model_name(self) -> str | None:
        return self.settings.llm_model

    # -- the step ----------------------------------------------------------------
    def generate(self, answer: Answer, passages: Sequence[Passage] = ()) -> Answer:
        """The guarded answer, from one non-streaming call."""
        final = None
        for event in self.run(answer, passages, stream=False):
            final = event.answer
        assert final is not None
        return final

    def run(self, answer: Answer, passages: Sequence[Passage] = (), *, stream: bool = True) -> Iterator[StreamEvent]:
        """``delta`` events while the model writes (``stream``), then one ``final`` event."""
        t0 = time.perf_counter()
        if answer.abstained:
            # The reader found no figure: nothing for the LLM to rephrase, and nothing it may add.
            yield self._final(answer, t0, reason="abstention: le lecteur n'a pas trouvé de chiffre", called=False)
            return
        if answer.kind != "figure":
            # Several figures or a bulletin's list are already one cited clause each: a rewrite adds no fluency
            # the guard could check against a single main figure.
            yield self._final(answer, t0, reason=f"kind: réponse « {answer.kind} » gardée telle quelle", called=False)
            return
        extracts = self.extracts(answer, passages)
        messages = build_messages(answer, extracts)
        parts: list[str] = []
        finish: str | None = None
        try:
            if stream:
                for chunk in self.model.stream(messages, stop=STOP):
                    if time.perf_counter() - t0 > self.settings.llm_timeout_s:
                        raise TimeoutError("overall deadline")
                    delta = _text(chunk.content)
                    finish = _finish(chunk.response_metadata) or finish
                    if delta:
                        parts.append(delta)
                        yield StreamEvent("delta", text=delta)
            else:
                message = self.model.invoke(messages, stop=STOP)
                parts.append(_text(message.content))
                finish = _finish(message.response_metadata)
        except Exception as exc:  # any failure of the LLM is an ordinary outcome: the extractive answer
            reason = describe_error(exc, self.settings)
            log.warning("LLM call failed, extractive answer kept (%s)", reason)
            yield self._final(answer, t0, reason=reason)
            return
        text = "".join(parts).strip()
        if finish == "length":
            # Cut by max_tokens: keep the complete sentences (removing text can add no figure; the guard
            # still wants the main figure in what is left).
            text = complete_sentences(text)
        if finish == "length" and not text:
            reason = f"truncated: texte coupé à {self.settings.llm_max_tokens} jetons avant la fin d'une phrase"
        else:
            verdict = check(text, answer, extracts)
            if verdict.ok:
                yield StreamEvent("final", answer=self._accepted(answer, text, extracts, verdict.cited, t0))
                return
            reason = verdict.reason or "rejected"
        log.info("LLM text rejected, extractive answer kept (%s)", reason)
        yield self._final(answer, t0, reason=reason)

    # -- pieces ------------------------------------------------------------------
    def extracts(self, answer: Answer, passages: Sequence[Passage]) -> list[Citation]:
        """The numbered extracts shown to the LLM: the reader's citations, then a few more retrieved passages."""
        out = list(answer.citations)
        seen = {c.chunk_id for c in out}
        for p in passages:
            if len(out) >= len(answer.citations) + EXTRA_PASSAGES:
                break
            if p.chunk_id in seen:
                continue
            seen.add(p.chunk_id)
            page = self.page_of(p.bulletin_id, p.start) if self.page_of else None
            out.append(
                Citation(
                    id=len(out) + 1,
                    source=p.bulletin_id,
                    title=p.title,
                    date=p.date.isoformat() if p.date else None,
                    chunk_id=p.chunk_id,
                    quote=p.text,
                    start=p.start,
                    end=p.end,
                    page=page,
                )
            )
        return out

    def _accepted(
        self, answer: Answer, text: str, extracts: Sequence[Citation], cited: Sequence[int], t0: float
    ) -> Answer:
        """The answer with the LLM's text; extra passages it cites become citations, numbered after the reader's."""
        citations = list(answer.citations)
        renumber = {c.id: c.id for c in citations}
        for c in extracts[len(citations) :]:
            if c.id in cited:
                renumber[c.id] = len(citations) + 1
                citations.append(c.model_copy(update={"id": renumber[c.id]}))
        text = MARKER.sub(lambda m: f"[{renumber.get(int(m.group(1)), int(m.group(1)))}]", text)
        generation = Generation(used=True, model=self.model_name, latency_ms=_ms(t0))
        return answer.model_copy(update={"answer": text, "citations": citations, "generation": generation})

    def _final(self, answer: Answer, t0: float, *, reason: str, called: bool = True) -> StreamEvent:
        generation = Generation(
            used=False, model=self.model_name if called else None, reason=reason, latency_ms=_ms(t0) if called else None
        )
        return StreamEvent("final", answer=answer.model_copy(update={"generation": generation}))


def describe_error(exc: BaseException, settings: Settings) -> str:
    """``"<rule>: <detail>"`` for a failed call, without the API key (never in a message or a log)."""
    names = [cls.__name__ for cls in type(exc).__mro__]
    status = getattr(exc, "status_code", None)
    if any("Timeout" in n for n in names):
        return f"llm_timeout: pas de réponse complète en {settings.llm_timeout_s:g} s"
    if isinstance(status, int):
        return f"llm_http_error: HTTP {status}"
    if any("Connect" in n for n in names):
        return f"llm_unreachable: {settings.llm_url or 'Ollama'} ne répond pas"
    detail = " ".join(str(exc).split())[:160]
    if settings.llm_api_key:
        detail = detail.replace(settings.llm_api_key, "***")
    return f"llm_error: {type(exc).__name__}: {detail}"


def complete_sentences(text: str) -> str:
    """``text`` up to its last sentence end (« . », « ! », « ? », « … », with the [n] markers after it)."""
    ends = list(re.finditer(r"[.!?…](?:\s*\[\d{1,3}\])*(?=\s|$)", text))
    return text[: ends[-1].end()].strip() if ends else ""


def _text(content: Any) -> str:
    """A message's text (content may be a list of typed parts with some servers)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p if isinstance(p, str) else str(p.get("text", "")) for p in content if isinstance(p, str | dict)]
        return "".join(parts)
    return ""


def _finish(metadata: dict[str, Any]) -> str | None:
    reason = metadata.get("finish_reason") or metadata.get("done_reason")
    return str(reason) if reason else None


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)
