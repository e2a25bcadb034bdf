"""Hybrid retrieval: dense (Chroma) + lexical (French BM25), fused by normalised scores.

Each side proposes its best ``depth`` chunks; every candidate of the union then gets both
scores exactly (BM25 over the whole index, cosine from its stored vector), each side's
scores are standardised over the candidates (z-scores) and mixed with the dense weight
:data:`DENSE_WEIGHT`. Measured on real French questions (``../shared/piaf-dev``), this
never falls below either side alone at any k, where reciprocal rank fusion with an
English model fell 21 points of recall@1 below BM25 (see docs/evaluation.md).

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
from .lexical import LexicalIndex, top_rows
from .models import Filters, Passage
from .store import ChunkStore, _parse_date, date_num

#: Weight of the dense side's z-score in the fused score (BM25 gets the rest); chosen on
#: ../shared/piaf-dev with the default model (docs/evaluation.md, "Retrieval").
DENSE_WEIGHT = 0.6
#: Candidates taken from each side before fusion.
DEPTH = 30


def zscores(values: np.ndarray) -> np.ndarray:
    """Standardised scores; all zeros when the values do not vary (e.g. no BM25 term matched)."""
    std = float(values.std()) if len(values) else 0.0
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def fuse(dense: np.ndarray, lexical: np.ndarray, dense_weight: float = DENSE_WEIGHT) -> np.ndarray:
    """Fused scores of candidates given both their cosine and their BM25 score."""
    return dense_weight * zscores(dense) + (1.0 - dense_weight) * zscores(lexical)


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
    """Top-``k`` chunks by fused dense and BM25 scores (see the module docstring)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    embedder: Embedder
    lexical: LexicalCache
    k: int = 8
    depth: int = DEPTH  # candidates taken from each side before fusion
    dense_weight: float = DENSE_WEIGHT
    #: Dense side by exact search over every stored vector instead of Chroma's HNSW graph. HNSW is
    #: approximate and its graph depends on insert timing, so two builds of one corpus may differ in
    #: the tail of the top 30; ``assistant train-reader`` needs the same candidates on every run.
    exact: bool = False

    _timings: threading.local = PrivateAttr(default_factory=threading.local)
    _matrix: tuple[LexicalIndex, np.ndarray] | None = PrivateAttr(default=None)

    def retrieve(self, query: str, filters: Filters | None = None, k: int | None = None) -> list[Passage]:
        """Fused passages, best first (the non-LangChain entry point)."""
        k = k or self.k
        t0 = time.perf_counter()
        vector = self.embedder.encode_query(query)
        t1 = time.perf_counter()
        index = self.lexical.current()
        allowed = None if filters is None or filters.empty else self.lexical.allowed(index, filters)
        t_index = time.perf_counter()  # the lexical side's (a rebuild after a write is paid here)
        if self.exact:
            dense = self._exact_dense(index, vector, allowed)
        else:
            dense = self.store.query(vector, self.depth, filters)
        t2 = time.perf_counter()
        bm25 = index.scores(query, allowed)
        lexical = top_rows(bm25, self.depth)
        t3 = time.perf_counter()

        rows: dict[str, tuple[str, dict[str, Any]]] = {}
        cosine: dict[str, float] = {}
        for cid, text, meta, dist in dense:
            rows[cid] = (text, meta)
            cosine[cid] = 1.0 - float(dist)
        for row, _ in lexical:
            rows.setdefault(index.ids[row], (index.texts[row], index.metas[row]))
        ids = list(rows)
        missing = [cid for cid in ids if cid not in cosine]
        if missing:  # BM25's own finds: their cosine from the stored vectors (one Chroma call)
            for cid, vec in self.store.vectors(missing).items():
                cosine[cid] = float(np.dot(vec, vector))
            for cid in missing:
                cosine.setdefault(cid, -1.0)  # deleted meanwhile: last
        dense_s = np.array([cosine[c] for c in ids], dtype=np.float64)
        lexical_s = np.array([_score_of(index, bm25, c) for c in ids], dtype=np.float64)
        fused = fuse(dense_s, lexical_s, self.dense_weight)
        order = sorted(range(len(ids)), key=lambda i: (-fused[i], ids[i]))[:k]
        t4 = time.perf_counter()
        best = [ids[i] for i in order]
        # The reader reads each passage's whole bulletin: one Chroma call for all of them, not one each.
        self.store.prefetch_bulletins(str(rows[cid][1].get("bulletin_id", "")) for cid in best)
        self._timings.last = {
            "embed_ms": (t1 - t0) * 1000,
            "dense_ms": (t2 - t_index) * 1000,
            "lexical_ms": (t3 - t2 + t_index - t1) * 1000,
            "fusion_ms": (t4 - t3) * 1000,
            "prefetch_ms": (time.perf_counter() - t4) * 1000,
        }
        return [
            passage_from(
                ids[i],
                rows[ids[i]][0],
                rows[ids[i]][1],
                score=float(fused[i]),
                rank=n + 1,
                scores={"dense": float(dense_s[i]), "bm25": float(lexical_s[i])},
            )
            for n, i in enumerate(order)
        ]

    def _exact_dense(
        self, index: LexicalIndex, vector: np.ndarray, allowed: np.ndarray | None
    ) -> list[tuple[str, str, dict[str, Any], float]]:
        """The ``depth`` nearest chunks by exact cosine (same rows as the lexical index), as Chroma returns them."""
        if self._matrix is None or self._matrix[0] is not index:
            got = self.store.vectors(index.ids)
            dim = len(vector)
            self._matrix = (index, np.stack([got.get(c, np.zeros(dim, dtype=np.float32)) for c in index.ids]))
        cos = self._matrix[1] @ vector
        if allowed is not None:
            cos = np.where(np.asarray(allowed, dtype=bool), cos, -np.inf)
        order = np.lexsort((np.arange(len(cos)), -cos))[: self.depth]
        return [
            (index.ids[r], index.texts[r], index.metas[r], 1.0 - float(cos[r])) for r in order if np.isfinite(cos[r])
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


def _score_of(index: LexicalIndex, scores: np.ndarray, chunk_id: str) -> float:
    row = index.row_of(chunk_id)
    return float(scores[row]) if row is not None else 0.0
