"""Hybrid retrieval: dense (Chroma) + lexical (French BM25), fused by reciprocal rank.

Exposed as a LangChain ``BaseRetriever`` so that it composes into the answering
chain; ``filters`` (bulletin date range, sources) can be passed per call.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from .embeddings import Embedder
from .lexical import LexicalIndex
from .models import Filters, Passage
from .store import ChunkStore, _parse_date, date_num

#: The usual constant of reciprocal rank fusion (Cormack et al., 2009).
RRF_K = 60


class LexicalCache:
    """The BM25 index of a store, rebuilt when the store's stamp changes."""

    def __init__(self, store: ChunkStore, *, check_every_s: float = 0.5) -> None:
        self.store = store
        self.check_every_s = check_every_s
        self._index: LexicalIndex | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self.builds = 0
        self._mask_lock = threading.Lock()
        self._mask_index: LexicalIndex | None = None
        self._masks: dict[Filters, np.ndarray] = {}
        self._date_nums = np.zeros(0, dtype=np.int64)
        self._bulletin_codes = np.zeros(0, dtype=np.int64)
        self._codes: dict[Any, int] = {}

    def current(self) -> LexicalIndex:
        now = time.monotonic()
        index = self._index
        if index is not None and now - self._checked < self.check_every_s:
            return index
        # The chunk count too: a writer killed between its writes and its stamp update leaves the
        # stamp unchanged, and a reader in another process (Chroma server) would never catch up.
        stamp, count = self.store.stamp, self.store.count()
        if index is not None and index.stamp == stamp and len(index) == count:
            self._checked = now
            return index
        with self._lock:
            if self._index is None or self._index.stamp != stamp or len(self._index) != count:
                self._index = LexicalIndex.build(self.store.iter_chunks(), stamp=stamp)
                self.builds += 1
            self._checked = time.monotonic()
            return self._index

    def invalidate(self) -> None:
        self._checked = 0.0

    def allowed(self, index: LexicalIndex, filters: Filters) -> np.ndarray:
        """Rows of ``index`` that ``filters`` let through: ``matches()`` on every row, vectorised.

        A Python loop over every chunk's metadata on each filtered question cost ~75 ms
        at 10k chunks (linear); the per-row date and bulletin arrays are built once per
        index, and the masks of recent filters are kept.
        """
        with self._mask_lock:
            if self._mask_index is not index:
                self._mask_index = index
                self._masks = {}
                self._date_nums = np.fromiter(
                    (int(m.get("date_num") or 0) for m in index.metas), dtype=np.int64, count=len(index.metas)
                )
                codes: dict[Any, int] = {}
                self._bulletin_codes = np.fromiter(
                    (codes.setdefault(m.get("bulletin_id"), len(codes)) for m in index.metas),
                    dtype=np.int64,
                    count=len(index.metas),
                )
                self._codes = codes
            mask = self._masks.get(filters)
            if mask is None:
                mask = np.ones(len(index.metas), dtype=bool)
                if filters.date_from:
                    mask &= self._date_nums >= date_num(filters.date_from)
                if filters.date_to:
                    mask &= (self._date_nums != 0) & (self._date_nums <= date_num(filters.date_to))
                if filters.sources:
                    wanted = [self._codes[s] for s in filters.sources if s in self._codes]
                    mask &= np.isin(self._bulletin_codes, wanted)
                if len(self._masks) >= 32:
                    self._masks.pop(next(iter(self._masks)))
                self._masks[filters] = mask
            return mask


def passage_from(cid: str, text: str, meta: dict[str, Any], **extra: Any) -> Passage:
    return Passage(
        chunk_id=cid,
        bulletin_id=str(meta.get("bulletin_id", "")),
        title=str(meta.get("title", "")),
        date=_parse_date(meta.get("date")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        text=text,
        **extra,
    )


def passage_from_document(doc: Document) -> Passage:
    m = doc.metadata
    return Passage(
        chunk_id=m["chunk_id"],
        bulletin_id=m["bulletin_id"],
        title=m["title"],
        date=_parse_date(m.get("date")),
        start=m["start"],
        end=m["end"],
        text=doc.page_content,
        score=m.get("score", 0.0),
        rank=m.get("rank", 0),
        scores={k[6:]: v for k, v in m.items() if k.startswith("score_")},
    )


class HybridRetriever(BaseRetriever):
    """Top-``k`` chunks by reciprocal rank fusion of dense and BM25 rankings."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    embedder: Embedder
    lexical: LexicalCache
    k: int = 8
    depth: int = 30  # candidates taken from each side before fusion

    _timings: threading.local = PrivateAttr(default_factory=threading.local)

    def retrieve(self, query: str, filters: Filters | None = None, k: int | None = None) -> list[Passage]:
        """Fused passages, best first (the non-LangChain entry point)."""
        k = k or self.k
        t0 = time.perf_counter()
        vector = self.embedder.encode_query(query)
        t1 = time.perf_counter()
        dense = self.store.query(vector, self.depth, filters)
        t2 = time.perf_counter()
        index = self.lexical.current()
        allowed = None if filters is None or filters.empty else self.lexical.allowed(index, filters)
        lexical = index.search(query, self.depth, allowed)
        t3 = time.perf_counter()

        fused: dict[str, float] = {}
        rows: dict[str, tuple[str, dict[str, Any]]] = {}
        parts: dict[str, dict[str, float]] = {}
        for rank, (cid, text, meta, dist) in enumerate(dense):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rows[cid] = (text, meta)
            parts.setdefault(cid, {})["dense"] = 1.0 - float(dist)
        for rank, (row, score) in enumerate(lexical):
            cid = index.ids[row]
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            rows.setdefault(cid, (index.texts[row], index.metas[row]))
            parts.setdefault(cid, {})["bm25"] = score
        best = sorted(fused, key=lambda c: -fused[c])[:k]
        t4 = time.perf_counter()
        # The reader reads each passage's whole bulletin: one Chroma call for all of them, not one each.
        self.store.prefetch_bulletins(str(rows[cid][1].get("bulletin_id", "")) for cid in best)
        self._timings.last = {
            "embed_ms": (t1 - t0) * 1000,
            "dense_ms": (t2 - t1) * 1000,
            "lexical_ms": (t3 - t2) * 1000,
            "prefetch_ms": (time.perf_counter() - t4) * 1000,
        }
        return [
            passage_from(cid, rows[cid][0], rows[cid][1], score=fused[cid], rank=i + 1, scores=parts[cid])
            for i, cid in enumerate(best)
        ]

    @property
    def last_timings(self) -> dict[str, float]:
        return dict(getattr(self._timings, "last", {}))

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        filters: Filters | None = None,
        k: int | None = None,
    ) -> list[Document]:
        return [
            Document(page_content=p.text, metadata=p.to_metadata(), id=p.chunk_id)
            for p in self.retrieve(query, filters, k)
        ]
