"""The answering chain, as a LangChain runnable: question -> retriever -> reader -> answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from .computation import Calculator, plan
from .conversation import standalone_question
from .models import Answer, Citation, Filters
from .questions import analyse
from .reading import Reader
from .retrieval import HybridRetriever, passage_from_document

PageOf = Callable[[str, int], int | None]


def build_chain(
    retriever: HybridRetriever, reader: Reader, page_of: PageOf | None = None
) -> Runnable[dict[str, Any], Answer]:
    """A runnable taking ``{"question", "history", "filters", "k"}`` and returning an :class:`Answer`.

    ``page_of(bulletin_id, offset)`` gives the page of a quote in a paged bulletin (PDF).
    """

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

    return (
        RunnableLambda(prepare, name="standalone_question")
        | RunnableLambda(retrieve, name="hybrid_retriever")
        | RunnableLambda(read, name="figure_reader")
        | RunnableLambda(cite_pages, name="cite_pages")
    )
