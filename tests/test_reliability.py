"""Faults and load (issue 7), on the real parts: embedded Chroma, the bundled model, real processes.

* ``kill -9`` of an ingest at random moments, then a re-run: the store equals a clean ingest;
* the same for a writer dying before *each* of its Chroma calls in turn (every crash point);
* a writer killed before its stamp update leaves no reader's BM25 index behind;
* a small store (below Chroma's ``sync_threshold``) reopened by a new process answers as before;
* unreadable bulletins never remove other bulletins' chunks (CLI, with and without ``--prune``);
* a second process on an embedded store gets :class:`StoreLockedError` / exit code 3 in seconds;
* 8 threads x 50 questions on one shared :class:`Assistant` answer exactly as a sequential run;
* one ingest of more chunks than Chroma accepts per call.

Figures (trials, timings) are written to ``tests/artifacts/reliability.json``.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant import Assistant, cli
from assistant.embeddings import Embedder
from assistant.errors import StoreLockedError
from assistant.evaluation import figure_correct, load_gold
from assistant.lexical import LexicalIndex
from assistant.models import Answer
from assistant.retrieval import LexicalCache
from assistant.settings import Settings
from assistant.store import ChunkStore, make_client

from .conftest import CORPUS, GOLD, ROOT
from .crash import Died, die_at_write

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTIFACTS = ROOT / "tests" / "artifacts"
FIGURES: dict[str, Any] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_figures() -> Iterator[None]:
    yield
    if FIGURES:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / "reliability.json"
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        path.write_text(json.dumps({**old, **FIGURES}, indent=2, ensure_ascii=False), encoding="utf-8")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


def _quick_check(store_dir: Path) -> str:
    """SQLite's own consistency check of Chroma's database.

    Read-write on purpose: after a kill the journal is "hot", and SQLite rolls it back on
    the first connection (as Chroma's would); a read-only connection cannot.
    """
    db = store_dir / "chroma" / "chroma.sqlite3"
    conn = sqlite3.connect(db, timeout=10)
    try:
        return "; ".join(str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall())
    finally:
        conn.close()


def check_store(a: Assistant, expected_ids: set[str]) -> None:
    """Everything a crash could break, checked against Chroma itself."""
    col = a.store.collection
    got = col.get(include=["embeddings", "metadatas"])
    ids = list(got["ids"])
    assert len(ids) == len(set(ids)), "duplicated chunk ids"
    assert set(ids) == expected_ids, f"{len(set(ids) - expected_ids)} extra, {len(expected_ids - set(ids))} missing"
    records = a.store.records()
    per_bulletin = Counter(m["bulletin_id"] for m in got["metadatas"])
    assert set(per_bulletin) == set(records), "chunks without a record, or a record without chunks"
    assert {b: r.chunks for b, r in records.items()} == dict(per_bulletin), "partial bulletin"
    nearest = col.query(query_embeddings=got["embeddings"], n_results=1, include=["distances"])
    lost = [cid for cid, top in zip(ids, nearest["ids"], strict=True) if top[0] != cid]
    assert not lost, f"{len(lost)} chunks not found by their own vector"
    assert sorted(LexicalIndex.build(a.store.iter_chunks()).ids) == sorted(ids)
    assert sorted(a.lexical.current().ids) == sorted(ids), "lexical cache out of step with Chroma"
    assert _quick_check(Path(a.settings.data_dir)) == "ok"


# -- kill -9 -----------------------------------------------------------------------------------------------------------

KILL_CHUNK_TOKENS = 16  # one sentence per chunk: many chunks, little to embed
#: Write groups and Chroma batches small enough that the regional corpus (~50 chunks) takes several groups,
#: several chunk and record upserts per group and several deletes: crash points inside each of them.
SMALL_WRITES = {"batch_size": 4, "group_chunks": 30, "group_bulletins": 6}


def _regional_corpus(folder: Path, *, old: bool) -> None:
    """Ten short bulletins; the "old" release differs in three of them and has one more (to prune)."""
    folder.mkdir(parents=True)
    for i in range(10 + old):
        shift = 100 if old and i in (0, 4, 9) else 0
        lines = [
            f"Bulletin régional {i}",
            f"En mars 2025, {120 + 13 * i + shift} centres de vaccination étaient ouverts dans le secteur {i}.",
            f"Le taux de couverture atteint {41 + i} % chez les plus de 65 ans du secteur {i}.",
            f"Le délai moyen pour un rendez-vous est de {12 + i} jours dans le secteur {i}.",
            f"Le budget alloué au secteur {i} s'élève à {3 + i} millions d'euros.",
        ]
        (folder / f"bulletin-{i:02d}-2025-03.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")


class IngestDriver:
    """The fork server of ``tests/fixtures/ingest_driver.py``: one model load, one child per ingest."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(FIXTURES / "ingest_driver.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name="driver-stdout").start()
        assert self.event(180)["event"] == "ready"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put("")

    def event(self, timeout: float = 120) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("ingest driver silent") from None
        assert line, "ingest driver died"
        return json.loads(line)

    def run(self, store: Path, corpus: Path, *, prune: bool, kill: tuple[str, float] | None = None) -> dict[str, Any]:
        """One ingest in a child. ``kill=(event, s)``: SIGKILL it ``s`` seconds after that event. Returns its events."""
        assert self.proc.stdin is not None
        cmd = {
            "store": str(store),
            "paths": [str(corpus)],
            "prune": prune,
            "chunk_tokens": KILL_CHUNK_TOKENS,
            "write_sizes": SMALL_WRITES,  # many write calls (the default writes these ten bulletins in four)
        }
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        events: dict[str, dict[str, Any]] = {}
        while "started" not in events:
            e = self.event()
            events[e["event"]] = e
        if kill is not None:
            after, delay = kill
            while after not in events and "exit" not in events:
                e = self.event()
                events[e["event"]] = e
            time.sleep(delay)
            with contextlib.suppress(ProcessLookupError):  # already finished
                os.kill(events["started"]["pid"], signal.SIGKILL)  # the driver's child, by its pid
        while "exit" not in events:
            e = self.event()
            events[e["event"]] = e
        assert "error" not in events, events["error"].get("traceback")
        return events

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _open(store: Path, embedder: Embedder) -> Assistant:
    settings = Settings.from_env(env={}, data_dir=store, chunk_tokens=KILL_CHUNK_TOKENS)
    return Assistant(settings=settings, embedder=embedder, auto_ingest=False)


def _damage(store: Path) -> dict[str, int]:
    """What a kill left behind, read with a bare Chroma client (opening the store repairs it):
    chunks, records, and bulletins whose chunks do not match their record."""
    client = make_client(path=store / "chroma")
    try:
        chunks, records = client.get_collection("bulletins"), client.get_collection("bulletins-bulletins")
    except Exception:  # killed before the collections existed
        return {"chunks": 0, "records": 0, "partial_bulletins": 0}
    per = Counter(m["bulletin_id"] for m in chunks.get(include=["metadatas"])["metadatas"])
    got = records.get(include=["metadatas"])
    claimed = dict(zip(got["ids"], (int(m["chunks"]) for m in got["metadatas"]), strict=True))
    partial = sum(1 for b in set(per) | set(claimed) if claimed.get(b) != per.get(b, 0))
    return {"chunks": sum(per.values()), "records": len(claimed), "partial_bulletins": partial}


@pytest.mark.slow
def test_kill_9_during_ingest_then_rerun_equals_a_clean_ingest(tmp_path: Path, embedder: Embedder) -> None:
    new, old = tmp_path / "new" / "regions", tmp_path / "old" / "regions"
    _regional_corpus(new, old=False)
    _regional_corpus(old, old=True)
    rng = random.Random(20251129)
    trials: list[dict[str, Any]] = []
    timing: dict[str, tuple[float, float]] = {}
    expected: set[str] = set()
    driver = IngestDriver()
    try:
        # Clean runs: the reference store, and how long each kind of ingest takes (and when writing starts).
        clean = driver.run(tmp_path / "reference", new, prune=False)
        driver.run(tmp_path / "old-store", old, prune=False)
        shutil.copytree(tmp_path / "old-store", tmp_path / "updated", ignore=shutil.ignore_patterns(".assistant.lock"))
        update = driver.run(tmp_path / "updated", new, prune=True)
        for kind, ev in (("fresh", clean), ("update", update)):
            timing[kind] = (ev["exit"]["t"] - ev["started"]["t"], ev["writing"]["t"] - ev["started"]["t"])
        with _open(tmp_path / "reference", embedder) as ref:
            expected.update(cid for cid, _, _ in ref.store.iter_chunks())
            check_store(ref, expected)
        with _open(tmp_path / "updated", embedder) as upd:
            check_store(upd, expected)  # update + prune of the old release == a fresh ingest

        landed = 0
        while landed < 20 and len(trials) < 32:
            n = len(trials)
            kind = "update" if n % 2 else "fresh"
            store = tmp_path / f"trial{n:02d}"
            if kind == "update":
                shutil.copytree(tmp_path / "old-store", store, ignore=shutil.ignore_patterns(".assistant.lock"))
            total, writing = timing[kind]
            # Half the kills anywhere in the run, half once it writes to Chroma (the part that can do damage).
            kill = ("started", rng.uniform(0, total)) if n % 4 < 2 else ("writing", rng.uniform(0, total - writing))
            events = driver.run(store, new, prune=kind == "update", kill=kill)
            killed = events["exit"]["signal"] == signal.SIGKILL
            landed += killed
            trial: dict[str, Any] = {
                "kind": kind,
                "kill_after": [kill[0], round(kill[1], 3)],
                "killed": killed,
                "while_writing": killed and "writing" in events,
            }
            assert _quick_check(store) == "ok"  # SQLite intact right after the kill
            trials.append(trial)
            t0 = time.perf_counter()
            trial["after_kill"] = _damage(store)
            with _open(store, embedder) as a:
                report = a.ingest([new], prune=kind == "update")
                trial["rerun"] = report.summary()
                check_store(a, expected)
            trial["recovery_s"] = round(time.perf_counter() - t0, 2)
    finally:
        driver.close()
        FIGURES["kill_9"] = {
            "clean_ingest_and_first_write_s": {k: [round(x, 2) for x in v] for k, v in timing.items()},
            "chunks": len(expected),
            "trials": len(trials),
            "killed": sum(t["killed"] for t in trials),
            "killed_while_writing": sum(t["while_writing"] for t in trials),
            "left_partial_bulletins": sum(t.get("after_kill", {}).get("partial_bulletins", 0) > 0 for t in trials),
            "details": trials,
        }
    assert landed >= 20, trials
    # The kills did land in the middle of writes, not only before or after them.
    assert any(0 < t["after_kill"]["chunks"] < len(expected) for t in trials if t["kind"] == "fresh"), trials


def test_reader_catches_up_when_a_killed_writer_never_moved_the_stamp(tmp_path: Path, embedder: Embedder) -> None:
    """The state a kill between a bulletin's writes and its stamp update leaves (seen by the test above).

    In one process nothing can go stale; but an API process reading through a Chroma server keeps its
    BM25 index while the stamp is unchanged, so it must also notice that the chunks themselves changed.
    """
    folder = tmp_path / "src" / "regions"
    _regional_corpus(folder, old=False)
    extra = folder / "bulletin-09-2025-03.txt"
    text = extra.read_text(encoding="utf-8")
    extra.unlink()
    with _open(tmp_path / "store", embedder) as writer:
        writer.ingest([folder])
        reader = LexicalCache(writer.store, check_every_s=0)  # another process's cache, in effect
        assert len(reader.current()) == writer.store.count()
        extra.write_text(text, encoding="utf-8")
        with pytest.MonkeyPatch.context() as mp:  # the writer dies right after its writes: no stamp update
            mp.setattr(ChunkStore, "_touch", lambda self, **kw: None)
            writer.ingest([folder])
        assert sorted(reader.current().ids) == sorted(cid for cid, _, _ in writer.store.iter_chunks())


def _small_writes(mp: pytest.MonkeyPatch) -> None:
    mp.setattr(ChunkStore, "batch_size", property(lambda self: SMALL_WRITES["batch_size"]))
    mp.setattr(ChunkStore, "group_chunks", SMALL_WRITES["group_chunks"])
    mp.setattr(ChunkStore, "group_bulletins", SMALL_WRITES["group_bulletins"])


def _every_crash_point(tmp_path: Path, embedder: Embedder, start: str, crashed_run: str, rerun: str) -> list[str]:
    """Die before each Chroma write call of an ingest (``prune=True``) in turn, re-ingest, check the store.
    Returns the clean run's write calls; raises AssertionError naming the first crash point that breaks."""
    corpora = {"new": tmp_path / "new" / "regions", "old": tmp_path / "old" / "regions"}
    _regional_corpus(corpora["new"], old=False)
    _regional_corpus(corpora["old"], old=True)
    with _open(tmp_path / "reference", embedder) as ref:
        ref.ingest([corpora["new"]])
        expected = {cid for cid, _, _ in ref.store.iter_chunks()}
    if start == "old":
        with _open(tmp_path / "start", embedder) as a:
            a.ingest([corpora["old"]])
    else:
        (tmp_path / "start").mkdir()

    def trial(n: int | None) -> list[str]:
        store = tmp_path / f"crash-{n}"
        shutil.copytree(tmp_path / "start", store, ignore=shutil.ignore_patterns(".assistant.lock"))
        calls: list[str] = []
        with _open(store, embedder) as a, die_at_write(n, calls), contextlib.suppress(Died):
            a.ingest([corpora[crashed_run]], prune=True)
        if n is not None:
            with _open(store, embedder) as a:
                report = a.ingest([corpora[rerun]], prune=True)
                assert not report.failed
                check_store(a, expected)
        shutil.rmtree(store)
        return calls

    writes = trial(None)  # the clean run: how many write calls there are to die at
    for n in range(1, len(writes) + 1):
        try:
            trial(n)
        except AssertionError as exc:
            raise AssertionError(f"dying at write {n}/{len(writes)} ({writes[n - 1]}): {exc}") from exc
    return writes


@pytest.mark.parametrize("sizes", ["default", "small"])
@pytest.mark.parametrize(
    ("start", "crashed_run", "rerun"),
    [
        ("empty", "new", "new"),  # first ingest dies, same ingest again
        ("old", "new", "new"),  # update + prune dies, same ingest again
        ("empty", "old", "new"),  # first ingest of the old release dies; the folder changes (one bulletin gone)
    ],
)
def test_a_writer_dying_at_any_chroma_call_is_repaired_by_the_next_ingest(
    tmp_path: Path,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    start: str,
    crashed_run: str,
    rerun: str,
    sizes: str,
) -> None:
    """Every crash point, not random ones: each Chroma call is atomic, so dying before the n-th
    write call is exactly what a ``kill -9`` between two calls leaves on disk (the test above
    checks that against real kills). The next ingest must give a clean store.

    With the default sizes the ten bulletins are one write group (a handful of calls: what an
    ingest does); with small ones, several groups of several batches each."""
    if sizes == "small":
        _small_writes(monkeypatch)
    writes = _every_crash_point(tmp_path, embedder, start, crashed_run, rerun)
    counts = Counter(writes)
    if sizes == "default":  # one group: intent, one upsert of chunks and one of records, stamp
        assert counts["upsert"] == 2 and counts["modify"] <= 5, writes  # (+ the dimension; + prune's intent, stamp)
        assert counts["delete"] == 4 * (start == "old"), writes  # replaced records, their chunks; same for the pruned
    else:  # several groups, several batches each
        assert counts["upsert"] >= 5 and counts["modify"] >= 4 and len(writes) >= 15, writes
        assert counts["delete"] >= 4 * (start == "old"), writes
    FIGURES.setdefault("crash_points", {})[f"{start}+{crashed_run}->{rerun} ({sizes})"] = len(writes)


def test_every_crash_point_check_catches_records_written_before_chunks(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above, on a deliberately wrong write order (each group's records before its chunks):
    it must fail, else it would not catch a real regression."""
    from assistant.store import _bulletin_meta

    write_group = ChunkStore._write_group

    def records_first(self: ChunkStore, group: Any, size: int, *, now: str) -> int:
        for bulletin, chunks, _ in group:
            meta = {**_bulletin_meta(bulletin), "content_hash": bulletin.content_hash, "chunks": len(chunks)}
            self._docs.upsert(ids=[bulletin.id], embeddings=[[1.0]], documents=[bulletin.text], metadatas=[meta])
        return write_group(self, group, size, now=now)

    monkeypatch.setattr(ChunkStore, "_write_group", records_first)
    with pytest.raises(AssertionError, match=r"dying at write \d+/\d+"):
        _every_crash_point(tmp_path, embedder, "empty", "new", "new")


def test_reopening_an_embedded_store_removes_a_half_written_bulletin_before_any_answer(
    tmp_path: Path, embedder: Embedder
) -> None:
    folder = tmp_path / "src" / "corpus"
    folder.mkdir(parents=True)
    shutil.copy(CORPUS / "bulletin-mon-espace-sante-2026-01.txt", folder)
    question = "Combien d'assurés ont activé Mon Espace Santé ?"
    with _open(tmp_path / "store", embedder) as a:
        with die_at_write(2, [], kind="upsert"), contextlib.suppress(Died):  # dies writing the record
            a.ingest([folder])
        assert a.store.count() > 0 and not a.store.records()
        assert not a.ask(question).abstained  # the half-written chunks are found while this writer lives
    assert _damage(tmp_path / "store")["partial_bulletins"] == 1
    with _open(tmp_path / "store", embedder) as a:  # the next process on the store
        assert a.store.count() == 0 and a.store.pending() == []
        answer = a.ask(question)
        assert answer.abstained and not answer.citations
        a.ingest([folder])
        assert a.ask(question).figures[0].value == 24_000_000


# -- reopen after a clean exit, and concurrent questions ---------------------------------------------------------------


@pytest.fixture(scope="module")
def reopened(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[dict[str, Any]]:
    """A store written by another process that answered every gold question, then exited normally."""
    root = tmp_path_factory.mktemp("reopen")
    corpus = root / "src" / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    out = root / "before.json"
    subprocess.run(
        [sys.executable, str(FIXTURES / "answer_gold.py"), str(root / "store"), str(out), str(corpus)],
        check=True,
        cwd=ROOT,
        env=_env(),
        timeout=900,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = json.loads(out.read_text(encoding="utf-8"))
    settings = Settings.from_env(env={}, data_dir=root / "store")
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a:
        yield {"assistant": a, "before": before, "settings": settings, "sequential": {}, "corpus": corpus}


def _answer(a: Assistant, item: Any) -> dict[str, Any]:
    data = a.ask(item.question, history=item.history).to_dict()
    data.pop("timings_ms")
    return data


def _sequential(fx: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every gold question asked one after the other in this process (computed once)."""
    if not fx["sequential"]:
        fx["sequential"].update({item.id: _answer(fx["assistant"], item) for item in load_gold(GOLD)})
    return fx["sequential"]


def test_small_store_reopened_by_a_new_process_answers_as_before(reopened: dict[str, Any]) -> None:
    before = reopened["before"]
    assert 0 < before["chunks"] < before["sync_threshold"] == 1000  # the HNSW index was never flushed by size
    a: Assistant = reopened["assistant"]
    assert a.store.count() == before["chunks"]
    t0 = time.perf_counter()
    after = _sequential(reopened)
    FIGURES["reopen"] = {"questions": len(after), "seconds": round(time.perf_counter() - t0, 1)}
    gold = {item.id: item for item in load_gold(GOLD)}
    differ = [qid for qid in gold if after[qid] != before["answers"][qid]]
    assert not differ, differ
    correct = sum(figure_correct(gold[q], Answer.model_validate(after[q])) for q in gold)
    assert correct == sum(figure_correct(gold[q], Answer.model_validate(before["answers"][q])) for q in gold)
    FIGURES["reopen"]["correct"] = correct


@pytest.mark.slow
def test_eight_threads_share_one_assistant_and_answer_like_a_sequential_run(
    reopened: dict[str, Any], embedder: Embedder
) -> None:
    """A fresh (cold) Assistant on the same store, as the Streamlit cache / HTTP API share one.

    A ninth thread re-ingests the (unchanged) corpus meanwhile, as ``POST /ingest`` may.
    """
    items = load_gold(GOLD)[:50]
    expected = _sequential(reopened)
    shared = Assistant(settings=reopened["settings"], embedder=embedder, auto_ingest=False)
    barrier = threading.Barrier(9)
    ingests: list[str] = []
    results: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            order = items[n * 6 :] + items[: n * 6]  # every thread in another order
            results[n] = [(item.id, _answer(shared, item)) for item in order]
        except BaseException as exc:  # collected: an exception in a thread must fail the test
            errors.append(exc)

    def writer() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                ingests.append(shared.ingest([reopened["corpus"]]).summary())
                time.sleep(0.5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=f"asker-{n}") for n in range(8)]
    threads.append(threading.Thread(target=writer, name="writer"))
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    elapsed = time.perf_counter() - t0
    shared.close()
    FIGURES["threads_8x50"] = {"questions": 400, "seconds": round(elapsed, 1), "lexical_builds": shared.lexical.builds}
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, repr(errors[0])
    mismatches = [(n, qid) for n, got in results.items() for qid, data in got if data != expected[qid]]
    assert len(results) == 8 and all(len(r) == 50 for r in results.values())
    assert not mismatches, mismatches[:5]
    assert len(ingests) == 3 and all(" 0 added, 0 updated" in f" {r}" for r in ingests), ingests
    assert shared.lexical.builds == 1  # eight cold threads, one BM25 build


# -- bad bulletins through the CLI -------------------------------------------------------------------------------------


def test_cli_unreadable_bulletins_never_remove_other_chunks(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "src" / "corpus"
    folder.mkdir(parents=True)
    for name in ("bulletin-urgences-2025-06-12.txt", "bulletin-chiffres-cles-ans-2025-02.md"):
        shutil.copy(CORPUS / name, folder / name)
    store = tmp_path / "store"
    monkeypatch.setattr(  # the real commands, with the session's model instead of a second copy
        cli,
        "_assistant",
        lambda s, u, **kw: Assistant(settings=Settings.from_env(env={}, data_dir=s), embedder=embedder, **kw),
    )
    runner = CliRunner()

    def ingest(*extra: str) -> Any:
        result = runner.invoke(cli.app, ["ingest", str(folder), "--store", str(store), *extra])
        assert "Traceback" not in result.output
        return result

    def chunk_ids() -> list[str]:
        with Assistant(settings=Settings.from_env(env={}, data_dir=store), embedder=embedder) as a:
            return sorted(cid for cid, _, _ in a.store.iter_chunks())

    assert ingest().exit_code == 0
    ids = chunk_ids()
    (folder / "vide.md").write_bytes(b"")
    (folder / "binaire.html").write_bytes(b"\x89PNG\x00\x00")
    (folder / "latin1.txt").write_bytes("Fréquentation : 12 % de hausse".encode("latin-1"))
    # A bulletin that was fine becomes unreadable: its chunks must stay too.
    (folder / "bulletin-urgences-2025-06-12.txt").write_bytes(b"\xff\xfe\x00\x00")
    for extra in ((), ("--prune",), ("--prune", "--json")):
        result = ingest(*extra)
        assert result.exit_code == 0, result.output
        if "--json" in extra:
            report = json.loads(result.stdout)
            assert not report["removed"] and len(report["failed"]) == 4
        else:
            assert result.output.count("Ignoré") == 4 and "0 removed" in result.output
        assert chunk_ids() == ids, extra


# -- two processes on one embedded store -------------------------------------------------------------------------------

HOLDER = (
    "import sys, time\n"
    "from assistant import Assistant\n"
    "a = Assistant(store_dir=sys.argv[1], auto_ingest=False)\n"
    "print(a.stats().chunks, flush=True)\n"
    "time.sleep(600)\n"
)


def test_second_process_on_an_embedded_store_gets_a_clear_error_fast(tmp_path: Path, embedder: Embedder) -> None:
    data = tmp_path / "data"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_env()
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "0"  # it holds the store
        t0 = time.perf_counter()
        with pytest.raises(StoreLockedError) as info:
            Assistant(settings=Settings.from_env(env={}, data_dir=data), embedder=embedder).stats()
        waited = time.perf_counter() - t0
        assert waited < 10, waited
        assert "serveur Chroma" in str(info.value) and "ASSISTANT_CHROMA_URL" in str(info.value)

        # The CLI, as a real second process: exit code 3 and a message naming the Chroma server, no hang.
        commands = [["ask", "Combien d'assurés ?"], ["ingest", str(CORPUS)]]
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "assistant.cli", *cmd, "--store", str(data)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
                env=_env(),
            )
            for cmd in commands
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        FIGURES["store_locked"] = {
            "in_process_s": round(waited, 2),
            "cli_2_processes_s": round(time.perf_counter() - t0, 1),
        }
        for p, (out, err) in zip(procs, outputs, strict=True):
            assert p.returncode == 3, (p.args, out, err)
            assert "déjà ouvert par un autre processus" in err and "serveur Chroma" in err, err
            assert "Traceback" not in err
        # A holder killed with -9 leaves its lock file behind; the lock itself dies with it.
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        with Assistant(settings=Settings.from_env(env={}, data_dir=data), embedder=embedder) as a:
            assert a.stats().chunks == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


# -- more chunks than Chroma takes in one call -------------------------------------------------------------------------


@pytest.mark.slow
def test_ingest_of_more_chunks_than_chromas_batch_limit(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings.from_env(env={}, data_dir=tmp_path / "store", chunk_tokens=16)
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a:
        limit = int(a.store.client.get_max_batch_size())
        folder = tmp_path / "src" / "volume"
        folder.mkdir(parents=True)
        lines = ["Sites"] + [f"Site {i} : {i % 97} cas." for i in range(limit + 150)]  # ~10 tokens a chunk
        (folder / "releve-2025-05.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        t0 = time.perf_counter()
        report = a.ingest([folder])
        seconds = time.perf_counter() - t0
        FIGURES["big_ingest"] = {"chunks": report.chunks_added, "chroma_limit": limit, "seconds": round(seconds, 1)}
        assert not report.failed and report.chunks_added > limit
        ids = {cid for cid, _, _ in a.store.iter_chunks()}
        assert len(ids) == a.store.count() == report.chunks_added
        assert a.store.records()["volume/releve-2025-05.txt"].chunks == report.chunks_added
        assert len(a.lexical.current()) == report.chunks_added
        answer = a.ask("Combien de cas sur le site 4321 ?")
        assert not answer.abstained and answer.citations[0].quote == "Site 4321 : 53 cas."
        # Removing it deletes more ids than one call takes, too.
        (folder / "releve-2025-05.txt").unlink()
        pruned = a.ingest([folder], prune=True)
        assert pruned.chunks_removed == report.chunks_added and a.store.count() == 0
