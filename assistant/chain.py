"""The answering chain, as a LangChain runnable: question -> retriever -> reader -> answer [-> LLM + guard]."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableLambda

from .computation import Calculator, plan
from .conversation import standalone_question
from .models import Answer, Citation, Filters
from .questions import analyse
from .reading import Reader
from .retrieval import HybridRetriever, passage_from_document

if TYPE_CHECKING:
    from .generation import Generator

PageOf = Callable[[str, int], int | None]


def build_chain(
    retriever: HybridRetriever, reader: Reader, page_of: PageOf | None = None, generator: Generator | None = None
) -> Runnable[dict[str, Any], Answer]:
    """A runnable taking ``{"question", "history", "filters", "k"}`` and returning an :class:`Answer`.

    ``page_of(bulletin_id, offset)`` gives the page of a quote in a paged bulletin (PDF). With a
    ``generator`` (an LLM is configured), a last ``generate`` step rewrites the answer under the figure guard.
    """
    if generator is None:
        prepare, retrieve, read, cite_pages = _steps(retriever, reader, page_of)
        return (
            RunnableLambda(prepare, name="standalone_question")
            | RunnableLambda(retrieve, name="hybrid_retriever")
            | RunnableLambda(read, name="figure_reader")
            | RunnableLambda(cite_pages, name="cite_pages")
        )

    def generate(state: dict[str, Any]) -> Answer:
        return generator.generate(state["answer"], state["passages"])

    return build_context_chain(retriever, reader, page_of) | RunnableLambda(generate, name="generate")


def build_context_chain(
    retriever: HybridRetriever, reader: Reader, page_of: PageOf | None = None
) -> Runnable[dict[str, Any], dict[str, Any]]:
    """The extractive steps keeping their state: ``answer`` (the reader's, with pages) beside the retrieved
    ``passages``, which the generation step hands to the LLM as extra context."""
    prepare, retrieve, read, cite_pages = _steps(retriever, reader, page_of)
    return (
        RunnableLambda(prepare, name="standalone_question")
        | RunnableLambda(retrieve, name="hybrid_retriever")
        | RunnableLambda(lambda state: {**state, "answer": read(state)}, name="figure_reader")
        | RunnableLambda(lambda state: {**state, "answer": cite_pages(state["answer"])}, name="cite_pages")
    )


def _steps(
    retriever: HybridRetriever, reader: Reader, page_of: PageOf | None
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """The extractive steps as plain functions: prepare, retrieve, read, cite_pages."""

    def prepare(inp: dict[str, Any]) -> dict[str, Any]:
        standalone = standalone_question(inp["question"], inp.get("history") or [])
        return {**inp, "standalone": standalone, "spec": analyse(standalone)}

    def retrieve(state: dict[str, Any]) -> dict[str, Any]:
        filters: Filters | None = state.get("filters")
        docs = retriever.invoke(state["standalone"], filters=filters, k=state.get("k"))
        return {**state, "passages": [passage_from_document(d) for d in docs]}

    def read(state: dict[str, Any]) -> Answer:
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
