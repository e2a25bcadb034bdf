"""Follow-up questions made standalone from the history (rules, no model)."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.conversation import standalone_question
from assistant.models import Message


def _h(*questions: str) -> list[Message]:
    out: list[Message] = []
    for q in questions:
        out += [Message(role="user", content=q), Message(role="assistant", content="… [1].")]
    return out


@pytest.mark.parametrize(
    ("history", "question", "expected"),
    [
        (
            ["Combien d'assurés ont activé Mon Espace Santé ?"],
            "Et en 2024 ?",
            "Combien d'assurés ont activé Mon Espace Santé en 2024 ?",
        ),
        (
            ["Combien de professionnels de santé libéraux alimentent le DMP en 2026 ?"],
            "Et fin 2024 ?",
            "Combien de professionnels de santé libéraux alimentent le DMP fin 2024 ?",
        ),
        (
            ["Combien de professionnels de santé libéraux alimentent le DMP ?"],
            "Et les établissements ?",
            "Combien d’établissements alimentent le DMP ?",
        ),
        (
            ["Combien de professionnels de santé libéraux alimentent le DMP ?", "Et les établissements ?"],
            "Et fin 2024 ?",
            "Combien d’établissements alimentent le DMP fin 2024 ?",
        ),
        (
            ["Combien de cabines de téléconsultation sont installées ?"],
            "Et dans les pharmacies ?",
            "Combien de cabines de téléconsultation sont installées dans les pharmacies ?",
        ),
        (
            ["Combien de cas dans le Bas-Rhin selon l'ARS Grand Est ?"],
            "Et en Meurthe-et-Moselle ?",
            "Combien de cas en Meurthe-et-Moselle selon l'ARS Grand Est ?",
        ),
        (
            ["Combien de téléconsultations en 2024 ?"],
            "Et en Bretagne ?",
            "Combien de téléconsultations en 2024 en Bretagne ?",
        ),
        (
            ["Combien de temps attend-on aux urgences avant de voir un médecin ?"],
            "Et le délai médian ?",
            "Quel est le délai médian — attend-on aux urgences avant de voir un médecin ?",
        ),
    ],
)
def test_elliptical_follow_ups_are_completed(history: list[str], question: str, expected: str) -> None:
    assert standalone_question(question, _h(*history)) == expected


@pytest.mark.parametrize(
    "question",
    ["Quel est le budget de la deuxième vague du Ségur du numérique ?", "Combien de pharmacies alimentent le DMP ?"],
)
def test_a_new_topic_is_not_polluted(question: str) -> None:
    assert standalone_question(question, _h("Combien d'assurés ont activé Mon Espace Santé ?")) == question


def test_new_fragment_with_its_own_topic_stands_alone() -> None:
    got = standalone_question("Et le délai moyen pour une coloscopie ?", _h("Combien de passages aux urgences ?"))
    assert got == "Quel est le délai moyen pour une coloscopie ?"


def test_follow_up_through_the_pipeline(corpus_assistant: Assistant) -> None:
    history = [{"role": "user", "content": "Combien d'assurés ont activé Mon Espace Santé ?"}]
    answer = corpus_assistant.ask("Et en janvier 2025 ?", history=history)
    assert answer.standalone_question == "Combien d'assurés ont activé Mon Espace Santé en janvier 2025 ?"
    assert answer.figures[0].value == 17_000_000
    assert answer.citations[0].source == "corpus/bulletin-mon-espace-sante-2025-01.txt"
    assert answer.as_of is not None and answer.as_of.date == "2025-01-31"
