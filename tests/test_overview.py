"""assistant.overview on a real store holding the bundled corpus: count, period, topics, verified examples."""

from __future__ import annotations

import re
from datetime import date

import pytest

from assistant import Assistant
from assistant import overview as ov
from assistant.figures import extract_figures
from assistant.lexical import fold

from .conftest import CORPUS

BULLETINS = sorted(p.name for p in CORPUS.iterdir() if p.suffix != ".jsonl")


def test_count_period_and_topics(corpus_assistant: Assistant) -> None:
    o = ov.corpus_overview(corpus_assistant)
    assert o.bulletins == len(BULLETINS) == corpus_assistant.stats().bulletins
    stats = corpus_assistant.stats()
    assert (o.date_min, o.date_max) == (date.fromisoformat(stats.date_min), date.fromisoformat(stats.date_max))
    assert o.period == "janvier 2025 – mars 2026"
    assert 3 <= len(o.topics) <= ov.MAX_TOPICS
    titles = fold(" ".join(r.title for r in corpus_assistant.store.records().values()))
    for topic in o.topics:  # derived from the titles, not invented
        assert fold(topic) in titles, topic
    assert len({fold(t) for t in o.topics}) == len(o.topics)


def test_examples_are_answered_with_their_figure(corpus_assistant: Assistant) -> None:
    o = ov.corpus_overview(corpus_assistant)
    assert 4 <= len(o.examples) <= 6
    assert len({e.bulletin_id for e in o.examples}) == len(o.examples)  # from different bulletins
    assert len({e.question for e in o.examples}) == len(o.examples)
    for e in o.examples:
        assert e.question.startswith(("Combien d", "Quelle part ")) and e.question.endswith(" ?")
        answer = corpus_assistant.ask(e.question)
        assert not answer.abstained, e.question
        assert answer.figures and " ".join(answer.figures[0].text.split()) == " ".join(e.figure.split()), e
        # The figure is in the bulletin the example was built from.
        text = corpus_assistant.bulletin(e.bulletin_id).text
        assert any(" ".join(f.text.split()) == " ".join(e.figure.split()) for f in extract_figures(text))


def test_overview_is_cached_per_store_stamp(corpus_assistant: Assistant) -> None:
    first = ov.corpus_overview(corpus_assistant)
    assert ov.corpus_overview(corpus_assistant) is first  # same stamp: no new questions asked
    ov.clear_cache()
    again = ov.corpus_overview(corpus_assistant)
    assert again is not first and again == first


def test_an_overview_whose_questions_failed_is_not_kept(
    corpus_assistant: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An example question that raises (the store being rewritten by an upload in another session) must not
    leave a start page with fewer examples until the next write: that build is shown once, then redone."""
    ov.clear_cache()
    real_ask = corpus_assistant.ask
    calls = {"n": 0}

    def flaky(question: str, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("store busy")
        return real_ask(question, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(corpus_assistant, "ask", flaky)
    partial = ov.corpus_overview(corpus_assistant)
    monkeypatch.setattr(corpus_assistant, "ask", real_ask)
    full = ov.corpus_overview(corpus_assistant)
    assert len(full.examples) >= len(partial.examples) and full is not partial
    assert ov.corpus_overview(corpus_assistant) is full  # a complete build is kept


def test_overview_follows_the_corpus(make_assistant, corpus_copy) -> None:  # type: ignore[no-untyped-def]
    """A new bulletin moves the stamp: count and period change, and examples stay true."""
    a = make_assistant()
    a.ingest([corpus_copy])
    before = ov.corpus_overview(a)
    (corpus_copy / "bulletin-vaccination-mobile-2026-06.md").write_text(
        '---\ntitle: "Vaccination mobile : les centres itinérants accélèrent"\ndate: 2026-06-02\n---\n'
        "Les centres de vaccination mobiles ont réalisé 48 250 injections en mai 2026, selon l'agence régionale.\n",
        encoding="utf-8",
    )
    a.ingest([corpus_copy])
    after = ov.corpus_overview(a)
    assert after.bulletins == before.bulletins + 1
    assert after.period == "janvier 2025 – juin 2026"
    assert "Vaccination mobile" in after.topics
    for e in after.examples:
        assert not a.ask(e.question).abstained


def test_example_candidates_reuse_the_sentence() -> None:
    text = "Selon ce décompte, 3 050 établissements alimentaient le DMP au 31 décembre 2024, hôpitaux compris."
    assert [q for q, _ in ov.example_candidates(text)] == [
        "Combien d’établissements alimentaient le DMP au 31 décembre 2024 ?"
    ]
    share = "En 2024, 34,2 % des personnes âgées de 50 à 74 ans ont réalisé le test immunologique."
    assert [q for q, _ in ov.example_candidates(share)] == [
        "Quelle part des personnes âgées de 50 à 74 ans ont réalisé le test immunologique ?"
    ]
    # No verb or antecedent (« par an », « de leurs charges »), a participle, a table, markup: no question.
    for bad in (
        "Le dispositif rembourse jusqu'à 12 séances par an.",
        "Soit 1,9 % de leurs charges d'exploitation.",
        "Dont 640 000 commandés directement en ligne.",
        "| Logiciels référencés | 1 050 | 1 420 |",
        "Alerte : 42 % des tests réalisés en élevage sont positifs <script>x()</script> selon le laboratoire.",
    ):
        assert ov.example_candidates(bad) == [], bad


def test_period_labels() -> None:
    assert ov.period_label(date(2025, 1, 31), date(2026, 3, 3)) == "janvier 2025 – mars 2026"
    assert ov.period_label(date(2025, 8, 1), date(2025, 8, 30)) == "août 2025"
    assert ov.period_label(None, None) == "période inconnue"
    assert ov.period_label(None, date(2025, 12, 1)) == "décembre 2025"


def test_bulletin_summaries(corpus_assistant: Assistant) -> None:
    summaries = ov.bulletin_summaries(corpus_assistant)
    assert sorted(s.id for s in summaries) == sorted(f"corpus/{n}" for n in BULLETINS)
    dates = [s.date for s in summaries]
    assert dates == sorted(dates, reverse=True)  # newest first
    ans = next(s for s in summaries if s.id.endswith("chiffres-cles-ans-2025-02.md"))
    assert ans.title.startswith("DMP et télésanté")
    assert ans.source and ans.url and ans.url.startswith("https://")
    assert ans.pages is None  # not a paged format
    assert ans.text == corpus_assistant.bulletin(ans.id).text
    assert ans.key_figures[0] == ov.KeyFigure("3 050", "3 050 établissements alimentaient le DMP au 31 décembre 2024")
    for s in summaries:
        assert 1 <= len(s.key_figures) <= ov.KEY_FIGURES
        figures = [k.figure for k in s.key_figures]
        assert len(set(figures)) == len(figures)
        for k in s.key_figures:
            assert k.figure in k.clause and not re.search(r"\*\*|^#", k.clause)
            assert not re.fullmatch(r"(?i)[a-zé ]+ ans", k.figure)  # « Quatre ans » is no key figure


def test_filter_summaries_ignores_case_and_accents(corpus_assistant: Assistant) -> None:
    summaries = ov.bulletin_summaries(corpus_assistant)
    assert ov.filter_summaries(summaries, "") == summaries
    tele = ov.filter_summaries(summaries, "TELECONSULTATIONS")
    assert tele and tele == ov.filter_summaries(summaries, "téléconsultations")
    assert all("teleconsultations" in fold(s.text + s.title) for s in tele)
    assert len(tele) < len(summaries)
    both = ov.filter_summaries(summaries, "Ségur hôpitaux")
    assert [s.id for s in both] == ["corpus/bulletin-segur-numerique-2026-02.md"]
    assert ov.filter_summaries(summaries, "zzz-introuvable") == []
