"""French figure extraction: formats, normalised values, traps, and the bundled bulletins."""

from __future__ import annotations

import dataclasses
import random
import time
from pathlib import Path

import pytest

from assistant.figures import Figure, FigureKind, extract_figures, parse_figure

K = FigureKind
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SEED = CORPUS / "bulletin-mon-espace-sante-2026-01.txt"
CORPUS_FILES = sorted(p for ext in ("*.txt", "*.md", "*.html") for p in CORPUS.glob(ext))

NBSP, NNBSP, THIN = "\u00a0", "\u202f", "\u2009"

# (input, expected span text, value, kind, unit)
PARSE_CASES: list[tuple[str, str, float | None, FigureKind, str | None]] = [
    # counts: scale words, French decimals, every thousands separator, counted noun
    ("24 millions d’assurés", "24 millions", 24e6, K.COUNT, "assurés"),
    ("24 millions d'assurés", "24 millions", 24e6, K.COUNT, "assurés"),
    ("2,5 millions de personnes", "2,5 millions", 2.5e6, K.COUNT, "personnes"),
    ("17,4 millions", "17,4 millions", 17.4e6, K.COUNT, None),
    ("(10,8 millions)", "10,8 millions", 10.8e6, K.COUNT, None),
    ("3 800 établissements", "3 800", 3800, K.COUNT, "établissements"),
    ("150 000 professionnels de santé", "150 000", 150_000, K.COUNT, "professionnels"),
    (f"150{NBSP}000 patients", f"150{NBSP}000", 150_000, K.COUNT, "patients"),
    (f"150{NNBSP}000 patients", f"150{NNBSP}000", 150_000, K.COUNT, "patients"),
    (f"150{THIN}000 patients", f"150{THIN}000", 150_000, K.COUNT, "patients"),
    ("1 234 567", "1 234 567", 1_234_567, K.COUNT, None),
    ("1.234.567", "1.234.567", 1_234_567, K.COUNT, None),
    ("80000 patientes", "80000", 80_000, K.COUNT, "patientes"),
    ("plus de 80000 patientes", "80000", 80_000, K.COUNT, "patientes"),
    ("près de 150 000", "150 000", 150_000, K.COUNT, None),
    ("13 millions de notifications ciblées", "13 millions", 13e6, K.COUNT, "notifications"),
    ("dont 38 000 médecins libéraux", "38 000", 38_000, K.COUNT, "médecins"),
    ("un million de patients", "un million", 1e6, K.COUNT, "patients"),
    ("2 000 patients", "2 000", 2000, K.COUNT, "patients"),
    ("1,2 milliard de doses", "1,2 milliard", 1.2e9, K.COUNT, "doses"),
    ("un million et demi de patients", "un million et demi", 1.5e6, K.COUNT, "patients"),
    ("3 nouveaux centres", "3", 3, K.COUNT, "centres"),
    ("deux mille patients", "deux mille", 2000, K.COUNT, "patients"),
    # money
    ("1,2 Md€", "1,2 Md€", 1.2e9, K.MONEY, "EUR"),
    ("4,3 milliards d’euros", "4,3 milliards d’euros", 4.3e9, K.MONEY, "EUR"),
    ("310 millions d'euros", "310 millions d'euros", 3.1e8, K.MONEY, "EUR"),
    ("310 millions d’euros", "310 millions d’euros", 3.1e8, K.MONEY, "EUR"),
    ("850 000 €", "850 000 €", 850_000, K.MONEY, "EUR"),
    (f"850{NNBSP}000{NBSP}€", f"850{NNBSP}000{NBSP}€", 850_000, K.MONEY, "EUR"),
    ("12 000 euros", "12 000 euros", 12_000, K.MONEY, "EUR"),
    ("2,5 M€", "2,5 M€", 2.5e6, K.MONEY, "EUR"),
    ("15 k€", "15 k€", 15_000, K.MONEY, "EUR"),
    ("1,5 Mds €", "1,5 Mds €", 1.5e9, K.MONEY, "EUR"),
    ("deux millions d’euros", "deux millions d’euros", 2e6, K.MONEY, "EUR"),
    ("la consultation passe à 30 €", "30 €", 30, K.MONEY, "EUR"),
    # percents, signs, fractions and ratios
    ("+58 %", "+58 %", 58, K.PERCENT, "%"),
    ("(+58% en un an)", "+58%", 58, K.PERCENT, "%"),
    ("40%", "40%", 40, K.PERCENT, "%"),
    ("40 %", "40 %", 40, K.PERCENT, "%"),
    (f"40{NBSP}%", f"40{NBSP}%", 40, K.PERCENT, "%"),
    (f"40{NNBSP}%", f"40{NNBSP}%", 40, K.PERCENT, "%"),
    ("12,5 %", "12,5 %", 12.5, K.PERCENT, "%"),
    ("-3 %", "-3 %", -3, K.PERCENT, "%"),
    ("−3 %", "−3 %", -3, K.PERCENT, "%"),
    ("40 pour cent", "40 pour cent", 40, K.PERCENT, "%"),
    ("deux tiers", "deux tiers", 200 / 3, K.PERCENT, "%"),
    ("un tiers des patients", "un tiers", 100 / 3, K.PERCENT, "%"),
    ("trois quarts", "trois quarts", 75, K.PERCENT, "%"),
    ("un quart", "un quart", 25, K.PERCENT, "%"),
    ("près de la moitié des assurés", "la moitié", 50, K.PERCENT, "%"),
    ("trois patients sur dix", "trois patients sur dix", 30, K.PERCENT, "%"),
    ("1 patient sur 5", "1 patient sur 5", 20, K.PERCENT, "%"),
    ("un Français sur quatre", "un Français sur quatre", 25, K.PERCENT, "%"),
    ("neuf sur dix", "neuf sur dix", 90, K.PERCENT, "%"),
    ("8 Français sur 10", "8 Français sur 10", 80, K.PERCENT, "%"),
    # durations
    ("2 h 45", "2 h 45", 165, K.DURATION, "min"),
    ("2h45", "2h45", 165, K.DURATION, "min"),
    ("2 h", "2 h", 120, K.DURATION, "min"),
    ("45 minutes", "45 minutes", 45, K.DURATION, "min"),
    ("45 min", "45 min", 45, K.DURATION, "min"),
    ("3 heures", "3 heures", 180, K.DURATION, "min"),
    ("18 jours", "18 jours", 18, K.DURATION, "jours"),
    ("6 semaines", "6 semaines", 6, K.DURATION, "semaines"),
    ("12 mois", "12 mois", 12, K.DURATION, "mois"),
    ("5 ans", "5 ans", 5, K.DURATION, "ans"),
    ("sur les 12 derniers mois", "12 derniers mois", 12, K.DURATION, "mois"),
    ("quinze jours", "quinze jours", 15, K.DURATION, "jours"),
    # dates
    ("D’ici la fin 2027", "fin 2027", 2027, K.DATE, None),
    ("au 31 décembre 2024", "31 décembre 2024", 2024, K.DATE, None),
    ("1er janvier 2025", "1er janvier 2025", 2025, K.DATE, None),
    ("janvier 2025", "janvier 2025", 2025, K.DATE, None),
    ("le 29 janvier 2026", "29 janvier 2026", 2026, K.DATE, None),
    ("31/12/2024", "31/12/2024", 2024, K.DATE, None),
    ("début 2026", "début 2026", 2026, K.DATE, None),
    ("mi-2025", "mi-2025", 2025, K.DATE, None),
    ("en 2025", "2025", 2025, K.DATE, None),
    ("l’année 2025", "2025", 2025, K.DATE, None),
    ("depuis 2022", "2022", 2022, K.DATE, None),
    ("2025", "2025", 2025, K.DATE, None),
    # ranges: one figure, value = lower bound
    ("entre 10 et 15 %", "entre 10 et 15 %", 10, K.PERCENT, "%"),
    ("de 10 à 15 %", "de 10 à 15 %", 10, K.PERCENT, "%"),
    ("10 à 15 jours", "10 à 15 jours", 10, K.DURATION, "jours"),
    ("de 3 à 5 millions de patients", "de 3 à 5 millions", 3e6, K.COUNT, "patients"),
    # other measures
    ("+3 points", "+3 points", 3, K.OTHER, "points"),
    ("3 fois plus", "3 fois", 3, K.OTHER, "fois"),
]


@pytest.mark.parametrize(("source", "text", "value", "kind", "unit"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse_figure(source: str, text: str, value: float | None, kind: FigureKind, unit: str | None) -> None:
    fig = parse_figure(source)
    assert fig is not None, f"no figure in {source!r}"
    assert fig.text == text
    assert source[fig.start : fig.end] == fig.text
    assert fig.kind is kind
    assert fig.unit == unit
    if value is None:
        assert fig.value is None
    else:
        assert fig.value == pytest.approx(value)


# (input, attribute, expected) for the secondary fields
ATTRIBUTE_CASES: list[tuple[str, str, object]] = [
    ("+58 %", "signed", True),
    ("−12 %", "signed", True),
    ("-3 %", "signed", True),
    ("40 %", "signed", False),
    ("70% des assurés", "noun", "assurés"),
    ("75% des vaccinations", "noun", "vaccinations"),
    ("24 millions d’assurés", "noun", "assurés"),
    ("3 800 établissements", "noun", "établissements"),
    ("trois patients sur dix", "noun", "patients"),
    ("deux tiers des patients", "noun", "patients"),
    ("(10,8 millions)", "noun", None),
    ("+58% en un an", "noun", None),
    ("entre 10 et 15 %", "high", 15),
    ("de 10 à 15 %", "high", 15),
    ("10 à 15 jours", "high", 15),
    ("de 3 à 5 millions de patients", "high", 5e6),
    ("entre 2 et 3 millions d’euros", "high", 3e6),
    ("40 %", "high", None),
    ("fin 2027", "date_iso", "2027"),
    ("au 31 décembre 2024", "date_iso", "2024-12-31"),
    ("1er janvier 2025", "date_iso", "2025-01-01"),
    ("janvier 2025", "date_iso", "2025-01"),
    ("31/12/2024", "date_iso", "2024-12-31"),
    ("2024-12-31", "date_iso", "2024-12-31"),
    ("mi-2025", "date_iso", "2025"),
    ("en 2025", "date_iso", "2025"),
    ("24 millions", "date_iso", None),
]


@pytest.mark.parametrize(
    ("source", "attr", "expected"), ATTRIBUTE_CASES, ids=[f"{c[0]}-{c[1]}" for c in ATTRIBUTE_CASES]
)
def test_figure_attributes(source: str, attr: str, expected: object) -> None:
    fig = parse_figure(source)
    assert fig is not None
    got = getattr(fig, attr)
    if isinstance(expected, float | int) and not isinstance(expected, bool):
        assert got == pytest.approx(expected)
    else:
        assert got == expected


# Strings holding no figure at all: ordinals, phone numbers, legal references, words.
NOT_FIGURES = [
    "1er",
    "2e",
    "3ème",
    "le XXIe siècle",
    "la deuxième vague",
    "01 23 45 67 89",
    "01.23.45.67.89",
    f"01{NBSP}23{NBSP}45{NBSP}67{NBSP}89",
    "+33 1 23 45 67 89",
    "article L. 1111-8",
    "l’article L. 1111-8 du code de la santé publique",
    "n° 3",
    "un",
    "une",
    "en un an",
    "une semaine",
    "le Covid-19",
    "le virus H1N1",
    "le tiers payant",
    "la vague 2 du Ségur",
    "https://example.org/2025/01/rapport",
    "",
]


@pytest.mark.parametrize("source", NOT_FIGURES)
def test_not_a_figure(source: str) -> None:
    assert parse_figure(source) is None
    assert extract_figures(source) == []


# (sentence, expected figure texts in order)
EXTRACT_CASES: list[tuple[str, list[str]]] = [
    (
        "près de 150 000 professionnels de santé libéraux (+58% en un an) et 3 800 établissements",
        ["150 000", "+58%", "3 800"],
    ),
    ("Au cours de l’année 2025, 70% des assurés ont reçu au moins un document.", ["2025", "70%"]),
    ("Au 31 décembre 2024, 2 000 patients étaient suivis.", ["31 décembre 2024", "2 000"]),
    ("entre 10 et 15 % des patients, de 10 à 15 jours", ["entre 10 et 15 %", "de 10 à 15 jours"]),
    ("La 2e vague du XXIe siècle, le 1er trimestre 2025.", ["2025"]),
    ("Appelez le 01 23 45 67 89 (article L. 1111-8, n° 3).", []),
    ("le taux passe de 15 % à 10 %", ["15 %", "10 %"]),  # a fall is an evolution, not a range
    ("entre 2020 et 2025, 3 millions d’euros", ["2020", "2025", "3 millions d’euros"]),
    ("Le délai est de 2 h 45, contre 45 minutes en ville.", ["2 h 45", "45 minutes"]),
]


@pytest.mark.parametrize(("sentence", "texts"), EXTRACT_CASES, ids=[c[0][:40] for c in EXTRACT_CASES])
def test_extract_sentences(sentence: str, texts: list[str]) -> None:
    figures = extract_figures(sentence)
    assert [f.text for f in figures] == texts
    _assert_well_formed(sentence, figures)


@pytest.mark.parametrize("source", ["en 2025", "l’année 2025", "depuis 2022", "(2024)", "2025, 70 %", "En 2023 les"])
def test_lone_years_are_dates_never_counts(source: str) -> None:
    figures = extract_figures(source)
    years = [f for f in figures if f.value is not None and 1900 <= f.value <= 2100]
    assert years, source
    assert all(f.kind is K.DATE for f in years)


@pytest.mark.parametrize(
    ("source", "year"),
    [
        ("revient s'établir à Port-Royal en 1610", 1610),
        ("fondé en 1580 dans", 1580),
        ("les années 1100", 1100),
        ("entre 1914-1918, la", 1914),
    ],
)
def test_years_before_1900_are_dates_too(source: str, year: int) -> None:
    dates = [f for f in extract_figures(source) if f.kind is K.DATE]
    assert dates and dates[0].value == year, source
    assert parse_figure("1 610 habitants").kind is K.COUNT  # a thousands separator makes it a count


def test_offsets_refer_to_the_given_string() -> None:
    text = "xx 24 millions d’assurés et 70 % des patients en 2025."
    figures = extract_figures(text)
    assert [(f.text, f.start, f.end) for f in figures] == [
        ("24 millions", 3, 14),
        ("70 %", 28, 32),
        ("2025", 49, 53),
    ]


def test_figure_is_frozen_and_kind_is_a_str_enum() -> None:
    fig = parse_figure("24 millions")
    assert isinstance(fig, Figure)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fig.value = 1.0  # type: ignore[misc]
    assert K.COUNT == "count"
    assert FigureKind("percent") is K.PERCENT
    assert {k.value for k in FigureKind} == {"count", "percent", "money", "date", "duration", "other"}


# ----------------------------------------------------------------------------- corpus


def _assert_well_formed(text: str, figures: list[Figure]) -> None:
    """Spans are verbatim, sorted and disjoint."""
    last_end = 0
    for f in figures:
        assert text[f.start : f.end] == f.text
        assert f.text and f.text == f.text.strip()
        assert f.start >= last_end, f"overlap at {f.text!r}"
        last_end = f.end


def _find(figures: list[Figure], text: str, nth: int = 0) -> Figure:
    hits = [f for f in figures if f.text == text]
    assert len(hits) > nth, f"{text!r} not extracted; got {[f.text for f in figures]}"
    return hits[nth]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_spans_are_verbatim_sorted_and_disjoint(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    figures = extract_figures(text)
    assert figures
    _assert_well_formed(text, figures)
    for f in figures:
        assert isinstance(f.kind, FigureKind)
        if f.kind is K.COUNT and f.value is not None and f.text.isdigit() and len(f.text) == 4:
            assert not 1900 <= f.value <= 2100 or f.unit, f"year {f.text!r} read as a bare count"


# (text, occurrence, kind, value, unit, noun)
SEED_FIGURES: list[tuple[str, int, FigureKind, float, str | None, str | None]] = [
    ("24 millions", 0, K.COUNT, 24e6, "assurés", "assurés"),
    ("2,5 millions", 0, K.COUNT, 2.5e6, "personnes", "personnes"),
    ("fin 2027", 0, K.DATE, 2027, None, None),
    ("40 millions", 0, K.COUNT, 40e6, "carnets", "carnets"),
    ("420 millions", 0, K.COUNT, 420e6, "documents", "documents"),
    ("12 derniers mois", 0, K.DURATION, 12, "mois", None),
    ("40%", 0, K.PERCENT, 40, "%", None),
    ("70%", 0, K.PERCENT, 70, "%", "assurés"),
    ("150 000", 0, K.COUNT, 150_000, "professionnels", "professionnels"),
    ("+58%", 0, K.PERCENT, 58, "%", None),
    ("3 800", 0, K.COUNT, 3800, "établissements", "établissements"),
    ("17,4 millions", 0, K.COUNT, 17.4e6, "comptes", "comptes"),
    ("10,8 millions", 0, K.COUNT, 10.8e6, None, None),
    ("75%", 0, K.PERCENT, 75, "%", "vaccinations"),
    ("13 millions", 0, K.COUNT, 13e6, "notifications", "notifications"),
    ("80000", 0, K.COUNT, 80_000, "patientes", "patientes"),
    ("70 000", 0, K.COUNT, 70_000, "professionnels", "professionnels"),
    ("38 000", 0, K.COUNT, 38_000, "médecins", "médecins"),
    ("29 janvier 2026", 0, K.DATE, 2026, None, None),
]


@pytest.fixture(scope="module")
def seed() -> tuple[str, list[Figure]]:
    text = SEED.read_text(encoding="utf-8")
    return text, extract_figures(text)


@pytest.mark.parametrize(
    ("text", "nth", "kind", "value", "unit", "noun"), SEED_FIGURES, ids=[c[0] for c in SEED_FIGURES]
)
def test_seed_bulletin_figures(
    seed: tuple[str, list[Figure]],
    text: str,
    nth: int,
    kind: FigureKind,
    value: float,
    unit: str | None,
    noun: str | None,
) -> None:
    source, figures = seed
    fig = _find(figures, text, nth)
    assert source[fig.start : fig.end] == text
    assert fig.kind is kind
    assert fig.value == pytest.approx(value)
    assert fig.unit == unit
    assert fig.noun == noun


def test_seed_bulletin_details(seed: tuple[str, list[Figure]]) -> None:
    source, figures = seed
    _assert_well_formed(source, figures)
    assert _find(figures, "+58%").signed
    assert not _find(figures, "70%").signed
    assert _find(figures, "fin 2027").date_iso == "2027"
    assert _find(figures, "29 janvier 2026").date_iso == "2026-01-29"
    assert _find(figures, "31 janvier 2025").date_iso == "2025-01-31"
    # the two "40%" of the bulletin are both found; the second one counts "du total"
    assert _find(figures, "40%", 1).noun == "total"
    # "en un an" and "deuxième vague" are no figures
    assert not any(f.text in ("un", "un an", "deuxième") for f in figures)


def test_seed_bulletin_years_are_dates(seed: tuple[str, list[Figure]]) -> None:
    _, figures = seed
    for year in (2022, 2025):
        dates = [f for f in figures if f.kind is K.DATE and f.value == year]
        assert dates, f"{year} not extracted as a date"
        assert not [f for f in figures if f.kind is not K.DATE and f.value == year]
    assert all(f.kind is K.DATE for f in figures if f.text == "2025")


# ----------------------------------------------------------------------------- robustness


def test_random_text_keeps_invariants() -> None:
    """Noisy strings mixing digits, separators, signs and units never break the span contract."""
    rng = random.Random(20260129)
    pieces = [
        "0", "1", "2", "5", "12", "150", "000", "2025", "1er", "2e", ",", ".", "/", "-", "+", "−", "–", "%", "€",
        " ", NBSP, NNBSP, THIN, "\n", "'", "’", "h", "millions", "d’euros", "de", "sur", "dix", "un", "deux",
        "tiers", "la moitié", "entre", "et", "à", "jours", "mois", "janvier", "fin", "mi-", "n°", "article L.",
        "patients", "Md€", "M€", "k€", "pour cent", "points", "É", "e\u0301",
    ]  # fmt: skip
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 60)))
        _assert_well_formed(text, extract_figures(text))
        fig = parse_figure(text)
        assert fig is None or text[fig.start : fig.end] == fig.text


def test_one_megabyte_parses_quickly() -> None:
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in CORPUS_FILES)
    big = (corpus * (1_000_000 // len(corpus) + 1))[:1_000_000]
    started = time.perf_counter()
    figures = extract_figures(big)
    elapsed = time.perf_counter() - started
    assert len(figures) > 1000
    assert elapsed < 2.0, f"1 MB took {elapsed:.2f}s"
