"""The answering chain, as a LangChain runnable: question -> retriever -> reader -> answer."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from .computation import Calculator, plan
from .conversation import standalone_question
from .models import Answer, Filters
from .questions import analyse
from .reading import Reader
from .retrieval import HybridRetriever, passage_from_document


def build_chain(retriever: HybridRetriever, reader: Reader) -> Runnable[dict[str, Any], Answer]:
    """A runnable taking ``{"question", "history", "filters", "k"}`` and returning an :class:`Answer`."""

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

    return (
        RunnableLambda(prepare, name="standalone_question")
        | RunnableLambda(retrieve, name="hybrid_retriever")
        | RunnableLambda(read, name="figure_reader")
    )
