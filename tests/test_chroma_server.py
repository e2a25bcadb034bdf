"""Client/server Chroma: a real ``chroma run`` shared by several processes.

One process (``assistant ingest`` in a subprocess) writes while this one answers;
both must see the same data, the lexical index included. Then the server is
restarted with more than 1,500 chunks stored and queried again.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import chromadb
import httpx
import pytest

from assistant import Assistant
from assistant import store as store_module
from assistant.chunking import embed_text
from assistant.embeddings import Embedder
from assistant.errors import StoreBusyError, StoreError
from assistant.settings import Settings
from assistant.store import UNVERSIONED_SERVER, check_server_version

from .conftest import CORPUS
from .conftest_server import ApiServer, ChromaServer, assistant_command, clean_env
from .crash import Died, die_at_write

#: Fixtures (chroma_server, built_store) registered once for the session, shared by the modules using them.
pytest_plugins = ["tests.conftest_server"]

HEADLINE = "Combien d'assurés ont activé Mon Espace Santé ?"
#: Synthetic bulletins: SYNTH_FILES x SYNTH_PARAS chunks (one per short paragraph, ingested with
#: ASSISTANT_CHUNK_TOKENS=60) on top of the corpus's ~90: just past 1,500 chunks, as cheaply as
#: possible, since embedding them is most of this module's time.
SYNTH_FILES = 40
SYNTH_PARAS = 36
SYNTH_CHUNK_TOKENS = "60"
MIN_CHUNKS = 1500

_SYL = ["ka", "lo", "mi", "ra", "te", "zu", "vo", "ne", "di", "pa", "su", "bu"]
_REGIONS = ["Bretagne", "Normandie", "Occitanie", "Alsace", "Picardie", "Corse", "Bourgogne", "Auvergne", "Provence"]
_FIELDS = ["cardiologie", "dermatologie", "pédiatrie", "gériatrie", "psychiatrie", "ophtalmologie", "neurologie"]


def synth_name(i: int) -> str:
    """A made-up word unique to bulletin ``i`` (found by BM25 only if that bulletin is indexed)."""
    r = random.Random(i)
    return "".join(r.choice(_SYL) for _ in range(3)) + "x" + _SYL[i % 12] + _SYL[(i // 12) % 12]


def synth_bulletin(i: int) -> str:
    """A title line, then SYNTH_PARAS short paragraphs: one chunk each at SYNTH_CHUNK_TOKENS."""
    word = synth_name(i)
    paras = [
        f"En {_REGIONS[j % len(_REGIONS)]}, le dispositif {word} a permis {1000 + 37 * i + 11 * j} consultations "
        f"de {_FIELDS[j % len(_FIELDS)]} au trimestre {j % 4 + 1}."
        for j in range(SYNTH_PARAS)
    ]
    return f"Relevé {word}\n\n" + "\n\n".join(paras) + "\n"


# --------------------------------------------------------------------------
# Version check (client and server are the same pinned chromadb)
# --------------------------------------------------------------------------


class _FakeClient:
    def __init__(self, version: str | Exception) -> None:
        self.version = version

    def get_version(self) -> str:
        if isinstance(self.version, Exception):
            raise self.version
        return self.version


@pytest.mark.parametrize(
    ("server", "ok"),
    [
        ("1.5.9", True),
        ("1.5.0", True),
        (UNVERSIONED_SERVER, True),
        ("1.4.2", False),
        ("0.6.3", False),
        ("2.5.9", False),
    ],
)
def test_server_version_must_match_major_minor(server: str, ok: bool) -> None:
    client = _FakeClient(server)
    if ok:
        assert check_server_version(client, "http://x", local="1.5.9") == server
    else:
        with pytest.raises(StoreError, match=r"incompatible avec le client chromadb 1\.5\.9") as info:
            check_server_version(client, "http://x", local="1.5.9")
        assert "chromadb==1.5.9" in (info.value.hint or "")


def test_server_version_unreadable_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="injoignable"):
        check_server_version(_FakeClient(ConnectionError("refused")), "http://x")


def test_real_server_passes_the_version_check(chroma_server: ChromaServer) -> None:
    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server.port)
    assert check_server_version(client, chroma_server.url)
    assert chromadb.__version__ == "1.5.9", "client and server are pinned together: update docs/deployment.md too"


def test_unreachable_server_is_a_clear_store_error(tmp_path: Path, embedder: Embedder) -> None:
    s = Settings.from_env(env={}, data_dir=tmp_path, chroma_url="http://127.0.0.1:9")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9") as info:
        Assistant(settings=s, embedder=embedder, auto_ingest=False).ask(HEADLINE)
    assert "chroma run" in (info.value.hint or "")


# --------------------------------------------------------------------------
# Several processes on one server
# --------------------------------------------------------------------------


def test_a_reindex_by_another_client_is_followed(
    chroma_server: ChromaServer, tmp_path: Path, embedder: Embedder
) -> None:
    """``ingest --reindex`` drops and re-creates the collections: other clients must follow, not fail."""
    s = Settings.from_env(env={}, data_dir=tmp_path, chroma_url=chroma_server.url, collection="reindexed")
    one = CORPUS / "bulletin-mon-espace-sante-2026-01.txt"
    with (
        Assistant(settings=s, embedder=embedder, auto_ingest=False) as reader,
        Assistant(settings=s, embedder=embedder, auto_ingest=False) as other,
    ):
        reader.ingest([one])
        assert reader.ask(HEADLINE).figures[0].value == 24_000_000
        other.ingest([one], reindex=True)  # its own collection handles, like another process
        assert reader.ask(HEADLINE).figures[0].value == 24_000_000
        assert reader.store.count() == other.store.count() > 0
        assert reader.stats().bulletins == 1


def test_a_writer_dying_on_a_shared_server_is_repaired_without_racing_a_live_one(
    chroma_server: ChromaServer, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No lock file protects a server's store: a fresh write intent of another writer may be a live
    ingest's, so a second ingest is refused (409 / exit 3) rather than deleting chunks being written;
    once the intent is stale it is a dead writer's, and the next ingest cleans it up."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("bulletin-mon-espace-sante-2026-01.txt", "bulletin-urgences-2025-06-12.txt"):
        shutil.copy(CORPUS / name, folder / name)
    s = Settings.from_env(env={}, data_dir=tmp_path, chroma_url=chroma_server.url, collection="died")
    with Assistant(settings=s, embedder=embedder, auto_ingest=False) as dying:
        calls: list[str] = []
        # Dies writing the records (both bulletins are one write group): their chunks are in, without
        # their commit markers.
        with die_at_write(2, calls, kind="upsert"), contextlib.suppress(Died):
            dying.ingest([folder])
        first = dying.store.pending()
        assert len(first) == 2 and dying.store.count() > 0 and not dying.store.records()
    with Assistant(settings=s, embedder=embedder, auto_ingest=False) as other:
        with pytest.raises(StoreBusyError, match="Une autre indexation") as busy:
            other.ingest([folder])
        assert busy.value.http_status == 409 and busy.value.exit_code == 3
        assert other.store.pending() == first  # nothing touched
        monkeypatch.setattr(store_module, "STALE_INTENT_S", 0.0)  # as if two minutes had passed
        (folder / first[0].removeprefix("corpus/")).unlink()  # and that bulletin left the folder
        report = other.ingest([folder], prune=True)
        assert report.recovered == first
        assert other.store.pending() == []
        metas = other.store.collection.get(include=["metadatas"])["metadatas"]
        assert {m["bulletin_id"] for m in metas} == set(other.store.records()) == {
            f"corpus/{p.name}" for p in folder.iterdir()
        }


@dataclass
class SharedRun:
    """What this process saw while another process ingested into the shared server."""

    reader: Assistant
    base: Path
    report: dict[str, Any]
    builds_before: int
    answers: list[Any] = field(default_factory=list)
    samples: list[tuple[int, int]] = field(default_factory=list)  # (store count, lexical index size)
    seconds: float = 0.0


@pytest.fixture(scope="module")
def shared_run(
    chroma_server: ChromaServer, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[SharedRun]:
    """This process ingests the corpus, then ``assistant ingest`` (a subprocess) adds ~1,440
    synthetic chunks to the same server while this process keeps answering."""
    base = tmp_path_factory.mktemp("shared")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    synth = base / "synth"
    synth.mkdir()
    for i in range(SYNTH_FILES):
        (synth / f"synth-{i:03d}.txt").write_text(synth_bulletin(i), encoding="utf-8")

    settings = Settings.from_env(env={}, data_dir=base / "reader-data", chroma_url=chroma_server.url)
    reader = Assistant(settings=settings, embedder=embedder, auto_ingest=False)
    reader.ingest([corpus])
    assert reader.ask(HEADLINE).figures[0].value == 24_000_000
    run = SharedRun(reader=reader, base=base, report={}, builds_before=reader.lexical.builds)

    env = clean_env(
        ASSISTANT_CHROMA_URL=chroma_server.url,
        ASSISTANT_DATA_DIR=str(base / "writer-data"),
        ASSISTANT_CHUNK_TOKENS=SYNTH_CHUNK_TOKENS,
    )
    log = base / "ingest.log"
    t0 = time.monotonic()
    last_ask = 0.0
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*assistant_command(), "ingest", "--json", str(synth)], stdout=subprocess.PIPE, stderr=err, env=env
        )
        try:
            while proc.poll() is None:  # light polling: the subprocess needs the CPU to embed
                if time.monotonic() - t0 > 900:
                    raise AssertionError("ingest subprocess still running after 900 s")
                if time.monotonic() - last_ask > 1.0:
                    run.answers.append(reader.ask(HEADLINE))
                    last_ask = time.monotonic()
                run.samples.append((reader.store.count(), len(reader.lexical.current())))
                time.sleep(0.25)
            out = proc.stdout.read() if proc.stdout else b""
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    run.seconds = time.monotonic() - t0
    assert proc.returncode == 0, log.read_text(encoding="utf-8", errors="replace")[-3000:]
    run.report = json.loads(out)
    try:
        yield run
    finally:
        reader.close()


def _settled(a: Assistant, timeout: float = 5.0) -> None:
    """Wait for the lexical index to catch up (it checks the stamp every 0.5 s)."""
    deadline = time.monotonic() + timeout
    while len(a.lexical.current()) != a.store.count() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_other_process_ingest_is_seen_while_answering(shared_run: SharedRun) -> None:
    run, reader = shared_run, shared_run.reader
    added = run.report["chunks_added"]
    sizes = sorted({lex for _, lex in run.samples})
    print(f"\ningest subprocess: {added} chunks in {run.seconds:.0f} s; {len(run.answers)} answers meanwhile;")
    print(f"lexical index sizes seen meanwhile: {sizes[:3]}...{sizes[-3:]} ({len(sizes)} distinct)")
    assert added == SYNTH_FILES * SYNTH_PARAS and not run.report["failed"]
    # Answers stayed right while the other process wrote (no error, no half-built index).
    assert run.answers and all(a.figures and a.figures[0].value == 24_000_000 for a in run.answers)

    _settled(reader)
    count = reader.store.count()
    index = reader.lexical.current()
    assert count > MIN_CHUNKS and len(index) == count
    assert set(index.ids) == {cid for cid, _, _ in reader.store.iter_chunks()}
    assert index.stamp == reader.store.stamp
    assert reader.lexical.builds > run.builds_before, "another process's writes must rebuild the lexical index"

    # Written by the other process, found by this one, lexically and through the whole pipeline.
    rows = index.search(f"dispositif {synth_name(7)}", 5)
    assert rows and index.metas[rows[0][0]]["bulletin_id"] == "synth/synth-007.txt"
    passages = reader.retriever.retrieve(f"consultations du dispositif {synth_name(23)}")
    assert "synth/synth-023.txt" in {p.bulletin_id for p in passages[:5]}


def test_restart_with_large_store_then_query_again(shared_run: SharedRun, chroma_server: ChromaServer) -> None:
    reader = shared_run.reader
    _settled(reader)
    count = reader.store.count()
    assert count > MIN_CHUNKS
    stamp = reader.store.stamp
    probes = [row for i, row in enumerate(reader.store.iter_chunks()) if i % 97 == 5]

    chroma_server.restart()

    # The same client reconnects; nothing changed, so the lexical index is kept.
    assert reader.store.count() == count and reader.store.stamp == stamp
    answer = reader.ask(HEADLINE)
    assert not answer.abstained and answer.figures[0].value == 24_000_000
    # The vector index came back whole: every probe chunk is its own nearest neighbour.
    vectors = reader.embedder.encode([embed_text(meta["title"], text) for _, text, meta in probes])
    for (cid, _, _), vector in zip(probes, vectors, strict=True):
        (got, _, _, distance), *_ = reader.store.query(vector, 1)
        assert got == cid and distance < 1e-3

    # A new process after the restart: the CLI, through the server.
    none = shared_run.base / "none"
    env = clean_env(
        ASSISTANT_CHROMA_URL=chroma_server.url, ASSISTANT_DATA_DIR=str(none), ASSISTANT_CORPUS_DIR=str(none / "corpus")
    )
    r = subprocess.run(
        [*assistant_command(), "ask", "--json", HEADLINE], env=env, capture_output=True, timeout=300, check=False
    )
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-3000:]
    data = json.loads(r.stdout)
    assert not data["abstained"] and data["figures"][0]["value"] == 24_000_000
    assert data["citations"][0]["source"] == "corpus/bulletin-mon-espace-sante-2026-01.txt"
    r = subprocess.run(
        [*assistant_command(), "stats", "--json"], env=env, capture_output=True, timeout=300, check=False
    )
    assert r.returncode == 0 and json.loads(r.stdout)["chunks"] == count


def test_two_api_processes_share_one_store(chroma_server: ChromaServer, tmp_path: Path) -> None:
    """What the embedded store cannot do: two ``assistant serve`` on one store, one ingests, both answer."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    common = {
        "ASSISTANT_CHROMA_URL": chroma_server.url,
        "ASSISTANT_COLLECTION": "two-apis",
        "ASSISTANT_CORPUS_DIR": str(corpus),
        "ASSISTANT_API_KEYS": "k-two-apis",
    }
    servers = [
        ApiServer(tmp_path / f"serve-{n}.log", clean_env(**common, ASSISTANT_DATA_DIR=str(tmp_path / f"data-{n}")))
        for n in ("a", "b")
    ]
    for server in servers:
        server.launch()
    try:
        for server in servers:
            server.wait_ready(timeout=180)
        a, b = (httpx.Client(base_url=s.url, timeout=120, headers={"X-API-Key": "k-two-apis"}) for s in servers)
        with a, b:
            name = "bulletin-mon-espace-sante-2026-01.txt"
            report = a.post("/ingest", files={"files": (name, (CORPUS / name).read_bytes())}).json()
            assert report["added"] == [f"corpus/{name}"] and report["chunks_added"] > 0
            deadline = time.monotonic() + 10
            while b.get("/stats").json()["chunks"] != report["chunks_added"] and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.6)  # one stamp check period: B's lexical index follows
            from_a, from_b = (c.post("/ask", json={"question": HEADLINE}).json() for c in (a, b))
            assert from_b["figures"][0]["value"] == 24_000_000 and from_b["citations"][0]["source"] == f"corpus/{name}"
            assert {k: v for k, v in from_a.items() if k != "timings_ms"} == {
                k: v for k, v in from_b.items() if k != "timings_ms"
            }
            assert "24 millions" in b.get(f"/sources/corpus/{name}").json()["text"]
    finally:
        for server in servers:
            server.stop()
