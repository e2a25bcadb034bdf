"""The Chroma store: chunk vectors plus one record per bulletin.

Two collections live in one Chroma database:

* ``<name>`` — one record per chunk (vector, text, offsets, bulletin metadata);
  its collection metadata records the schema version, the embedding model and
  dimension, a version stamp that changes on every write (the lexical index
  beside the store rebuilds itself when the stamp moves), and the bulletins a
  writer is changing right now ("pending", the write intent);
* ``<name>-bulletins`` — one record per bulletin (full text and metadata), which
  is what citations are located in, and the "commit marker" of an ingest: it is
  written last, so a bulletin without a record is redone by the next ingest, and
  the chunks a dead writer left for it are removed (:meth:`ChunkStore.recover`).

Embedded mode uses a ``PersistentClient`` owned by one process (guarded by a
lock file); several processes share a Chroma server through ``HttpClient``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np
from filelock import FileLock, Timeout

from .errors import ModelMismatchError, SchemaVersionError, StoreBusyError, StoreError, StoreLockedError
from .models import Bulletin, Chunk, Filters, StoreStats

#: Version of the layout this code writes; stores from other versions are refused.
SCHEMA_VERSION = 1

#: On a shared server, another writer's intent younger than this is taken as a live writer's
#: (one bulletin's writes take well under a second to a few seconds), older as a dead one's.
STALE_INTENT_S = 120.0

log = logging.getLogger(__name__)

_Item = TypeVar("_Item", bound=tuple[Any, ...])  # (bulletin, chunks, ...) for ChunkStore.groups

_PAGE = 10_000  # rows per Chroma read: 100k chunks are read back ~35 % faster than with 2,000
_IN = 1_000  # bulletin ids per ``$in`` filter when reading their chunks
_RECORD_CHARS = 8_000_000  # bulletin text per record upsert (a request body, on a server)

#: A write group (:meth:`ChunkStore.groups`): at most this many chunks to write, and bulletins. It bounds
#: memory, the intent's size and what a crash leaves to clean up; it is near Chroma's batch limit, so a
#: group's chunks go in one or two calls.
GROUP_CHUNKS = 5_000
GROUP_BULLETINS = 1_000


@dataclass(frozen=True, slots=True)
class BulletinRecord:
    id: str
    title: str
    date: date | None
    content_hash: str
    chunks: int
    source: str | None = None
    url: str | None = None
    path: str | None = None
    ingested_at: str | None = None


def date_num(d: date | None) -> int:
    """Dates as YYYYMMDD integers: Chroma filters compare numbers, not strings."""
    return d.year * 10000 + d.month * 100 + d.day if d else 0


def _parse_date(text: Any) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


# One lock per store folder per process: the embedded store belongs to one process,
# but several Assistant objects inside it (tests, Streamlit sessions) may share it.
_LOCKS: dict[Path, tuple[FileLock, int]] = {}
_LOCKS_GUARD = threading.Lock()


def _acquire(path: Path, timeout: float) -> None:
    with _LOCKS_GUARD:
        lock, n = _LOCKS.get(path, (None, 0))
        if lock is None:
            lock = FileLock(str(path / ".assistant.lock"), thread_local=False)
            try:
                lock.acquire(timeout=timeout)
            except Timeout:
                raise StoreLockedError(
                    f"Le magasin {path} est déjà ouvert par un autre processus.",
                    hint="Un magasin embarqué ne sert qu'un processus : arrêtez l'autre, ou partagez le magasin "
                    "via un serveur Chroma (chroma run --path DIR --port 8000, puis ASSISTANT_CHROMA_URL).",
                ) from None
        _LOCKS[path] = (lock, n + 1)


def _release(path: Path) -> None:
    with _LOCKS_GUARD:
        lock, n = _LOCKS.get(path, (None, 0))
        if lock is None:
            return
        if n <= 1:
            lock.release()
            del _LOCKS[path]
        else:
            _LOCKS[path] = (lock, n - 1)


#: What every Chroma 1.x server answers on /api/v2/version, whatever its release
#: (chroma-core/chroma#4849): with it only the major version can be compared.
UNVERSIONED_SERVER = "1.0.0"


def check_server_version(client: Any, where: str, local: str | None = None) -> str:
    """Refuse a Chroma server whose major.minor differs from the installed chromadb.

    Client and server are the same pinned ``chromadb`` package; a server from
    another release may answer the same calls with another storage or API
    behaviour, so the mismatch is stopped at connect time with a clear message.
    """
    if local is None:
        import chromadb

        local = str(chromadb.__version__)
    try:
        server = str(client.get_version())
    except Exception as exc:
        raise StoreError(
            f"Serveur Chroma injoignable ({where}) : {exc}",
            hint="Vérifiez que le serveur Chroma tourne (chroma run --path DIR --port N).",
        ) from None

    def major_minor(version: str) -> tuple[str, ...]:
        return tuple(version.strip().lstrip("v").split(".")[:2])

    same_major = major_minor(server)[:1] == major_minor(local)[:1]
    if server == UNVERSIONED_SERVER and same_major:
        return server  # a 1.x server that does not tell its minor version: accepted
    if major_minor(server) != major_minor(local):
        raise StoreError(
            f"Version du serveur Chroma ({server}, {where}) incompatible avec le client chromadb {local}.",
            hint=f"Client et serveur sont le même paquet, épinglé : lancez le serveur avec chromadb=={local} "
            "(voir docs/deployment.md).",
        )
    return server


def make_client(*, path: Path | None = None, url: str | None = None) -> Any:
    """A Chroma client: HTTP when ``url`` is given, else embedded at ``path``."""
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    try:
        if url:
            parsed = urlparse(url if "//" in url else f"http://{url}")
            return chromadb.HttpClient(
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=settings,
            )
        assert path is not None
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:
        where = url or str(path)
        raise StoreError(
            f"Impossible d'ouvrir le magasin Chroma ({where}) : {exc}",
            hint="Vérifiez que le serveur Chroma tourne (chroma run --path DIR --port N)." if url else None,
        ) from None


class ChunkStore:
    """Chunks and bulletins in Chroma, behind the operations the pipeline needs."""

    def __init__(
        self,
        client: Any,
        *,
        model_name: str,
        dimension: int | None,
        name: str = "bulletins",
        lock_path: Path | None = None,
        lock_timeout: float = 3.0,
        location: str = "",
    ) -> None:
        """Open (or create) the collections.

        ``dimension`` may be None to open without knowing the model yet (stats,
        reads); the model check then happens on first write/query.
        """
        self.client = client
        self.name = name
        self.model_name = model_name
        self.location = location
        self._lock_path = lock_path
        self._writer = uuid.uuid4().hex  # names this store object's write intents
        self._texts = _BulletinCache()
        if lock_path is not None:
            _acquire(lock_path, lock_timeout)
        try:
            self._chunks = self._open(name, dimension)
            self._docs = self.client.get_or_create_collection(f"{name}-bulletins", embedding_function=None)
        except Exception:
            self.close()
            raise

    @classmethod
    def open(
        cls,
        *,
        model_name: str,
        dimension: int | None,
        path: Path | None = None,
        url: str | None = None,
        name: str = "bulletins",
        lock_timeout: float = 3.0,
    ) -> ChunkStore:
        if url:
            client = make_client(url=url)
            check_server_version(client, url)
            return cls(client, model_name=model_name, dimension=dimension, name=name, location=url)
        assert path is not None
        path.mkdir(parents=True, exist_ok=True)
        _acquire(path, lock_timeout)  # before Chroma touches the files
        try:
            client = make_client(path=path)
            store = cls(
                client,
                model_name=model_name,
                dimension=dimension,
                name=name,
                lock_path=path,
                lock_timeout=lock_timeout,
                location=str(path),
            )
        finally:
            _release(path)  # the instance holds its own reference
        # The store is ours alone (the lock): clean up after a writer that died in it now, so
        # that no answer comes from a half-written bulletin before the next ingest.
        try:
            recovered = store.recover()
        except BaseException:
            store.close()
            raise
        if recovered:
            log.warning("Indexation interrompue réparée : %s", ", ".join(recovered))
        return store

    @staticmethod
    def drop(
        *, path: Path | None = None, url: str | None = None, name: str = "bulletins", lock_timeout: float = 3.0
    ) -> None:
        """Delete the store's collections without opening them (a store of another model or schema
        cannot be opened: this is how ``--reindex`` starts over). Holds the embedded lock meanwhile."""
        local = None if url else path
        if local is not None:
            local.mkdir(parents=True, exist_ok=True)
            _acquire(local, lock_timeout)
        try:
            client = make_client(path=local, url=url)
            for n in (name, f"{name}-bulletins"):
                with contextlib.suppress(Exception):  # absent already
                    client.delete_collection(n)
        finally:
            if local is not None:
                _release(local)

    def close(self) -> None:
        if self._lock_path is not None:
            _release(self._lock_path)
            self._lock_path = None

    # -- collection metadata -------------------------------------------------
    def _open(self, name: str, dimension: int | None) -> Any:
        try:
            col = self.client.get_collection(name)
        except Exception:
            col = None
        if col is None:
            meta = {
                "schema_version": SCHEMA_VERSION,
                "embedding_model": self.model_name,
                "dimension": int(dimension or 0),
                "stamp": uuid.uuid4().hex,
            }
            try:
                return self.client.get_or_create_collection(
                    name, embedding_function=None, metadata=meta, configuration={"hnsw": {"space": "cosine"}}
                )
            except Exception as exc:
                raise StoreError(f"Création de la collection « {name} » impossible : {exc}") from None
        self._check(col.metadata or {}, dimension)
        return col

    def _check(self, meta: dict[str, Any], dimension: int | None) -> None:
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            raise SchemaVersionError(
                f"Ce magasin a été écrit par une autre version du projet (schéma {version}, attendu {SCHEMA_VERSION}).",
                hint="Réindexez : assistant ingest --reindex corpus/ (ou supprimez le dossier du magasin).",
            )
        stored = meta.get("embedding_model")
        stored_dim = int(meta.get("dimension") or 0)
        if stored != self.model_name or (dimension and stored_dim and stored_dim != dimension):
            raise ModelMismatchError(
                f"Ce magasin a été construit avec le modèle « {stored} » (dimension {stored_dim}), "
                f"pas avec « {self.model_name} »" + (f" (dimension {dimension})." if dimension else "."),
                hint="Réindexez avec le nouveau modèle : assistant ingest --reindex corpus/ "
                "(ou revenez au modèle d'origine via ASSISTANT_EMBEDDING_MODEL).",
            )

    def metadata(self) -> dict[str, Any]:
        try:
            col = self.client.get_collection(self.name)
        except Exception as exc:
            raise StoreError(f"Magasin Chroma injoignable : {exc}") from None
        if col.id != self._chunks.id:
            self._reattach(col)
        return dict(col.metadata or {})

    def _reattach(self, col: Any) -> None:
        """Follow collections re-created by another process (``ingest --reindex`` on a shared server).

        Collection handles carry an id: after a re-index elsewhere they name deleted
        collections and every call would fail until a restart. The stamp check (every
        0.5 s, lexical index) and a failed query come here and switch to the new ones.
        """
        self._check(col.metadata or {}, None)
        self._chunks = col
        self._docs = self.client.get_or_create_collection(f"{self.name}-bulletins", embedding_function=None)

    @property
    def stamp(self) -> str:
        """Changes whenever chunks are added or removed (by any process)."""
        return str(self.metadata().get("stamp", ""))

    def _touch(self, **extra: Any) -> None:
        meta = self.metadata()  # modify() replaces the whole dict: read, then write back
        meta.update(extra)
        meta["stamp"] = uuid.uuid4().hex
        self._chunks.modify(metadata=meta)
        self._texts.clear()

    def set_dimension(self, dimension: int) -> None:
        meta = self.metadata()
        if int(meta.get("dimension") or 0) == 0:
            meta["dimension"] = dimension
            self._chunks.modify(metadata=meta)
        else:
            self._check(meta, dimension)

    def reset(self, dimension: int) -> None:
        """Drop everything and start again with the current model (re-index)."""
        self._texts.clear()
        for n in (self.name, f"{self.name}-bulletins"):
            with contextlib.suppress(Exception):
                self.client.delete_collection(n)
        self._chunks = self.client.create_collection(
            self.name,
            embedding_function=None,
            metadata={
                "schema_version": SCHEMA_VERSION,
                "embedding_model": self.model_name,
                "dimension": dimension,
                "stamp": uuid.uuid4().hex,
            },
            configuration={"hnsw": {"space": "cosine"}},
        )
        self._docs = self.client.get_or_create_collection(f"{self.name}-bulletins", embedding_function=None)

    # -- bulletins -------------------------------------------------------------
    def records(self) -> dict[str, BulletinRecord]:
        out: dict[str, BulletinRecord] = {}
        for ids, metas, _ in self._pages(self._docs, include=["metadatas"]):
            for i, m in zip(ids, metas, strict=True):
                out[i] = _record(i, m or {})
        return out

    def bulletin(self, bulletin_id: str) -> Bulletin | None:
        """One bulletin with its full text (what citations point into).

        The reader asks for the same few bulletins many times per question (one Chroma
        read each, ~1-5 ms): recent ones are kept while the store's stamp does not move.
        Own writes clear them at once; another process' writes within 0.5 s, as for the
        lexical index (:class:`~assistant.retrieval.LexicalCache`).
        """
        cache = self._texts
        cache.check(lambda: self.stamp)
        found = cache.get(bulletin_id)
        if found is None:
            found = self._read_bulletin(bulletin_id)
            if found is not None:
                cache.put(found)
        return found

    def prefetch_bulletins(self, bulletin_ids: Iterable[str]) -> None:
        """Read the bulletins not cached yet in one Chroma call (the retriever calls it for its passages,
        which the reader then asks for one by one)."""
        cache = self._texts
        cache.check(lambda: self.stamp)
        missing = sorted({b for b in bulletin_ids if cache.get(b) is None})
        if missing:
            for found in self._read_bulletins(missing):
                cache.put(found)

    def _read_bulletin(self, bulletin_id: str) -> Bulletin | None:
        found = self._read_bulletins([bulletin_id])
        return found[0] if found else None

    def _read_bulletins(self, bulletin_ids: Sequence[str]) -> list[Bulletin]:
        got = self._docs.get(ids=list(bulletin_ids), include=["documents", "metadatas"])
        out = []
        for bid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            m = meta or {}
            out.append(
                Bulletin(
                    id=bid,
                    title=str(m.get("title", "")),
                    text=doc or "",
                    date=_parse_date(m.get("date")),
                    path=str(m.get("path", "")),
                    source=m.get("source"),
                    url=m.get("url"),
                    content_hash=str(m.get("content_hash", "")),
                    **_layout(m),
                )
            )
        return out

    # -- writes: intent first, then chunks, then the record ---------------------
    #
    # A writer can die between any two Chroma calls (each call is atomic on its own).
    # Before touching bulletins, their ids are written to the collection metadata as
    # "pending"; the final stamp update clears them. A bulletin's record is written after
    # all its chunks, and deleted before them, so a record always means complete chunks.
    # What a dead writer can leave is therefore only chunks of a *pending* bulletin
    # without a record; :meth:`recover` (run by the next ingest) removes them, even if
    # that bulletin has since disappeared from disk and would not be redone.
    #
    # Writes go by groups of bulletins (:meth:`groups`): one intent, one delete of the
    # replaced records, one read of the group's old chunks and a few deletes of them (none
    # for new bulletins), the new chunks and records in batches of :attr:`batch_size`, one
    # stamp. A group is bounded (:attr:`group_chunks`, :attr:`group_bulletins`), and so is
    # what a crash leaves to clean up.

    #: Most chunks (to write) and bulletins in one write group.
    group_chunks = GROUP_CHUNKS
    group_bulletins = GROUP_BULLETINS

    def pending(self) -> list[str]:
        """Bulletins a writer started changing and did not finish (normally empty)."""
        return _pending_ids(self.metadata())

    @contextlib.contextmanager
    def _changing(self, bulletin_ids: Sequence[str], **touch: Any) -> Iterator[None]:
        """Declare the bulletins about to change; on success move the stamp and clear the intent.

        On an exception the intent stays, as after a crash, and the next ingest recovers. An
        intent still there (a dead writer's, or an earlier write of this one that failed) is
        recovered first: replacing it would forget the chunks it may have left.
        """
        meta = self.metadata()
        if _pending_ids(meta):
            self.recover()
            meta = self.metadata()
        meta.update(
            pending=json.dumps(sorted(set(bulletin_ids)), ensure_ascii=False),
            pending_at=time.time(),
            writer=self._writer,
        )
        self._chunks.modify(metadata=meta)
        self._texts.clear()
        yield
        self._touch(pending="[]", **touch)

    def recover(self) -> list[str]:
        """Remove what a writer that died left behind; returns the bulletins cleaned up.

        An embedded store is this process's alone (its lock), so any intent left in it is a
        dead writer's. On a shared server a recent intent of another writer may be a live
        ingest's: :class:`StoreBusyError` rather than deleting chunks it is writing.
        """
        meta = self.metadata()
        pending = _pending_ids(meta)
        if not pending:
            return []
        age = time.time() - float(meta.get("pending_at") or 0)
        if self._lock_path is None and meta.get("writer") != self._writer and age < STALE_INTENT_S:
            raise StoreBusyError(
                f"Une autre indexation écrit dans ce magasin partagé (il y a {age:.0f} s).",
                hint=f"Réessayez quand elle est finie ; si elle a été interrompue, dans {STALE_INTENT_S - age:.0f} s "
                "la suivante réparera ce qu'elle a laissé. Une seule indexation à la fois par magasin.",
            )
        committed = set(self._docs.get(ids=pending, include=[])["ids"])
        removed = self._delete_chunks([b for b in pending if b not in committed])
        self._touch(pending="[]")
        return [b for b in pending if removed[b]]

    def groups(self, items: Iterable[_Item]) -> Iterator[list[_Item]]:
        """``(bulletin, chunks, ...)`` items cut into write groups, lazily: at most :attr:`group_chunks`
        chunks (a bigger bulletin alone) and :attr:`group_bulletins` bulletins, each bulletin once."""
        group: list[_Item] = []
        ids: set[str] = set()
        chunks = 0
        for item in items:
            bulletin, item_chunks = item[0], item[1]
            full = chunks + len(item_chunks) > self.group_chunks or len(group) >= self.group_bulletins
            if group and (full or bulletin.id in ids):
                yield group
                group, ids, chunks = [], set(), 0
            group.append(item)
            ids.add(bulletin.id)
            chunks += len(item_chunks)
        if group:
            yield group

    def put_bulletins(self, group: Sequence[tuple[Bulletin, Sequence[Chunk], np.ndarray]]) -> int:
        """Write a group of bulletins, new ones or new versions; returns the number of old chunks removed.

        In order: the intent (every bulletin of the group); the records of those already
        stored (commit markers go first), then the old chunks of the group; every new chunk,
        then every record; the stamp, which clears the intent. The old chunks are found with
        one read for the whole group (indexed on ``bulletin_id``, a few ms): new bulletins cost
        no delete, yet chunks left without a record by any earlier writer are removed too.
        """
        if not group:
            return 0
        ids = [b.id for b, _, _ in group]
        if len(set(ids)) != len(ids):
            raise ValueError("a write group holds each bulletin once (see ChunkStore.groups)")
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._changing(ids, last_ingest=now):
            self._delete_records(self._docs.get(ids=ids, include=[])["ids"])
            removed = sum(self._delete_chunks(ids).values())
            self._write_group(group, self.batch_size, now=now)
        return removed

    def replace_bulletin(self, bulletin: Bulletin, chunks: Sequence[Chunk], vectors: np.ndarray) -> int:
        """Write a bulletin in place of its previous version; returns the number of old chunks removed."""
        return self.put_bulletins([(bulletin, chunks, vectors)])

    def delete_bulletins(self, bulletin_ids: Sequence[str]) -> int:
        """Remove bulletins (records, then chunks), by groups; returns the number of chunks removed."""
        ids = list(dict.fromkeys(bulletin_ids))
        removed = 0
        for s in range(0, len(ids), self.group_bulletins):
            group = ids[s : s + self.group_bulletins]
            with self._changing(group):
                self._delete_records(group)
                removed += sum(self._delete_chunks(group).values())
        return removed

    def delete_bulletin(self, bulletin_id: str) -> int:
        """Remove a bulletin (record, then chunks); returns the number of chunks removed."""
        return self.delete_bulletins([bulletin_id])

    def _delete_records(self, bulletin_ids: Sequence[str]) -> None:
        size = self.batch_size
        for s in range(0, len(bulletin_ids), size):
            self._docs.delete(ids=list(bulletin_ids[s : s + size]))

    def _delete_chunks(self, bulletin_ids: Sequence[str]) -> Counter[str]:
        """Every chunk of these bulletins: read by ``bulletin_id`` (their ids depend on the content
        hash they were written with), then deleted by batches. Returns the chunks removed per bulletin."""
        removed: Counter[str] = Counter()
        ids: list[str] = []
        for s in range(0, len(bulletin_ids), _IN):
            part = list(bulletin_ids[s : s + _IN])
            got = self._chunks.get(where={"bulletin_id": {"$in": part}}, include=["metadatas"])
            ids += got["ids"]
            removed.update(str((m or {}).get("bulletin_id")) for m in got["metadatas"])
        size = self.batch_size
        for s in range(0, len(ids), size):
            self._chunks.delete(ids=ids[s : s + size])
        return removed

    def add_bulletins(self, items: Iterable[tuple[Bulletin, Sequence[Chunk], np.ndarray]]) -> int:
        """Bulk load (bench): :meth:`put_bulletins` group after group, from a lazy iterable.
        Returns the number of chunks written."""
        written = 0
        for group in self.groups(items):
            self.put_bulletins(group)
            written += sum(len(c) for _, c, _ in group)
        return written

    def _write_group(
        self, group: Sequence[tuple[Bulletin, Sequence[Chunk], np.ndarray]], size: int, *, now: str
    ) -> int:
        """Chunks of every bulletin in ``group``, then their records."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        records: list[dict[str, Any]] = []
        for bulletin, chunks, vecs in group:
            base = _bulletin_meta(bulletin)
            ids += [c.id for c in chunks]
            docs += [c.text for c in chunks]
            metas += [{**base, "start": c.start, "end": c.end, "index": c.index} for c in chunks]
            if chunks:
                vectors.append(np.asarray(vecs, dtype=np.float32))
            record = {"content_hash": bulletin.content_hash, "chunks": len(chunks), "path": bulletin.path}
            if bulletin.page_starts:  # Chroma metadata holds scalars: the page layout goes as JSON text
                layout = {"page_starts": bulletin.page_starts, "blank_pages": bulletin.blank_pages}
                record["layout"] = json.dumps({**layout, "tables": bulletin.tables})
            records.append({**base, **record, "ingested_at": now})
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        for s in range(0, len(ids), size):
            e = s + size
            self._chunks.upsert(ids=ids[s:e], embeddings=matrix[s:e], documents=docs[s:e], metadatas=metas[s:e])
        s = 0
        while s < len(group):  # records carry the full texts: batches bounded in characters too
            e, chars = s, 0
            while e < len(group) and e - s < size and (e == s or chars + len(group[e][0].text) <= _RECORD_CHARS):
                chars += len(group[e][0].text)
                e += 1
            part = group[s:e]
            self._docs.upsert(
                ids=[b.id for b, _, _ in part],
                embeddings=[[1.0]] * len(part),
                documents=[b.text for b, _, _ in part],
                metadatas=records[s:e],
            )
            s = e
        return len(ids)

    @property
    def collection(self) -> Any:
        """The raw Chroma chunk collection (benchmarks query it directly as the latency floor)."""
        return self._chunks

    @property
    def batch_size(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 5000))
        except Exception:
            return 1000

    # -- chunks ---------------------------------------------------------------
    def count(self) -> int:
        return int(self._chunks.count())

    def iter_chunks(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every chunk (id, text, metadata), page by page."""
        for ids, metas, docs in self._pages(self._chunks, include=["documents", "metadatas"]):
            for i, m, d in zip(ids, metas, docs, strict=True):
                yield i, d or "", m or {}

    def query(
        self, vector: np.ndarray, k: int, filters: Filters | None = None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """Nearest chunks: (id, text, metadata, cosine distance).

        No ``count()`` first: Chroma counts by scanning (0.5 s at 100k chunks, on every
        question), and it already returns fewer than ``k`` results from a smaller or
        empty collection. Only if a server refuses ``k`` above its size is the count asked.
        """
        where = chroma_where(filters)
        include = ["documents", "metadatas", "distances"]
        try:
            res = self._chunks.query(query_embeddings=[vector.tolist()], n_results=k, where=where, include=include)
        except Exception:
            self.metadata()  # re-attaches if another process re-created the collection (--reindex)
            n = self.count()
            if n == 0:
                return []
            try:
                res = self._chunks.query(
                    query_embeddings=[vector.tolist()], n_results=min(k, n), where=where, include=include
                )
            except Exception as exc:
                raise StoreError(f"Requête Chroma impossible : {exc}") from None
        return list(zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0], strict=True))

    def get_chunks(self, ids: Sequence[str]) -> list[tuple[str, str, dict[str, Any]]]:
        if not ids:
            return []
        got = self._chunks.get(ids=list(ids), include=["documents", "metadatas"])
        return list(zip(got["ids"], got["documents"], got["metadatas"], strict=True))

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored embeddings of chunks by id, in one call (ids no longer stored are left out)."""
        if not ids:
            return {}
        got = self._chunks.get(ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"], strict=True)}

    def stats(self) -> StoreStats:
        records = self.records()
        dates = sorted(r.date for r in records.values() if r.date)
        meta = self.metadata()
        return StoreStats(
            bulletins=len(records),
            chunks=self.count(),
            date_min=dates[0].isoformat() if dates else None,
            date_max=dates[-1].isoformat() if dates else None,
            sources=sorted(records),
            embedding_model=str(meta.get("embedding_model", self.model_name)),
            dimension=int(meta.get("dimension") or 0),
            last_ingest=meta.get("last_ingest"),
            store=self.location,
        )

    def _pages(self, col: Any, include: list[str]) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
        offset = 0
        while True:
            got = col.get(include=include, limit=_PAGE, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            metas = got.get("metadatas") or [None] * len(ids)
            docs = got.get("documents") or [None] * len(ids)
            yield ids, metas, docs
            if len(ids) < _PAGE:
                return
            offset += len(ids)


class _BulletinCache:
    """Recently read bulletins, valid while the store's stamp is unchanged (checked every ``every_s``)."""

    def __init__(self, *, max_chars: int = 8_000_000, every_s: float = 0.5) -> None:
        self.max_chars = max_chars
        self.every_s = every_s
        self._items: OrderedDict[str, Bulletin] = OrderedDict()
        self._chars = 0
        self._stamp: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def check(self, stamp: Callable[[], str]) -> None:
        now = time.monotonic()
        if now - self._checked < self.every_s:
            return
        current = stamp()
        with self._lock:
            if current != self._stamp:
                self._items.clear()
                self._chars = 0
                self._stamp = current
            self._checked = now

    def get(self, bulletin_id: str) -> Bulletin | None:
        with self._lock:
            found = self._items.get(bulletin_id)
            if found is not None:
                self._items.move_to_end(bulletin_id)
            return found

    def put(self, bulletin: Bulletin) -> None:
        with self._lock:
            if bulletin.id in self._items or len(bulletin.text) > self.max_chars:
                return
            self._items[bulletin.id] = bulletin
            self._chars += len(bulletin.text)
            while self._chars > self.max_chars:
                _, old = self._items.popitem(last=False)
                self._chars -= len(old.text)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._chars = 0
            self._checked = float("-inf")


def _pending_ids(meta: dict[str, Any]) -> list[str]:
    try:
        ids = json.loads(str(meta.get("pending") or "[]"))
    except ValueError:
        return []
    return [str(i) for i in ids] if isinstance(ids, list) else []


def _bulletin_meta(b: Bulletin) -> dict[str, Any]:
    meta: dict[str, Any] = {"bulletin_id": b.id, "title": b.title, "date_num": date_num(b.date)}
    if b.date:
        meta["date"] = b.date.isoformat()
    if b.source:
        meta["source"] = b.source
    if b.url:
        meta["url"] = b.url
    return meta


def _layout(m: dict[str, Any]) -> dict[str, Any]:
    """A paged bulletin's page starts, blank pages and table count, from its record."""
    try:
        raw = json.loads(str(m.get("layout") or "{}"))
        return {
            "page_starts": tuple(int(x) for x in raw.get("page_starts", ())),
            "blank_pages": tuple(int(x) for x in raw.get("blank_pages", ())),
            "tables": int(raw.get("tables", 0)),
        }
    except (ValueError, TypeError, AttributeError):
        return {}


def _record(bulletin_id: str, m: dict[str, Any]) -> BulletinRecord:
    return BulletinRecord(
        id=bulletin_id,
        title=str(m.get("title", "")),
        date=_parse_date(m.get("date")),
        content_hash=str(m.get("content_hash", "")),
        chunks=int(m.get("chunks", 0)),
        source=m.get("source"),
        url=m.get("url"),
        path=m.get("path"),
        ingested_at=m.get("ingested_at"),
    )


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    """Filters -> a Chroma ``where`` clause on chunk metadata."""
    if filters is None or filters.empty:
        return None
    clauses: list[dict[str, Any]] = []
    if filters.date_from:
        clauses.append({"date_num": {"$gte": date_num(filters.date_from)}})
    if filters.date_to:
        clauses.append({"date_num": {"$lte": date_num(filters.date_to)}})
    if filters.sources:
        clauses.append({"bulletin_id": {"$in": list(filters.sources)}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matches(meta: dict[str, Any], filters: Filters | None) -> bool:
    """The same filter, applied in Python (for the lexical side)."""
    if filters is None or filters.empty:
        return True
    num = int(meta.get("date_num") or 0)
    if filters.date_from and num < date_num(filters.date_from):
        return False
    if filters.date_to and (num == 0 or num > date_num(filters.date_to)):
        return False
    return not filters.sources or meta.get("bulletin_id") in filters.sources
