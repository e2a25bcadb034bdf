"""Unit tests for assistant.presentation: escaping (security), highlighting, paragraphs, formatting."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from assistant import presentation as p
from assistant.errors import InvalidQuestionError
from assistant.models import Answer, AsOf, BulletinFailure, Citation, FigureOut, IngestReport, StoreStats

HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    "![x](http://127.0.0.1:9/leak?q=)",
    "[lien](javascript:alert(1))",
    "<https://outside.example/autolink>",
    "http://127.0.0.1:9/bare www.outside.example contact@outside.example",
    "$\\frac{1}{2}$ :red[rouge] :material/home: :orange-background[x]",
    "# titre\n- liste\n1. un\n> cite\n---\n    code indenté\n| a | b |\n|---|---|",
    "&lt;script&gt; &#60;img&#62; &amp; \\<b\\> ` code ` **gras** _it_ ~~barré~~",
    "[ref]: http://127.0.0.1:9/ref\n[ref]",
]

# CommonMark with raw HTML *enabled*: the worst case; escaped text must still yield no tag but <p>.
MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")


def rendered(markdown: str) -> str:
    return MD.render(markdown)


def tags(markdown: str) -> set[str]:
    return {m.group(2).lower() for m in TAG_RE.finditer(rendered(markdown))}


def text_nodes(markdown: str) -> str:
    """The decoded text a renderer's plain-text transforms (autolink literals, emoji) get to see."""
    return html.unescape(re.sub(r"<[^>]*>", "", rendered(markdown))).strip()


def visible_text(markdown: str) -> str:
    return text_nodes(markdown).replace(p.WORD_JOINER, "")


# The literal-autolink patterns of GFM (mdast-util-gfm-autolink-literal); JS \w is ASCII-only.
GFM_AUTOLINK_LITERALS = [
    re.compile(r"(https?://|www(?=\.))[-.\w]+", re.IGNORECASE | re.ASCII),
    re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", re.ASCII),
]


# --------------------------------------------------------------------------
# Escaping
# --------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_escaped_hostile_text_renders_as_plain_paragraph(hostile: str) -> None:
    md = p.plain_markdown(hostile)
    assert tags(md) <= {"p"}, rendered(md)
    # Shown literally (whitespace collapsed to one line).
    assert visible_text(md) == " ".join(hostile.split())


@pytest.mark.parametrize("hostile", HOSTILE)
def test_no_unescaped_markdown_trigger_survives(hostile: str) -> None:
    md = p.escape_markdown(hostile)
    assert "\n" not in md
    # Every ASCII punctuation character is preceded by a backslash (autolinks, directives, math need bare ones).
    stripped = re.sub(r"\\[!-/:-@\[-`{-~]", "", md)
    assert not re.search(r"[!-/:-@\[-`{-~]", stripped)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_no_gfm_literal_autolink_can_form(hostile: str) -> None:
    decoded = text_nodes(p.plain_markdown(hostile))
    for pattern in GFM_AUTOLINK_LITERALS:
        assert not pattern.search(decoded), decoded


def test_escape_keeps_nbsp_and_collapses_breaks() -> None:
    assert p.escape_markdown("150\u202f000 et 1\u00a0200\n\nfin\r\tici") == "150\u202f000 et 1\u00a0200 fin ici"
    assert p.escape_markdown("a\x00b\u2028c") == "a b c"


@settings(max_examples=200, deadline=None)
@given(st.text().map(lambda t: t.replace(p.WORD_JOINER, "")))
def test_escape_roundtrip_and_inert(text: str) -> None:
    md = p.plain_markdown(text)
    assert p.unescape_markdown(md) == " ".join(re.split(r"[\t\n\v\f\r \x00-\x1f\x7f\x85\u2028\u2029]+", text)).strip()
    assert tags(md) <= {"p"}
    decoded = text_nodes(md)
    assert not any(pattern.search(decoded) for pattern in GFM_AUTOLINK_LITERALS)


def test_shorten() -> None:
    assert p.shorten("  court ") == "court"
    long = "x" * 100_000
    out = p.shorten(long, 50)
    assert len(out) < 80
    assert out.endswith("(100000 caractères)")


# --------------------------------------------------------------------------
# Highlighting
# --------------------------------------------------------------------------


def test_highlight_segments_whole_figures_only() -> None:
    text = "124 millions, puis 24 millions, enfin 24\u00a0millions."
    segs = p.highlight_segments(text, ["24 millions"])
    assert [s.text for s in segs if s.highlighted] == ["24 millions", "24\u00a0millions"]
    assert "".join(s.text for s in segs) == text


def test_highlight_percent_and_overlaps() -> None:
    segs = p.highlight_segments("Hausse de 42 % et 4 %.", ["42 %", "4 %", "42", ""])
    assert [s.text for s in segs if s.highlighted] == ["42 %", "4 %"]


def test_split_segments_clamps_and_covers() -> None:
    segs = p.split_segments("abcdef", [(1, 3), (2, 4), (5, 99)])
    assert "".join(s.text for s in segs) == "abcdef"
    expected = [("a", False), ("bc", True), ("d", True), ("e", False), ("f", True)]
    assert [(s.text, s.highlighted) for s in segs] == expected


def test_highlight_markdown_hostile_quote_is_inert() -> None:
    quote = (
        'Alerte : 42 % des tests <script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
        "![x](http://127.0.0.1:9/leak) [clic](javascript:window.__pwned=3)"
    )
    md = p.highlight_markdown(quote, ["42 %"])
    assert ":yellow-background[**42 \\%**]" in md
    # Strip our own directive: the remainder must be plain text once rendered.
    plain = md.replace(":yellow-background[", "").replace("]", "", 1)
    assert tags(plain) <= {"p", "strong"}
    assert "<script>" in visible_text(plain)


def test_highlight_styles_keep_spaces_outside_markers() -> None:
    segs = [p.Segment("vu "), p.Segment(" 24 millions ", True), p.Segment("ici")]
    assert p.segments_markdown(segs, "bold") == "vu  **24 millions** ici"
    assert p.segments_markdown([p.Segment("a]b", True)], "quote") == ":blue-background[a\\]b]"
    assert p.segments_markdown([p.Segment("  ", True)], "figure") == " "


# --------------------------------------------------------------------------
# Surrounding paragraph
# --------------------------------------------------------------------------

BULLETIN = (
    "Titre du bulletin\n\nPublié le 2 février 2026\n\nPremier paragraphe. 42 % des tests positifs. Fin.\nSuite seule.\n"
)


def test_surrounding_paragraph_by_line_breaks() -> None:
    start = BULLETIN.index("42 %")
    end = start + len("42 % des tests positifs.")
    ex = p.surrounding_paragraph(BULLETIN, start, end)
    assert ex.text == "Premier paragraphe. 42 % des tests positifs. Fin."
    assert ex.text[ex.start : ex.end] == "42 % des tests positifs."
    assert not ex.cut_before and not ex.cut_after


def test_surrounding_paragraph_spanning_lines_and_edges() -> None:
    start = BULLETIN.index("Fin.")
    end = BULLETIN.index("seule.") + len("seule.")
    ex = p.surrounding_paragraph(BULLETIN, start, end)
    assert ex.text.startswith("Premier") and ex.text.endswith("Suite seule.")
    assert ex.text[ex.start : ex.end] == BULLETIN[start:end]
    ex0 = p.surrounding_paragraph("Une ligne", 0, 3)
    assert (ex0.text, ex0.start, ex0.end) == ("Une ligne", 0, 3)
    bad = p.surrounding_paragraph("abc", -5, 99)
    assert (bad.text, bad.start, bad.end) == ("abc", 0, 3)


def test_surrounding_paragraph_cuts_huge_paragraph_at_words() -> None:
    words = " ".join(f"mot{i}" for i in range(2000))
    text = words + " CITATION ICI " + words
    start = text.index("CITATION")
    end = start + len("CITATION ICI")
    ex = p.surrounding_paragraph(text, start, end, max_chars=200)
    assert ex.cut_before and ex.cut_after
    assert len(ex.text) <= 210
    assert ex.text[ex.start : ex.end] == "CITATION ICI"
    assert ex.text.split()[0].startswith("mot") and ex.text.split()[-1].startswith("mot")
    md = p.excerpt_markdown(ex)
    assert md.startswith("… ") and md.endswith(" …")


def test_excerpt_markdown_highlights_quote_and_figure_safely() -> None:
    text = "Avant <b>gras</b>. Alerte : 42 % [x](javascript:1) positifs. Après ![i](http://127.0.0.1:9/)."
    start = text.index("Alerte")
    end = text.index("positifs.") + len("positifs.")
    md = p.excerpt_markdown(p.surrounding_paragraph(text, start, end), ["42 %"])
    assert md.startswith("Avant \\<b\\>gras\\<\\/b\\>\\. :blue-background[Alerte \\:]")
    assert ":yellow-background[**42 \\%**]" in md
    assert ":blue-background[\\[x\\]\\(javascript\\:1\\) positifs\\.]" in md
    assert md.endswith("Après \\!\\[i\\]\\(http\\:\u2060\\/\\/127\\.0\\.0\\.1\\:9\\/\\)\\.")


# --------------------------------------------------------------------------
# Answers, citations, conversation
# --------------------------------------------------------------------------


def make_citation(**kw: object) -> Citation:
    base = {
        "id": 1,
        "source": "corpus/b<1>.txt",
        "title": "Titre [lien](javascript:x)",
        "date": "2026-01-29",
        "chunk_id": "c-0",
        "quote": "Au total, 24 millions d’assurés <img src=x onerror=y>.",
        "start": 10,
        "end": 62,
    }
    return Citation.model_validate({**base, **kw})


def make_answer(**kw: object) -> Answer:
    base = {
        "question": "Combien ?",
        "answer": "24 millions d’assurés ont activé Mon Espace Santé (au 29 janvier 2026) [1].",
        "abstained": False,
        "confidence": 0.987,
        "figures": [
            FigureOut(text="24 millions", value=24e6, unit="assurés", kind="count", citation=1),
            FigureOut(text="24 millions", value=24e6, unit="assurés", kind="count", citation=1),
            FigureOut(text="42 %", value=42, unit="%", kind="percent", citation=2),
        ],
        "citations": [make_citation()],
        "timings_ms": {"total_ms": 470.4},
    }
    return Answer.model_validate({**base, **kw})


def test_format_dates() -> None:
    assert p.format_date_fr("2026-01-29") == "29 janvier 2026"
    assert p.format_date_fr(date(2025, 8, 1)) == "1er août 2025"
    assert p.format_date_fr(None) == "date inconnue"
    assert p.format_date_fr("bientôt") == "bientôt"
    assert p.format_datetime_fr("2026-11-29T05:14:07+00:00", "Europe/Paris") == "29 novembre 2026 à 06:14"
    assert p.format_datetime_fr("2026-11-29T05:14:07", "UTC") == "29 novembre 2026 à 05:14"  # naive = UTC
    assert p.format_datetime_fr(None) == "jamais"
    assert p.format_datetime_fr("n/a") == "n/a"


def test_figure_cards_and_answer_markdown() -> None:
    a = make_answer()
    cards = p.figure_cards(a)
    assert [(c.label, c.value) for c in cards] == [
        ("assurés · source \\[1\\]", "24 millions"),
        ("pourcentage · source \\[2\\]", "42 \\%"),
    ]
    assert p.answer_markdown(a) == (
        "**24 millions** d’assurés ont activé Mon Espace Santé \\(au 29 janvier 2026\\) \\[1\\]\\."
    )
    assert p.figure_texts(a, 2) == ["42 %"]
    assert p.confidence_caption(a) == "Confiance \\: fiable · 0\\,47 s"  # words, never « 99 % »


def test_citation_lines_are_escaped() -> None:
    c = make_citation()
    assert p.citation_label(c) == "[1] Titre [lien](javascript:x) — 29 janvier 2026 — corpus/b<1>.txt"
    md = p.citation_markdown(c)
    assert tags(md) <= {"p", "strong", "br"}
    assert "javascript:x" in visible_text(md) and "corpus/" not in visible_text(md)  # no server path
    q = p.quote_markdown(c, ["24 millions"])
    assert q.startswith("> « ") and ":yellow-background[**24 millions**]" in q
    assert tags(q.replace(":yellow-background[", "").replace("**]", "**")) <= {"blockquote", "p", "strong"}


def test_history_from_turns_skips_errors() -> None:
    a = make_answer()
    turns = [
        p.Turn(id="1", question="Q1", answer=a),
        p.Turn(id="2", question="", error="La question est vide."),
        p.Turn(id="3", question="Q3", answer=a),
    ]
    assert p.history_from_turns(turns) == [
        {"role": "user", "content": "Q1"},
        {"role": "assistant", "content": a.answer},
        {"role": "user", "content": "Q3"},
        {"role": "assistant", "content": a.answer},
    ]
    assert p.citation_key(make_citation()) == "corpus/b<1>.txt:10:62"


def test_error_parts_and_markdown() -> None:
    exc = InvalidQuestionError("La question est vide.", hint="Posez une question <b>.")
    assert p.error_parts(exc) == ("La question est vide.", "Posez une question <b>.")
    msg, hint = p.error_parts(RuntimeError("boom"))
    assert "RuntimeError" in msg and hint
    md = p.error_markdown(*p.error_parts(exc))
    assert md == "**La question est vide\\.**  \nPosez une question \\<b\\>\\."
    assert p.error_markdown("x") == "**x**"


# --------------------------------------------------------------------------
# Understood question, "as of", conflicts, computation
# --------------------------------------------------------------------------

MES_2025 = "Mon Espace Santé : 17 millions d’assurés"
MES_2026 = "Quatre ans après : 24 millions d’assurés"


def test_understood_question_only_when_completed() -> None:
    a = make_answer(
        question="Et en janvier 2025 ?",
        standalone_question="Combien d'assurés ont activé Mon Espace Santé en janvier 2025 ?",
    )
    caption = p.understood_question_caption(a)
    assert caption is not None
    assert p.unescape_markdown(caption) == (
        "Question comprise : Combien d'assurés ont activé Mon Espace Santé en janvier 2025 ?"
    )
    # Same question (modulo spacing/case), or none: nothing to show.
    assert p.understood_question_caption(make_answer(standalone_question="  combien  ? ")) is None
    assert p.understood_question_caption(make_answer(standalone_question=None)) is None
    assert p.understood_question_caption(make_answer(standalone_question="  ")) is None
    # Compared with what the user typed when given.
    assert p.understood_question_caption(make_answer(standalone_question="Combien ?"), "Et en 2025 ?") is not None


def test_understood_question_is_escaped_and_shortened() -> None:
    hostile = "Et <script>window.__pwned=1</script> [x](javascript:1) " + "y" * 2000
    caption = p.understood_question_caption(make_answer(standalone_question=hostile))
    assert caption is not None
    assert tags(caption) <= {"p"}
    assert "<script>" in visible_text(caption)
    assert caption.endswith(r"caractères\)")


@pytest.mark.parametrize(
    ("label", "origin", "expected"),
    [
        ("31 décembre 2024", "sentence", "au 31 décembre 2024"),
        ("1er mars 2025", "sentence", "au 1er mars 2025"),
        ("fin 2024", "sentence", "à fin 2024"),
        ("mars 2025", "sentence", "en mars 2025"),
        ("2024", "sentence", "en 2024"),
        ("au 30 juin 2025", "sentence", "au 30 juin 2025"),
        ("29 janvier 2026", "bulletin", "au 29 janvier 2026 (date du bulletin)"),
    ],
)
def test_as_of_text(label: str, origin: str, expected: str) -> None:
    a = make_answer(as_of=AsOf(date=None, label=label, origin=origin))  # type: ignore[arg-type]
    assert p.as_of_text(a) == expected


def test_as_of_text_missing_or_blank() -> None:
    assert p.as_of_text(make_answer()) is None
    assert p.as_of_text(make_answer(as_of=AsOf(date=None, label=" ", origin="sentence"))) is None
    assert p.as_of_text(make_answer(as_of=AsOf(date="2024-12-31", label="", origin="sentence"))) == (
        "au 31 décembre 2024"
    )


def test_as_of_is_the_first_card_caption() -> None:
    a = make_answer(as_of=AsOf(date="2024-12-31", label="31 décembre 2024", origin="sentence"))
    cards = p.figure_cards(a)
    assert [c.caption for c in cards] == ["au 31 décembre 2024", None]
    assert all(c.caption is None for c in p.figure_cards(make_answer()))


def conflict_answer() -> Answer:
    kept = FigureOut(text="3 050", value=3050, unit="établissements", kind="count", citation=1)
    other = FigureOut(text="2 900", value=2900, unit="établissements", kind="count", citation=2)
    return make_answer(
        answer="Au 31 décembre 2024 : 3 050 établissements [1]. Attention, les bulletins divergent : 2 900 [2].",
        figures=[kept, other],
        citations=[
            make_citation(id=1, title="DMP et télésanté : les chiffres clés", date="2025-02-20"),
            make_citation(id=2, title="Mon Espace Santé <b>", date="2025-01-31", source="corpus/mes.txt"),
        ],
        as_of=AsOf(date="2024-12-31", label="31 décembre 2024", origin="sentence"),
        conflicts=[{"figure": other, "citation": 2}],
    )


def test_conflicts_markdown_lists_other_bulletins() -> None:
    md = p.conflicts_markdown(conflict_answer())
    assert md is not None
    assert tags(md) <= {"p", "strong", "br", "ul", "li"}, rendered(md)
    text = p.unescape_markdown(md)
    assert text.startswith("**Les bulletins divergent**")
    kept = "La réponse retient **3 050 établissements** [1] — « DMP et télésanté : les chiffres clés » (20 février"
    assert kept + " 2025)" in text
    assert text.endswith("\n- **2 900 établissements** [2] — « Mon Espace Santé <b> » (31 janvier 2025)")
    assert "<b>" in visible_text(md)
    assert p.conflicts_markdown(make_answer()) is None


def test_conflicting_figure_is_not_a_card() -> None:
    cards = p.figure_cards(conflict_answer())
    assert [(c.value, c.caption) for c in cards] == [("3 050", "au 31 décembre 2024")]


def computation_answer(**kw: object) -> Answer:
    a = FigureOut(text="17 millions", value=17e6, unit="assurés", kind="count", citation=1)
    b = FigureOut(text="24 millions", value=24e6, unit="assurés", kind="count", citation=2)
    base: dict[str, object] = {
        "answer": "Entre janvier 2025 et janvier 2026, le chiffre passe de 17 millions [1] à 24 millions [2], "
        "soit +7 millions (+41,2 %).",
        "figures": [a, b],
        "citations": [
            make_citation(id=1, title=MES_2025, date="2025-01-31"),
            make_citation(id=2, title=MES_2026, date="2026-01-29"),
        ],
        "computation": {
            "operation": "growth",
            "expression": "24\u202f000\u202f000 − 17\u202f000\u202f000 = 7\u202f000\u202f000 ; "
            "(24\u202f000\u202f000 − 17\u202f000\u202f000) / 17\u202f000\u202f000 × 100 = +41,2 %",
            "operands": [{"figure": a, "citation": 1}, {"figure": b, "citation": 2}],
            "result": 7e6,
            "result_text": "+7 millions (+41,2 %)",
            "unit": "assurés",
        },
    }
    return make_answer(**{**base, **kw})


def test_computation_result_is_the_prominent_figure() -> None:
    cards = p.figure_cards(computation_answer())
    assert [(p.unescape_markdown(c.label), p.unescape_markdown(c.value), c.caption) for c in cards] == [
        ("évolution · assurés · sources [1], [2]", "+7 millions (+41,2 %)", None)
    ]


def test_computation_view() -> None:
    view = p.computation_view(computation_answer())
    assert view is not None
    assert p.unescape_markdown(view.heading) == "**Calcul** · évolution"
    # Raw text for st.code (not Markdown): shown exactly as computed.
    assert view.expression.startswith("24\u202f000\u202f000 − 17\u202f000\u202f000 = 7\u202f000\u202f000")
    assert [p.unescape_markdown(line) for line in view.operands] == [
        f"[1] **17 millions d’assurés** — « {MES_2025} » (31 janvier 2025)",
        f"[2] **24 millions d’assurés** — « {MES_2026} » (29 janvier 2026)",
    ]
    assert p.unescape_markdown(view.result) == "Résultat : +7 millions (+41,2 %) — unité : assurés"
    for line in [view.heading, *view.operands, view.result]:
        assert tags(line) <= {"p", "strong"}, rendered(line)
    assert p.computation_view(make_answer()) is None


def test_computation_share_and_missing_citation() -> None:
    comp = computation_answer().computation
    assert comp is not None
    share = comp.model_copy(update={"operation": "share", "result_text": "62 %", "unit": "%"})
    a = computation_answer(computation=share.model_dump(), citations=[make_citation(id=1, title="Seul")])
    view = p.computation_view(a)
    assert view is not None
    assert p.unescape_markdown(view.result) == "Résultat : 62 %"
    assert p.unescape_markdown(view.operands[1]) == "[2] **24 millions d’assurés**"  # no citation 2: no source
    assert [p.unescape_markdown(c.label) for c in p.figure_cards(a)] == ["part · sources [1], [2]"]


# --------------------------------------------------------------------------
# Sidebar helpers
# --------------------------------------------------------------------------


def make_stats(**kw: object) -> StoreStats:
    base = {
        "bulletins": 10,
        "chunks": 92,
        "date_min": "2025-01-31",
        "date_max": "2026-03-03",
        "sources": ["corpus/a.txt", "corpus/b.md"],
        "embedding_model": "m",
        "dimension": 384,
        "last_ingest": "2026-11-29T05:14:07+00:00",
        "store": "/tmp/x",
    }
    return StoreStats.model_validate({**base, **kw})


def test_stats_rows_and_bounds() -> None:
    rows = dict(p.stats_rows(make_stats(), "Europe/Paris"))  # the browser's time zone
    assert rows == {
        "Bulletins": "10",
        "Passages indexés": "92",
        "Période": "31 janvier 2025 → 3 mars 2026",
        "Dernière indexation": "29 novembre 2026 à 06:14",
    }
    empty = make_stats(bulletins=0, chunks=0, date_min=None, date_max=None, sources=[], last_ingest=None)
    assert dict(p.stats_rows(empty))["Période"] == "—"
    assert p.date_bounds(make_stats()) == (date(2025, 1, 31), date(2026, 3, 3))
    assert p.date_bounds(empty) == (None, None)


def test_build_filters() -> None:
    lo, hi = date(2025, 1, 31), date(2026, 3, 3)
    assert p.build_filters((lo, hi), (lo, hi), []) is None
    assert p.build_filters(None, (lo, hi)) is None
    f = p.build_filters((date(2025, 6, 1), hi), (lo, hi), ["corpus/a.txt"])
    assert f is not None
    assert (f.date_from, f.date_to, f.sources) == (date(2025, 6, 1), None, ("corpus/a.txt",))
    half = p.build_filters((date(2025, 6, 1),), (lo, hi))
    assert half is not None and half.date_from == date(2025, 6, 1) and half.date_to is None
    single = p.build_filters(date(2025, 6, 1), (lo, hi))
    assert single is not None and single.date_from == date(2025, 6, 1)
    upper = p.build_filters((lo, date(2025, 12, 31)), (lo, hi))
    assert upper is not None and upper.date_from is None and upper.date_to == date(2025, 12, 31)


def test_progress_state() -> None:
    assert p.progress_state("embedding", 46, 92) == (0.45, "Calcul des vecteurs : 46/92 passages")
    frac, label = p.progress_state("writing", 10, 10)
    assert frac == pytest.approx(1.0) and label == "Enregistrement : 10/10 bulletins"
    assert p.progress_state("autre", 0, 0) == (1.0, "autre : 0/0")
    assert p.progress_state("embedding", 5, 2)[0] == pytest.approx(0.9)


def test_ingest_summary_and_failures() -> None:
    report = IngestReport(
        added=["corpus/a.txt"],
        unchanged=["corpus/b.txt", "corpus/c.txt"],
        failed=[BulletinFailure(path="corpus/vide.txt", reason="fichier vide")],
        chunks_added=7,
        seconds=3.25,
    )
    assert p.ingest_summary(report) == "1 bulletin ajouté, 2 inchangés ; 1 fichier illisible (3,2 s)"
    assert p.ingest_summary(IngestReport(unchanged=["a", "b"], seconds=0.4)) == (
        "Aucun changement : 2 bulletins déjà à jour (0,4 s)"
    )
    assert p.ingest_failures(report) == ["corpus/vide.txt : fichier vide"]


def test_quotes_read_as_prose() -> None:
    from assistant.presentation import readable_quote, table_header

    row = "| Cabines et bornes installées | 2 100 | 3 400 |"
    text = f"Titre\n\n| Indicateur | Fin 2024 | Fin 2025 |\n|---|---|---|\n{row}\n"
    header = table_header(text, text.index(row))
    assert header == ("Indicateur", "Fin 2024", "Fin 2025")
    assert readable_quote(row, header) == "Cabines et bornes installées : 2 100 (Fin 2024) ; 3 400 (Fin 2025)"
    assert readable_quote(row) == "Cabines et bornes installées : 2 100 ; 3 400"
    assert table_header(text, text.index("| Indicateur")) == ()  # the header row itself
    assert readable_quote("# DMP et télésanté") == "DMP et télésanté"
    assert readable_quote("24 millions d'assurés.") == "24 millions d'assurés."


@pytest.mark.parametrize(
    ("confidence", "words"),
    [(1.0, "fiable"), (0.7, "fiable"), (0.69, "à vérifier"), (0.5, "à vérifier"), (0.2, "peu sûr")],
)
def test_confidence_in_words_never_a_percentage(confidence: float, words: str) -> None:
    assert p.confidence_label(confidence) == words
    shown = p.confidence_words(make_answer(confidence=confidence))
    assert shown == words and "%" not in shown
    assert (
        p.confidence_words(make_answer(abstained=True, answer="Je ne trouve pas ce chiffre dans les bulletins."))
        is None
    )


def test_source_heading_never_shows_a_whole_sentence_or_a_path() -> None:
    title = "Mon Espace Santé : 17 millions d’assurés ont activé leur carnet de santé numérique"
    assert p.source_heading(title, "corpus/a.txt") == title
    sentence = "Quatre ans après son lancement, 24 millions d’assurés ont activé leur profil, selon le communiqué."
    heading = p.source_heading(sentence, "corpus/bulletin-mon-espace-sante-2026-01.txt")
    assert heading == "Bulletin mon espace santé 2026-01"
    assert p.bulletin_option_label(sentence, "corpus/bulletin-mon-espace-sante-2026-01.txt", date(2026, 1, 29)) == (
        "Bulletin mon espace santé 2026-01 · janvier 2026"
    )
    citation = Citation(
        id=1, source="corpus/bulletin-mon-espace-sante-2026-01.txt", title=sentence, date="2026-01-29",
        chunk_id="c", quote="24 millions", start=0, end=11,
    )  # fmt: skip
    expected = "**[1] Bulletin mon espace santé 2026-01** · 29 janvier 2026"
    assert p.unescape_markdown(p.citation_markdown(citation)) == expected


def test_generation_caption_says_who_wrote_the_text() -> None:
    from assistant.models import Generation

    base = Answer(question="q", answer="24 millions [1].", abstained=False, confidence=0.9)
    assert p.generation_caption(base) is None  # no LLM configured
    kept = base.model_copy(update={"generation": Generation(used=True, model="qwen2.5")})
    assert p.unescape_markdown(p.generation_caption(kept) or "").startswith("Rédigé par le modèle qwen2.5 ;")
    refused = base.model_copy(
        update={"generation": Generation(used=False, model="qwen2.5", reason="figure_not_in_citation: « 25 »")}
    )
    assert p.unescape_markdown(p.generation_caption(refused) or "") == (
        "Texte du modèle écarté (un chiffre absent de sa source) : réponse reprise du bulletin."
    )
    not_sent = base.model_copy(update={"generation": Generation(used=False, reason="kind: « figures »")})
    assert p.generation_caption(not_sent) is None  # the model was not asked
