"""Computations over cited figures, conflicts and "as of" dates, on the real pipeline."""

from __future__ import annotations

from datetime import date

import pytest

from assistant import Assistant
from assistant.computation import absurd, format_fr, incompatible, number_fr, per_basis, percent_fr, plan
from assistant.figures import FigureKind as K
from assistant.figures import extract_figures
from assistant.models import Passage
from assistant.reading import Candidate


@pytest.mark.parametrize(
    ("value", "kind", "unit", "signed", "expected"),
    [
        (7_000_000, K.COUNT, "assurés", True, "+7 millions"),
        (1_500_000, K.COUNT, None, True, "+1,5 million"),
        (2_700, K.COUNT, "cabines", False, "2\u202f700"),
        (1.2e9, K.MONEY, "EUR", False, "1,2 Md€"),
        (310e6, K.MONEY, "EUR", False, "310 M€"),
        (41.18, K.PERCENT, "%", True, "+41 %"),
        (-3.45, K.PERCENT, "%", True, "−3,5 %"),
        (60.0, K.PERCENT, "%", False, "60 %"),
    ],
)
def test_results_are_written_like_the_bulletins(value, kind, unit, signed, expected) -> None:
    assert format_fr(value, kind, unit, signed=signed) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (24e6, "24\u202f000\u202f000"),
        (370.0, "370"),
        (-1300.0, "−1\u202f300"),
        (2.5, "2,5"),
        (1234.56, "1\u202f234,56"),
    ],
)
def test_operands_in_french_format(value: float, expected: str) -> None:
    assert number_fr(value) == expected


def test_computed_percentages_keep_one_decimal() -> None:
    assert percent_fr(41.176, signed=True) == "+41,2 %"
    assert percent_fr(-3.45, signed=True) == "−3,5 %"  # the real minus sign
    assert percent_fr(60.0) == "60 %"
    assert format_fr(-2_700, K.COUNT, None) == "−2\u202f700"


def test_plans() -> None:
    growth = plan("De combien le nombre d'assurés a-t-il augmenté entre janvier 2025 et janvier 2026 ?")
    assert growth is not None and growth.operation == "growth" and growth.labels == ("janvier 2025", "janvier 2026")
    assert plan("Quelle part de l'objectif de 40 millions de carnets activés est atteinte ?").operation == "share"
    assert plan("Combien de cabines sont installées hors pharmacie ?").operation == "excluding"
    assert plan("D'ici quand l'objectif de 40 millions doit-il être atteint ?") is None
    assert plan("Combien d'assurés ont activé Mon Espace Santé ?") is None


def test_growth_between_two_bilans_cites_both(corpus_assistant: Assistant) -> None:
    q = (
        "De combien le nombre d'assurés ayant activé Mon Espace Santé a-t-il augmenté "
        "entre janvier 2025 et janvier 2026 ?"
    )
    answer = corpus_assistant.ask(q)
    c = answer.computation
    assert c is not None and c.operation == "growth" and c.result == 7_000_000
    assert c.result_text == "+7 millions (+41,2 %)"  # the headline's percentage is the expression's
    assert [o.figure.text for o in c.operands] == ["17 millions", "24 millions"]
    assert {x.source for x in answer.citations} == {
        "corpus/bulletin-mon-espace-sante-2025-01.txt",
        "corpus/bulletin-mon-espace-sante-2026-01.txt",
    }
    nb = "\u202f"
    assert c.expression == (
        f"24{nb}000{nb}000 − 17{nb}000{nb}000 = 7{nb}000{nb}000 ; "
        f"(24{nb}000{nb}000 − 17{nb}000{nb}000) / 17{nb}000{nb}000 × 100 = +41,2 %"
    )
    assert "+41,2 %" in answer.answer and "41.2" not in answer.answer
    for o in c.operands:  # each operand verbatim in its citation
        assert o.figure.text in answer.citations[o.citation - 1].quote


def test_excluding_and_share(corpus_assistant: Assistant) -> None:
    hors = corpus_assistant.ask("Combien de cabines de téléconsultation sont installées hors pharmacie ?")
    assert hors.computation is not None and hors.computation.result == 2700
    share = corpus_assistant.ask("Quelle part de l'objectif de 40 millions de carnets activés est atteinte ?")
    assert share.computation is not None and share.computation.result == pytest.approx(60.0)
    assert share.computation.result_text == "60 %" and share.computation.expression.endswith("× 100 = 60 %")
    assert hors.computation.expression == "4\u202f600 − 1\u202f900 = 2\u202f700"


def test_growth_over_one_period_is_refused(corpus_assistant: Assistant) -> None:
    q = "De combien le nombre de logiciels référencés Ségur a-t-il augmenté entre fin 2025 et fin 2025 ?"
    answer = corpus_assistant.ask(q)
    assert answer.abstained and answer.computation is None
    assert "même période" in answer.answer


def test_conflicting_bulletins_are_both_cited(corpus_assistant: Assistant) -> None:
    answer = corpus_assistant.ask("Combien d'établissements alimentaient le DMP au 31 décembre 2024 ?")
    assert not answer.abstained and answer.conflicts
    values = {f.value for f in answer.figures}
    assert {2900, 3050} <= values
    assert "divergent" in answer.answer and len(answer.citations) >= 2


def test_every_answer_says_as_of_when(corpus_assistant: Assistant) -> None:
    a = corpus_assistant.ask("Combien d'assurés ont activé Mon Espace Santé ?")
    assert a.as_of is not None and a.as_of.label == "29 janvier 2026" and "(au 29 janvier 2026) [1]." in a.answer
    b = corpus_assistant.ask("Combien de pharmacies alimentaient le DMP au 31 décembre 2024 ?")
    assert b.as_of is not None and b.as_of.date == "2024-12-31" and b.as_of.origin == "sentence"
    c = corpus_assistant.ask(
        "Combien d'injections antigrippales les pharmaciens ont-ils réalisées pendant l'hiver 2024-2025 ?"
    )
    assert c.figures and c.figures[0].value == 5_900_000  # "l'hiver dernier" in a bulletin of October 2025


def _candidate(sentence: str, figure_text: str) -> Candidate:
    """The candidate of ``figure_text`` in a one-sentence bulletin."""
    passage = Passage("c1", "corpus/b.txt", "B", date(2025, 1, 1), 0, len(sentence), sentence)
    fig = next(f for f in extract_figures(sentence) if f.text == figure_text)
    return Candidate(passage=passage, figure=fig, sent_start=0, sent_end=len(sentence), sentence=sentence)


def test_a_per_inhabitant_amount_and_a_national_total_are_not_combined() -> None:
    total = _candidate("La dépense atteint 235 milliards d'euros en 2023.", "235 milliards d'euros")
    per_head = _candidate("Elle s'élève à 3 560 euros par habitant en 2024.", "3 560 euros")
    assert per_basis(total) is None and per_basis(per_head) == "par habitant"
    reason = incompatible("growth", total, per_head)
    assert reason is not None and "même base" in reason


def test_values_a_thousand_times_apart_are_not_one_indicator() -> None:
    big = _candidate("On compte 24 millions d'assurés en 2025.", "24 millions")
    small = _candidate("On compte 1 500 assurés en 2026.", "1 500")
    reason = incompatible("growth", big, small)
    assert reason is not None and "ordre de grandeur" in reason
    same = _candidate("On compte 17 millions d'assurés en 2024.", "17 millions")
    assert incompatible("growth", same, big) is None


def test_absurd_results_are_refused() -> None:
    assert absurd("share", 130.0, None) is not None
    assert absurd("growth", 5e6, 3_018_826_464.0) is not None
    assert absurd("growth", 7e6, 41.2) is None and absurd("share", 60.0, None) is None
