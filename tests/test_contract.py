"""The answer contract: published JSON Schema, and every answer valid against it."""

from __future__ import annotations

import json

import jsonschema
import pytest

from assistant import Assistant
from assistant.models import answer_json_schema

from .conftest import ROOT

SCHEMA_FILE = ROOT / "docs" / "answer.schema.json"


def test_published_schema_is_up_to_date() -> None:
    published = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert published == answer_json_schema(), "run: assistant schema > docs/answer.schema.json"


@pytest.mark.parametrize(
    "question",
    [
        "Combien d'assurés ont activé Mon Espace Santé ?",
        "Quelle part des assurés a reçu au moins un document en 2025 ?",
        "Combien de kinésithérapeutes alimentent le DMP ?",
    ],
)
def test_answers_validate_against_the_schema(corpus_assistant: Assistant, question: str) -> None:
    answer = corpus_assistant.ask(question)
    data = answer.to_dict()
    jsonschema.validate(data, answer_json_schema())
    assert json.loads(json.dumps(data)) == data
    for c in answer.citations + answer.suggestions:
        assert corpus_assistant.bulletin(c.source).text[c.start : c.end] == c.quote
    for f in answer.figures:
        assert any(f.text in c.quote for c in answer.citations if c.id == f.citation)
    if answer.abstained:
        assert answer.answer == "Je ne trouve pas ce chiffre dans les bulletins." and not answer.figures
    else:
        assert "[1]" in answer.answer and 0.0 <= answer.confidence <= 1.0


def test_the_headline_question(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("Combien d'assurés ont activé Mon Espace Santé ?")
    assert not answer.abstained
    fig = answer.figures[0]
    assert (fig.text, fig.value, fig.unit, fig.kind) == ("24 millions", 24_000_000, "assurés", "count")
    c = answer.citations[0]
    assert c.source == "corpus/bulletin-mon-espace-sante-2026-01.txt" and c.date == "2026-01-29"
    assert "24 millions d’assurés ont activé" in c.quote
    assert set(answer.timings_ms) >= {"total_ms", "embed_ms", "dense_ms", "lexical_ms"}


def test_filters_restrict_sources_and_dates(corpus_assistant: Assistant) -> None:
    from datetime import date

    from assistant.models import Filters

    q = "Combien d'assurés ont activé Mon Espace Santé ?"
    old = corpus_assistant.ask(q, filters=Filters(date_to=date(2025, 12, 31)))
    assert old.figures and old.figures[0].value == 17_000_000
    assert all(c.date <= "2025-12-31" for c in old.citations)
    only = corpus_assistant.ask(q, filters=Filters(sources=("corpus/bulletin-urgences-2025-06-12.txt",)))
    assert only.abstained
    assert all(s.source == "corpus/bulletin-urgences-2025-06-12.txt" for s in only.suggestions)
