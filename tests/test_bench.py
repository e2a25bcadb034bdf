"""The synthetic bulletin generator and ``assistant bench`` (end to end, no timing assertions)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.bench import resolve_sizes
from assistant.cli import app
from assistant.embeddings import Embedder
from assistant.figures import extract_figures
from assistant.loading import parse_bulletin
from assistant.models import Filters
from assistant.synthetic import BulletinGenerator, PoolVectors


def test_generator_is_reproducible_from_a_seed() -> None:
    a, b = BulletinGenerator(7), BulletinGenerator(7)
    first = a.bulletin(3)
    list(b.bulletins(100))  # generating other bulletins first changes nothing
    again = b.bulletin(3)
    assert first.bulletin == again.bulletin and first.chunks == again.chunks and first.facts == again.facts
    assert BulletinGenerator(8).bulletin(3).bulletin.text != first.bulletin.text
    assert [f.question for f in a.questions(5, n_chunks=500)] == [f.question for f in b.questions(5, n_chunks=500)]


def test_generated_figures_parse_to_their_values() -> None:
    facts = [f for sb in BulletinGenerator(1).bulletins(300) for chunk in sb.facts for f in chunk]
    assert len(facts) >= 90 and {f.kind for f in facts} == {"count", "percent", "money", "duration"}
    for f in facts:
        found = [x for x in extract_figures(f.sentence) if x.text == f.figure]
        assert found, (f.sentence, f.figure)
        assert found[0].value == pytest.approx(f.value, rel=1e-6), f.sentence
        assert f.figure in f.sentence and f.question.endswith("?")


def test_chunks_are_spans_of_a_loadable_bulletin() -> None:
    for sb in BulletinGenerator(2).bulletins(50):
        text = sb.bulletin.text
        assert all(text[c.start : c.end] == c.text for c in sb.chunks)
        assert len({c.id for c in sb.chunks}) == len(sb.chunks)
        loaded = parse_bulletin(text.encode("utf-8"), f"synthetic/{sb.file_name}")
        assert (loaded.title, loaded.date) == (sb.bulletin.title, sb.bulletin.date)


def test_bulletins_cover_the_requested_chunks() -> None:
    gen = BulletinGenerator(0)
    assert sum(len(sb.chunks) for sb in gen.bulletins(95)) == 100  # whole bulletins: rounds up
    rest = list(gen.bulletins(200, start_chunk=100))
    assert rest[0].index == 10 and sum(len(sb.chunks) for sb in rest) == 100


class HashEncoder:
    """Deterministic stand-in for the model (pool vectors need only *some* embedding)."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.random.default_rng(int(hashlib.sha1(t.encode()).hexdigest()[:8], 16)).normal(size=16) for t in texts]
        m = np.asarray(rows, dtype=np.float32)
        return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_pool_vectors_are_reproducible_unit_vectors() -> None:
    sb = BulletinGenerator(0).bulletin(4)
    v1 = PoolVectors(HashEncoder(), seed=3).vectors(sb)
    v2 = PoolVectors(HashEncoder(), seed=3).vectors(sb)
    assert v1.shape == (len(sb.chunks), 16) and np.array_equal(v1, v2)
    assert np.allclose(np.linalg.norm(v1, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(v1, PoolVectors(HashEncoder(), seed=4).vectors(sb))


def test_size_selection() -> None:
    assert resolve_sizes(None, 100_000, quick=False) == [1_000, 10_000, 100_000]
    assert resolve_sizes(None, 1_000_000, quick=False) == [1_000, 10_000, 100_000, 1_000_000]
    assert resolve_sizes(None, 100_000, quick=True) == [200, 1_000]
    assert resolve_sizes([5_000, 1_000_000, 500], 100_000, quick=False) == [500, 5_000]


def test_cli_bench_quick_writes_results_and_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    monkeypatch.setattr("assistant.bench.Embedder.from_settings", lambda settings: embedder)  # reuse the loaded model
    out = tmp_path / "bench"
    result = CliRunner().invoke(app, ["bench", "--quick", "--out", str(out), "--queries", "4", "--ingest-chunks", "40"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [s["chunks"] for s in data["sizes"]] == [200, 1_000]
    for s in data["sizes"]:
        assert s["queries"] == 4 and s["ask_p50_ms"] > 0 and s["floor_p50_ms"] > 0 and s["rss_peak_mb"] > 0
        assert s["ratio_p50"] > 0 and len(s["ask_ms"]) == 4
    assert data["sizes"][1]["encoded_chunks"] == 200  # the rest are pool vectors, and the report says so
    ingest = data["ingest"]
    assert ingest["chunks"] > 0 and ingest["ingest_chunks_per_s"] > 0 and ingest["encode_chunks_per_s"] > 0
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "## Ingest throughput" in summary and "## Query latency vs corpus size" in summary
    assert "pool vectors" in summary
    for png in ("latency.png", "ingest.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- hot-path fixes keep results identical -------------------------------------------------


def test_vectorised_filter_mask_equals_matches(corpus_assistant: Assistant) -> None:
    from assistant.store import matches

    lexical = corpus_assistant.lexical
    index = lexical.current()
    ids = sorted({m["bulletin_id"] for m in index.metas})
    cases = [
        Filters(date_from=date(2025, 6, 1)),
        Filters(date_to=date(2025, 6, 30)),
        Filters(date_from=date(2025, 3, 1), date_to=date(2025, 12, 31)),
        Filters(sources=(ids[0], "absent.txt")),
        Filters(sources=("absent.txt",)),
        Filters(date_from=date(2026, 1, 1), sources=tuple(ids[:4])),
    ]
    for f in cases:
        assert lexical.allowed(index, f).tolist() == [matches(m, f) for m in index.metas], f


def test_store_query_without_count_returns_the_same_rows(corpus_assistant: Assistant) -> None:
    store = corpus_assistant.store
    n = store.count()
    vector = corpus_assistant.embedder.encode_query("Combien d'assurés ont activé Mon Espace Santé ?")
    for k in (5, n, n + 20):
        res = store.collection.query(
            query_embeddings=[vector.tolist()], n_results=min(k, n), include=["documents", "metadatas", "distances"]
        )
        old = list(zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True))
        assert store.query(vector, k) == old


def test_query_on_one_thread_gives_the_same_vector(embedder: Embedder) -> None:
    one = Embedder(query_threads=1)
    one._model = embedder.model  # same weights, no second load
    default = Embedder(query_threads=0)
    default._model = embedder.model
    q = "Quelle part des assurés a reçu au moins un document en 2025 ?"
    assert np.allclose(one.encode_query(q), default.encode_query(q), atol=1e-6)
