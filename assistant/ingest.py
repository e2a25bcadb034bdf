"""Ingestion: bulletin files -> chunks -> embeddings -> Chroma.

Incremental: a bulletin whose content (and chunking) is unchanged is skipped
without embedding anything; a changed one has its chunks replaced; ``prune``
drops bulletins that disappeared from an ingested folder. A file that cannot be
read is reported and never causes other bulletins' chunks to be removed. An
ingest first finishes the cleanup of one that died half-way (see
:meth:`assistant.store.ChunkStore.recover`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from .chunking import CHUNKER_VERSION, chunk_bulletin, embed_text
from .embeddings import Embedder
from .errors import BulletinError
from .loading import discover, iter_bulletins
from .models import Bulletin, BulletinFailure, Chunk, IngestReport
from .store import ChunkStore

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]


def fingerprint(content_hash: str, target_tokens: int, model: str) -> str:
    """What decides whether a bulletin must be re-chunked and re-embedded."""
    return f"{content_hash[:32]}:{CHUNKER_VERSION}:{target_tokens}:{model}"


def ingest_paths(
    paths: Iterable[str | Path],
    *,
    store: ChunkStore,
    embedder: Embedder,
    target_tokens: int = 160,
    max_file_bytes: int = 5_000_000,
    prune: bool = False,
    show_progress: bool = False,
    on_progress: ProgressFn | None = None,
) -> IngestReport:
    """Bring the store in line with the bulletins under ``paths``."""
    t0 = time.perf_counter()
    files, roots = discover(paths)
    report = IngestReport()
    report.recovered = store.recover()  # what a writer that died (kill -9, power loss) left half done
    records = store.records()
    todo: list[Bulletin] = []
    present: set[str] = set()
    for item in iter_bulletins(files, max_bytes=max_file_bytes):
        if isinstance(item, BulletinError):
            report.failed.append(BulletinFailure(path=item.path, reason=str(item)))
            present.add(item.path)  # still on disk: never pruned because unreadable
            log.warning("bulletin ignoré : %s", item)
            continue
        present.add(item.id)
        fp = fingerprint(item.content_hash, target_tokens, embedder.model_name)
        record = records.get(item.id)
        if record is not None and record.content_hash == fp:
            report.unchanged.append(item.id)
            continue
        todo.append(dataclasses.replace(item, content_hash=fp))
        (report.updated if record is not None else report.added).append(item.id)

    if todo:
        store.set_dimension(embedder.dimension)
        planned = [(b, chunk_bulletin(b, embedder, target_tokens=target_tokens)) for b in todo]
        total = sum(len(c) for _, c in planned)
        if on_progress:
            on_progress("embedding", 0, total)
        vectors = _embed(embedder, planned, show_progress=show_progress, on_progress=on_progress, total=total)
        report.chunks_embedded = total
        offset = 0
        for done, (bulletin, chunks) in enumerate(planned, start=1):
            report.chunks_removed += store.replace_bulletin(bulletin, chunks, vectors[offset : offset + len(chunks)])
            offset += len(chunks)
            report.chunks_added += len(chunks)
            if on_progress:
                on_progress("writing", done, len(planned))

    if prune:
        for bid in sorted(records):
            if any(bid.startswith(f"{root}/") for root in roots) and bid not in present:
                report.chunks_removed += store.delete_bulletin(bid)
                report.removed.append(bid)
    report.seconds = time.perf_counter() - t0
    return report


def _embed(
    embedder: Embedder,
    planned: Sequence[tuple[Bulletin, list[Chunk]]],
    *,
    show_progress: bool,
    on_progress: ProgressFn | None,
    total: int,
) -> np.ndarray:
    texts = [embed_text(b.title, c.text) for b, chunks in planned for c in chunks]
    if on_progress is None:
        return embedder.encode(texts, show_progress=show_progress)
    # Report progress batch by batch (for the UI's progress indicator).
    parts = []
    step = max(embedder.batch_size, 1) * 4
    for s in range(0, len(texts), step):
        parts.append(embedder.encode(texts[s : s + step], show_progress=show_progress))
        on_progress("embedding", min(s + step, total), total)
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
