"""Replies that are not one figure: several figures, a bulletin's key figures, non-figure and non-French questions."""

from __future__ import annotations

import json
from datetime import date

import pytest

from assistant import Assistant
from assistant.intents import Intent, route, split_counts
from assistant.language import looks_english
from assistant.models import Filters

from .conftest import ROOT, load_gold

DEATHS = "Combien de décès et d'hospitalisations l'épidémie de grippe a-t-elle causés ?"


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        (DEATHS, Intent.FIGURES),
        ("Quels sont les chiffres clés du dernier bulletin ?", Intent.KEY_FIGURES),
        ("Que dit le bulletin sur la télésanté ?", Intent.KEY_FIGURES),
        ("Qu'est-ce que Mon Espace Santé ?", Intent.NOT_A_FIGURE),
        ("Qui peut activer son profil Mon Espace Santé ?", Intent.NOT_A_FIGURE),
        ("How many people activated Mon Espace Santé?", Intent.NOT_FRENCH),
        ("What is the vaccination rate of nurses?", Intent.NOT_FRENCH),
        ("Combien d'assurés ont activé Mon Espace Santé ?", Intent.FIGURE),
        ("Combien de temps et d'argent ?", Intent.FIGURE),  # units, not two counted things
        ("Qu'est-ce qui a progressé de 58 % en un an ?", Intent.FIGURE),  # names a figure: the reader's
        ("Quand le test a-t-il été lancé ?", Intent.FIGURE),
        ("Covid ?", Intent.FIGURE),  # too short to call it English
    ],
)
def test_route(question: str, intent: Intent) -> None:
    assert route(question).intent is intent


def test_key_figures_route_says_latest_and_topic() -> None:
    latest = route("Quels sont les chiffres clés du dernier bulletin ?")
    assert latest.latest and not latest.topic
    topic = route("Que dit le bulletin sur la télésanté ?")
    assert topic.topic and not topic.latest


def test_split_counts_keeps_the_rest_of_the_question() -> None:
    assert split_counts(DEATHS) == (
        "Combien de décès l'épidémie de grippe a-t-elle causés ?",
        "Combien d'hospitalisations l'épidémie de grippe a-t-elle causés ?",
    )
    assert split_counts("Combien de médecins et de patients ?") == ("Combien de médecins ?", "Combien de patients ?")
    assert split_counts("Combien d'assurés ont activé Mon Espace Santé ?") == ()


def test_english_detection_leaves_french_alone() -> None:
    assert looks_english("How many teleconsultations were reimbursed in 2025?")
    assert not looks_english("Combien de téléconsultations ont été remboursées en 2025 ?")
    assert not looks_english("Quel est le taux de vaccination en région Grand Est ?")


def test_every_gold_and_external_question_routes_as_before() -> None:
    """Measured, not assumed: the routes change nothing for the gold and PIAF questions but two PIAF questions
    (« Qui gère le stade … ? », « Qu'est ce qui est très semblable à … ? ») that the reader got wrong anyway,
    and one gold question whose two nouns are one table row (« hôpitaux et cliniques »), which ``combine``
    hands back to the reader."""
    piaf = ROOT.parent / "shared" / "piaf-dev" / "gold.jsonl"
    questions = [g["question"] for g in load_gold()]
    if piaf.exists():
        questions += [json.loads(line)["question"] for line in piaf.read_text(encoding="utf-8").splitlines()]
    other = {q: route(q).intent for q in questions if route(q).intent is not Intent.FIGURE}
    assert set(other.values()) <= {Intent.FIGURES, Intent.NOT_A_FIGURE}
    assert len(other) <= 3, other


# -- end to end on the bundled corpus -------------------------------------------------------------------


def _verbatim(answer: object) -> None:
    """Every figure is in the quote of the citation it names."""
    quotes = {c.id: c.quote for c in answer.citations}  # type: ignore[attr-defined]
    for f in answer.figures:  # type: ignore[attr-defined]
        assert f.text in quotes[f.citation], (f, quotes)


def test_two_counted_things_get_one_figure_each(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask(DEATHS)
    assert answer.kind == "figures" and not answer.abstained
    assert [f.value for f in answer.figures] == [17000, 31000]
    assert answer.answer.count(answer.figures[0].text) == 1  # both figures share one sentence: said once
    _verbatim(answer)


def test_one_row_naming_both_is_read_as_one_figure(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask(
        "Combien d'hôpitaux et de cliniques étaient équipés d'un logiciel référencé Ségur fin 2025 ?"
    )
    assert answer.kind == "figure" and answer.figures[0].text == "2 640"


def test_key_figures_of_the_latest_bulletin(corpus_assistant: Assistant) -> None:
    newest = corpus_assistant.newest_bulletin()
    answer = corpus_assistant.ask("Quels sont les chiffres clés du dernier bulletin ?")
    assert answer.kind == "key_figures" and not answer.abstained
    assert 3 <= len(answer.figures) <= 5
    assert {c.source for c in answer.citations} == {newest}
    assert answer.answer.splitlines()[0].startswith("Chiffres de « ")
    assert all(
        line.startswith("- ") and line.endswith(f"[{i}]") for i, line in enumerate(answer.answer.splitlines()[1:], 1)
    )
    _verbatim(answer)
    text = corpus_assistant.bulletin(newest).text  # type: ignore[union-attr]
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


def test_key_figures_follow_the_filters(corpus_assistant: Assistant) -> None:
    older = Filters(date_to=date(2025, 6, 30))
    answer = corpus_assistant.ask("Quels sont les chiffres clés du dernier bulletin ?", filters=older)
    assert answer.citations and all(c.date and c.date <= "2025-06-30" for c in answer.citations)


def test_what_a_bulletin_says_on_a_topic(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("Que dit le bulletin sur la télésanté ?")
    assert answer.kind == "key_figures" and len(answer.citations) >= 2
    assert len({c.source for c in answer.citations}) == 1
    _verbatim(answer)


def test_a_definition_question_gets_an_honest_reply_and_the_closest_passage(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("Qu'est-ce que Mon Espace Santé ?")
    assert answer.kind == "not_a_figure" and answer.abstained and not answer.figures
    assert answer.answer.startswith("Je réponds aux questions sur les chiffres des bulletins")
    assert len(answer.suggestions) == 1 and "Mon Espace Santé" in answer.suggestions[0].quote


def test_an_english_question_gets_a_french_hint(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("How many people activated Mon Espace Santé?")
    assert answer.kind == "not_french" and answer.abstained and not answer.figures
    assert answer.answer.startswith("Posez votre question en français")
