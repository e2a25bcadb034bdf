"""Ingestion into a real Chroma store: idempotence, updates, prune, model mismatch, bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embeddings import Embedder
from assistant.errors import ModelMismatchError
from assistant.settings import Settings
from assistant.store import ChunkStore


def _chunk_ids(a: Assistant) -> list[str]:
    return sorted(cid for cid, _, _ in a.store.iter_chunks())


def test_reingest_unchanged_corpus_embeds_and_adds_nothing(make_assistant, corpus_copy: Path) -> None:
    a = make_assistant()
    first = a.ingest([corpus_copy])
    n_files = len(list(corpus_copy.glob("*.*")))
    assert len(first.added) == n_files and first.chunks_added == a.store.count() > 0
    ids = _chunk_ids(a)
    stamp = a.store.stamp
    second = a.ingest([corpus_copy])
    assert second.chunks_embedded == 0 and second.chunks_added == 0
    assert len(second.unchanged) == n_files and not (second.added or second.updated or second.removed)
    assert _chunk_ids(a) == ids and a.store.stamp == stamp
    assert "0 added, 0 updated" in second.summary()


def test_changed_bulletin_replaces_its_chunks(make_assistant, corpus_copy: Path) -> None:
    a = make_assistant()
    a.ingest([corpus_copy])
    target = corpus_copy / "bulletin-mon-espace-sante-2026-01.txt"
    before = {cid for cid, _, m in a.store.iter_chunks() if m["bulletin_id"] == "corpus/" + target.name}
    target.write_text(target.read_text(encoding="utf-8").replace("24 millions", "25 millions"), encoding="utf-8")
    report = a.ingest([corpus_copy])
    assert report.updated == ["corpus/" + target.name] and len(report.unchanged) >= 7
    after = {cid: t for cid, t, m in a.store.iter_chunks() if m["bulletin_id"] == "corpus/" + target.name}
    assert not (before & set(after)), "old chunks must be gone"
    assert any("25 millions" in t for t in after.values())
    assert not any("24 millions d’assurés" in t for t in after.values())
    answer = a.ask("Combien d'assurés ont activé Mon Espace Santé selon le dernier bilan ?")
    assert answer.figures and answer.figures[0].value == 25_000_000


def test_prune_removes_bulletins_gone_from_the_folder(make_assistant, corpus_copy: Path) -> None:
    a = make_assistant()
    a.ingest([corpus_copy])
    gone = corpus_copy / "bulletin-urgences-2025-06-12.txt"
    gone.unlink()
    kept = a.ingest([corpus_copy])  # without --prune nothing is removed
    assert not kept.removed and "corpus/" + gone.name in a.store.records()
    pruned = a.ingest([corpus_copy], prune=True)
    assert pruned.removed == ["corpus/" + gone.name] and pruned.chunks_removed > 0
    assert "corpus/" + gone.name not in a.store.records()
    assert all(m["bulletin_id"] != "corpus/" + gone.name for _, _, m in a.store.iter_chunks())


def test_unreadable_bulletin_is_reported_and_removes_nothing(make_assistant, corpus_copy: Path) -> None:
    a = make_assistant()
    a.ingest([corpus_copy])
    count, ids = a.store.count(), _chunk_ids(a)
    (corpus_copy / "vide.txt").write_bytes(b"")
    (corpus_copy / "latin1.txt").write_bytes("Caf\xe9 : 12 % de hausse".encode("latin-1"))
    (corpus_copy / "binaire.html").write_bytes(b"\x00\x01\x02PNG\x00")
    # A bulletin that was good becomes unreadable: its chunks stay, even with --prune.
    (corpus_copy / "bulletin-urgences-2025-06-12.txt").write_bytes(b"\xff\xfe\x00\x00garbage")
    report = a.ingest([corpus_copy], prune=True)
    reasons = " ".join(f.reason for f in report.failed)
    assert len(report.failed) == 4 and "vide" in reasons and "UTF-8" in reasons and "binaire" in reasons
    assert not report.removed
    assert a.store.count() == count and _chunk_ids(a) == ids


def test_opening_a_store_with_another_model_is_refused(make_assistant, corpus_copy: Path, tmp_path: Path) -> None:
    a = make_assistant("shared")
    a.ingest([corpus_copy])
    a.close()
    with pytest.raises(ModelMismatchError, match="reindex"):
        ChunkStore.open(model_name="other-model", dimension=768, path=tmp_path / "shared" / "chroma")


def test_reindex_with_another_model_rebuilds_the_store(tmp_path: Path, corpus_copy: Path, embedder: Embedder) -> None:
    """A different model (here: the bundled weights copied to a local folder) needs --reindex."""
    local = tmp_path / "my-model"
    embedder.model.save(str(local))
    first = Assistant(settings=Settings.from_env(env={}, data_dir=tmp_path / "d"), embedder=embedder, auto_ingest=False)
    first.ingest([corpus_copy])
    first.close()
    other = Embedder(str(local))
    second = Assistant(settings=Settings.from_env(env={}, data_dir=tmp_path / "d"), embedder=other, auto_ingest=False)
    with pytest.raises(ModelMismatchError):
        second.ingest([corpus_copy])
    report = second.ingest([corpus_copy], reindex=True)
    assert report.chunks_added > 0 and second.stats().embedding_model == str(local)
    second.close()


def test_store_survives_reopen(tmp_path: Path, corpus_copy: Path, embedder: Embedder) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path / "d")
    with Assistant(settings=s, embedder=embedder, auto_ingest=False) as a:
        a.ingest([corpus_copy])
        n = a.store.count()
    with Assistant(settings=s, embedder=embedder, auto_ingest=False) as b:
        assert b.store.count() == n
        assert not b.ask("Combien d'établissements alimentent le DMP ?").abstained


def test_auto_ingest_of_the_bundled_corpus_on_first_use(tmp_path: Path, corpus_copy: Path, embedder: Embedder) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path / "d", corpus_dir=corpus_copy)
    with Assistant(settings=s, embedder=embedder) as a:
        answer = a.ask("Combien d'établissements alimentent le DMP ?")
        assert a.store.count() > 0 and not answer.abstained


def test_files_and_folders_and_copies(make_assistant, corpus_copy: Path, tmp_path: Path) -> None:
    a = make_assistant()
    single = corpus_copy / "bulletin-mon-espace-sante-2026-01.txt"
    report = a.ingest([single])
    assert report.added == ["corpus/bulletin-mon-espace-sante-2026-01.txt"]
    elsewhere = tmp_path / "elsewhere" / "corpus"
    shutil.copytree(corpus_copy, elsewhere)
    again = a.ingest([elsewhere])  # same ids from another location: nothing new for the seed
    assert "corpus/bulletin-mon-espace-sante-2026-01.txt" in again.unchanged


def test_ingest_writes_by_groups_with_exact_counts(make_assistant, corpus_copy: Path) -> None:
    """A few Chroma write calls per ingest, however many bulletins (not a few per bulletin); new
    bulletins cost no delete; the report's counts are the store's."""
    from collections import Counter

    from .crash import die_at_write

    a = make_assistant()
    a.store.set_dimension(a.embedder.dimension)
    calls: list[str] = []
    with die_at_write(None, calls):
        first = a.ingest([corpus_copy])
    assert len(first.added) == len(list(corpus_copy.glob("*.*"))) > 5
    assert calls == ["modify", "upsert", "upsert", "modify"]  # intent, chunks, records, stamp

    records = a.store.records()
    changed = ["bulletin-urgences-2025-06-12.txt", "bulletin-chiffres-cles-ans-2025-02.md"]
    for name in changed:
        path = corpus_copy / name
        path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase de plus.\n", encoding="utf-8")
    gone = "bulletin-mon-espace-sante-2026-01.txt"
    (corpus_copy / gone).unlink()
    (corpus_copy / "nouveau.txt").write_text("Nouveau bulletin\n\nEn 2026, 12 centres ont ouvert.\n", encoding="utf-8")
    calls.clear()
    with die_at_write(None, calls):
        second = a.ingest([corpus_copy], prune=True)
    # Replaced: intent, their records, their chunks, chunks, records, stamp. Pruned: intent, record, chunks, stamp.
    assert Counter(calls) == {"modify": 4, "delete": 4, "upsert": 2}, calls
    assert sorted(second.updated) == sorted(f"corpus/{n}" for n in changed)
    assert second.added == ["corpus/nouveau.txt"] and second.removed == [f"corpus/{gone}"]
    assert second.chunks_removed == sum(records[f"corpus/{n}"].chunks for n in [*changed, gone])
    per_bulletin = Counter(m["bulletin_id"] for _, _, m in a.store.iter_chunks())
    now = a.store.records()
    assert second.chunks_added == sum(per_bulletin[b] for b in [*second.updated, *second.added])
    assert {b: r.chunks for b, r in now.items()} == dict(per_bulletin) and a.store.pending() == []
    assert a.store.count() == first.chunks_added - second.chunks_removed + second.chunks_added
