"""Chunking: offsets that quote exactly, and no chunk over the model's limit."""

from __future__ import annotations

import itertools

from assistant.chunking import chunk_bulletin, embed_text, sentence_spans, sentences
from assistant.embeddings import Embedder
from assistant.loading import discover, load_file, parse_bulletin

from .conftest import CORPUS


def test_every_corpus_chunk_quotes_its_source_and_fits_the_model(embedder: Embedder) -> None:
    files, _ = discover([CORPUS])
    n = 0
    for f in files:
        b = load_file(f)
        chunks = chunk_bulletin(b, embedder)
        assert chunks, b.id
        for c in chunks:
            assert b.text[c.start : c.end] == c.text
            assert embedder.count(embed_text(b.title, c.text)) <= embedder.max_tokens
            n += 1
        # Chunks cover the text in order without overlapping.
        assert all(a.end <= b_.start for a, b_ in itertools.pairwise(chunks))
    assert n >= 20


def test_a_very_long_sentence_is_cut_not_truncated(embedder: Embedder) -> None:
    words = " ".join(f"mot{i} 12 %" for i in range(600))
    b = parse_bulletin(f"Titre\n{words}.\n".encode(), "x/long.txt")
    chunks = chunk_bulletin(b, embedder)
    assert len(chunks) > 2
    covered = "".join(c.text for c in chunks)
    assert "".join(covered.split()) == "".join(b.text.split())  # every character kept, in order
    for c in chunks:
        assert embedder.count(embed_text(b.title, c.text)) <= embedder.max_tokens


def test_chunk_ids_are_deterministic(embedder: Embedder) -> None:
    files, _ = discover([CORPUS])
    b = load_file(files[0])
    assert [c.id for c in chunk_bulletin(b, embedder)] == [c.id for c in chunk_bulletin(b, embedder)]


def test_french_sentence_splitting_respects_abbreviations_and_decimals() -> None:
    text = "Selon M. Dupont, 2,5 millions d’usagers. Le Dr. Martin confirme. Hausse de 3.5 % ? Oui ! Fin."
    got = [text[s.start : s.end] for s in sentences(text)]
    assert got == [
        "Selon M. Dupont, 2,5 millions d’usagers.",
        "Le Dr. Martin confirme.",
        "Hausse de 3.5 % ?",
        "Oui !",
        "Fin.",
    ]


def test_paragraphs_and_table_rows_are_separate_sentences() -> None:
    text = "Titre\n\nUn paragraphe. Deux.\n| A | B |\n|---|---|\n| x | 12 % |\n"
    got = [text[s.start : s.end] for s in sentence_spans(text)]
    assert got[:3] == ["Titre", "Un paragraphe.", "Deux."]
    assert "| x | 12 % |" in got
