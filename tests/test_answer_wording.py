"""The answer sentence as a colleague would write it: the figure's clause, the as-of date, the marker, no path."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.figures import extract_figures
from assistant.models import AsOf, Passage
from assistant.reading import Candidate
from assistant.reading.answer import answer_sentence, bulletin_heading, figure_clause

MES = (
    "Quatre ans après son lancement en janvier 2022, 24 millions d’assurés ont activé «Mon Espace Santé», "
    "le carnet de santé numérique proposé par l’assurance maladie, selon le communiqué publié le 29 janvier 2026."
)


def _candidate(
    sentence: str,
    figure_text: str,
    *,
    title: str = "B",
    bulletin_id: str = "corpus/bulletin-mon-espace-sante-2026-01.txt",
    column: str | None = None,
) -> Candidate:
    passage = Passage("c1", bulletin_id, title, date(2026, 1, 29), 0, len(sentence), sentence)
    fig = next(f for f in extract_figures(sentence) if f.text == figure_text)
    return Candidate(
        passage=passage, figure=fig, sent_start=0, sent_end=len(sentence), sentence=sentence, column=column
    )


AS_OF = AsOf(date="2026-01-29", label="29 janvier 2026", origin="bulletin")


def test_prose_sentence_gives_the_figures_clause_with_its_date() -> None:
    c = _candidate(MES, "24 millions", title=MES)
    assert answer_sentence(c, AS_OF, False) == (
        "24 millions d’assurés ont activé «Mon Espace Santé» (au 29 janvier 2026) [1]."
    )


@pytest.mark.parametrize(
    ("sentence", "figure", "expected"),
    [
        (  # a link word and the words after the next comma are left out
            "L’hiver dernier, les pharmaciens ont réalisé 5,9 millions d’injections antigrippales, soit 41 % des "
            "vaccinations.",
            "5,9 millions",
            "Les pharmaciens ont réalisé 5,9 millions d’injections antigrippales",
        ),
        (  # a « soit » piece takes the clause it depends on
            "Les chiffres le confirment : 16 400 officines alimentaient le DMP, soit 82 % des pharmacies.",
            "82 %",
            "16 400 officines alimentaient le DMP, soit 82 % des pharmacies",
        ),
        (  # « dont » between commas: the clause goes on to its verb
            "Si près de 70 000 professionnels de santé, dont 38 000 médecins libéraux, consultent déjà chaque mois "
            "les dossiers médicaux, l’ergonomie doit encore s’améliorer.",
            "70 000",
            "Près de 70 000 professionnels de santé, dont 38 000 médecins libéraux, consultent déjà chaque mois "
            "les dossiers médicaux",
        ),
        (  # the decimal comma is no clause boundary
            "Surtout, 2,5 millions de personnes s’y connectent chaque mois.",
            "2,5 millions",
            "2,5 millions de personnes s’y connectent chaque mois",
        ),
    ],
)
def test_clause_is_cut_at_the_clause_around_the_figure(sentence: str, figure: str, expected: str) -> None:
    clause = figure_clause(_candidate(sentence, figure))
    assert clause == expected
    assert figure in clause  # verbatim


def test_table_cell_reads_label_value_column() -> None:
    row = "| Cabines et bornes installées | 2 100 | 3 400 |"
    c = _candidate(row, "2 100", column="2024")
    assert figure_clause(c) is None
    assert answer_sentence(c, AsOf(date="2024", label="2024", origin="sentence"), False) == (
        "Cabines et bornes installées : 2 100 (2024) [1]."
    )


def test_no_clean_clause_falls_back_to_a_short_heading_never_a_path() -> None:
    c = _candidate("Tarif : 30 €.", "30 €", title=MES, bulletin_id="corpus/bulletin-teleconsultations-2025-03.md")
    text = answer_sentence(c, AS_OF, False)
    assert text == "Au 29 janvier 2026, selon « bulletin téléconsultations 2025-03 » : 30 € [1]."
    assert "corpus/" not in text and ".md" not in text


def test_bulletin_heading() -> None:
    assert bulletin_heading("Santé mentale : Mon soutien psy", "corpus/x.txt") == "Santé mentale : Mon soutien psy"
    assert bulletin_heading(MES, "corpus/bulletin-mon-espace-sante-2026-01.txt") == (
        "bulletin mon espace santé 2026-01"
    )
    assert bulletin_heading("", "pdf-samples/COVID_19_bulletin.pdf") == "COVID 19 bulletin"
