"""The answering chain, as a LangChain runnable: question -> retriever -> reader -> answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableLambda

from .computation import Calculator, plan
from .conversation import standalone_question
from .intents import Intent, Route, route
from .models import Answer, Citation, Filters, Passage
from .questions import analyse
from .reading import Reader
from .reading.listing import combine, key_figures_answer, not_a_figure_answer, not_french_answer
from .retrieval import HybridRetriever, passage_from_document

if TYPE_CHECKING:
    from .generation import Generator

PageOf = Callable[[str, int], int | None]
Newest = Callable[[Filters | None], str | None]

#: Passages read from one bulletin for its key figures (a bulletin has a few dozen chunks).
KEY_FIGURE_PASSAGES = 40


def build_chain(
    retriever: HybridRetriever,
    reader: Reader,
    page_of: PageOf | None = None,
    newest: Newest | None = None,
    generator: Generator | None = None,
) -> Runnable[dict[str, Any], Answer]:
    """A runnable taking ``{"question", "history", "filters", "k"}`` and returning an :class:`Answer`.

    ``page_of(bulletin_id, offset)`` gives the page of a quote in a paged bulletin (PDF); ``newest(filters)``
    the id of the most recent bulletin the filters allow (« chiffres clés du dernier bulletin »). With a
    ``generator`` (an LLM is configured), a last ``generate`` step rewrites the answer under the figure guard.
    """
    if generator is None:
        prepare, retrieve, read, cite_pages = _steps(retriever, reader, page_of, newest)
        return (
            RunnableLambda(prepare, name="standalone_question")
            | RunnableLambda(retrieve, name="hybrid_retriever")
            | RunnableLambda(read, name="figure_reader")
            | RunnableLambda(cite_pages, name="cite_pages")
        )

    def generate(state: dict[str, Any]) -> Answer:
        return generator.generate(state["answer"], state["passages"])

    return build_context_chain(retriever, reader, page_of, newest) | RunnableLambda(generate, name="generate")


def build_context_chain(
    retriever: HybridRetriever, reader: Reader, page_of: PageOf | None = None, newest: Newest | None = None
) -> Runnable[dict[str, Any], dict[str, Any]]:
    """The extractive steps keeping their state: ``answer`` (the reader's, with pages) beside the retrieved
    ``passages``, which the generation step hands to the LLM as extra context."""
    prepare, retrieve, read, cite_pages = _steps(retriever, reader, page_of, newest)
    return (
        RunnableLambda(prepare, name="standalone_question")
        | RunnableLambda(retrieve, name="hybrid_retriever")
        | RunnableLambda(lambda state: {**state, "answer": read(state)}, name="figure_reader")
        | RunnableLambda(lambda state: {**state, "answer": cite_pages(state["answer"])}, name="cite_pages")
    )


def _steps(
    retriever: HybridRetriever, reader: Reader, page_of: PageOf | None, newest: Newest | None
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The extractive steps as plain functions: prepare, retrieve, read, cite_pages."""

    def prepare(inp: dict[str, Any]) -> dict[str, Any]:
        standalone = standalone_question(inp["question"], inp.get("history") or [])
        return {**inp, "standalone": standalone, "spec": analyse(standalone), "route": route(standalone)}

    def retrieve(state: dict[str, Any]) -> dict[str, Any]:
        filters: Filters | None = state.get("filters")
        docs = retriever.invoke(state["standalone"], filters=filters, k=state.get("k"))
        return {**state, "passages": [passage_from_document(d) for d in docs]}

    def one_bulletin(state: dict[str, Any], bulletin_id: str) -> list[Passage]:
        filters: Filters = dataclasses.replace(state.get("filters") or Filters(), sources=(bulletin_id,))
        return retriever.retrieve(state["standalone"], filters, KEY_FIGURE_PASSAGES)

    def key_figures(state: dict[str, Any], how: Route) -> Answer:
        """The newest bulletin's (« du dernier bulletin »), else the best-matching one's."""
        passages: list[Passage] = state["passages"]
        bulletin_id = newest(state.get("filters")) if how.latest and newest is not None else None
        if bulletin_id is None and passages:
            bulletin_id = passages[0].bulletin_id
        ordered = one_bulletin(state, bulletin_id) if bulletin_id else []
        if not how.topic:
            ordered.sort(key=lambda p: p.start)
        return key_figures_answer(state["question"], state["spec"], ordered, by_topic=how.topic)

    def several(state: dict[str, Any], parts: tuple[str, ...]) -> Answer | None:
        filters, k = state.get("filters"), state.get("k")
        read_parts = [(q, reader.answer(analyse(q), retriever.retrieve(q, filters, k), question=q)) for q in parts]
        return combine(state["question"], read_parts)

    def read(state: dict[str, Any]) -> Answer:
        how: Route = state["route"]
        if how.intent is Intent.NOT_FRENCH:
            return not_french_answer(state["question"])
        if how.intent is Intent.NOT_A_FIGURE:
            return not_a_figure_answer(state["question"], state["spec"], state["passages"])
        if how.intent is Intent.KEY_FIGURES:
            return key_figures(state, how).model_copy(update={"standalone_question": state["standalone"]})
        if how.intent is Intent.FIGURES:
            answer = several(state, how.parts)
            if answer is not None:
                return answer.model_copy(update={"standalone_question": state["standalone"]})
        computation = plan(state["standalone"])
        if computation is not None:
            filters, k = state.get("filters"), state.get("k")
            calculator = Calculator(reader, lambda q: retriever.retrieve(q, filters, k))
            answer = calculator.answer(computation, state["question"], state["spec"])
        else:
            answer = reader.answer(state["spec"], state["passages"], question=state["question"])
        return answer.model_copy(update={"standalone_question": state["standalone"]})

    def paged(citations: list[Citation]) -> list[Citation]:
        assert page_of is not None
        return [c.model_copy(update={"page": page_of(c.source, c.start)}) for c in citations]

    def cite_pages(answer: Answer) -> Answer:
        if page_of is None:
            return answer
        return answer.model_copy(
            update={"citations": paged(answer.citations), "suggestions": paged(answer.suggestions)}
        )

    return prepare, retrieve, read, cite_pages
