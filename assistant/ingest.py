"""Ingestion: bulletin files -> chunks -> embeddings -> Chroma.

Incremental: a bulletin whose content (and chunking) is unchanged is skipped
without embedding anything; a changed one has its chunks replaced; ``prune``
drops bulletins that disappeared from an ingested folder. A file that cannot be
read is reported and never causes other bulletins' chunks to be removed. An
ingest first finishes the cleanup of one that died half-way (see
:meth:`assistant.store.ChunkStore.recover`).

The bulletins to (re)write go by groups of a few thousand chunks
(:meth:`~assistant.store.ChunkStore.groups`): a group is embedded, then written with
a handful of Chroma calls (:meth:`~assistant.store.ChunkStore.put_bulletins`), so an
ingest costs little more than its embeddings.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .chunking import CHUNKER_VERSION, chunk_bulletin, embed_text
from .embeddings import Embedder
from .errors import BulletinError
from .figures import extract_figures
from .loading import discover, iter_bulletins
from .models import Bulletin, BulletinFailure, BulletinInfo, Chunk, IngestReport
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
    target_tokens: int = 128,
    max_file_bytes: int = 20_000_000,
    max_pages: int = 150,
    parsed: Mapping[Path, Bulletin] | None = None,
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
    for item in iter_bulletins(files, max_bytes=max_file_bytes, max_pages=max_pages, parsed=parsed):
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
        report.bulletins = [_info(b, len(chunks)) for b, chunks in planned]
        total = sum(len(c) for _, c in planned)
        if on_progress:
            on_progress("embedding", 0, total)
        # Group by group (a few thousand chunks): embed, then write with a few Chroma calls for the
        # whole group. Memory stays bounded, and a crash keeps the groups already written.
        groups = list(store.groups(planned))
        written = 0
        for n, group in enumerate(groups, start=1):
            vectors = _embed(
                embedder,
                group,
                show_progress=show_progress,
                on_progress=on_progress,
                done=report.chunks_embedded,
                total=total,
            )
            report.chunks_embedded += len(vectors)
            if on_progress and n == len(groups):  # "writing" once the embedding is over (progress only moves on)
                on_progress("writing", written, len(planned))
            items: list[tuple[Bulletin, list[Chunk], np.ndarray]] = []
            offset = 0
            for bulletin, chunks in group:
                items.append((bulletin, chunks, vectors[offset : offset + len(chunks)]))
                offset += len(chunks)
            report.chunks_removed += store.put_bulletins(items)
            report.chunks_added += offset
            written += len(group)
        if on_progress:
            on_progress("writing", written, len(planned))

    if prune:
        gone = [
            bid for bid in sorted(records) if any(bid.startswith(f"{root}/") for root in roots) and bid not in present
        ]
        if gone:
            report.chunks_removed += store.delete_bulletins(gone)
            report.removed += gone
    report.seconds = time.perf_counter() - t0
    return report


def _info(b: Bulletin, chunks: int) -> BulletinInfo:
    return BulletinInfo(
        id=b.id,
        title=b.title,
        date=b.date.isoformat() if b.date else None,
        pages=b.pages or None,
        blank_pages=list(b.blank_pages),
        tables=b.tables,
        figures=len(extract_figures(b.text)),
        chunks=chunks,
    )


def _embed(
    embedder: Embedder,
    planned: Sequence[tuple[Bulletin, list[Chunk]]],
    *,
    show_progress: bool,
    on_progress: ProgressFn | None,
    done: int,
    total: int,
) -> np.ndarray:
    texts = [embed_text(b.title, c.text) for b, chunks in planned for c in chunks]
    if on_progress is None:
        return embedder.encode(texts, show_progress=show_progress)
    # Report progress batch by batch (for the UI's progress indicator), counted over the whole ingest.
    parts = []
    step = max(embedder.batch_size, 1) * 4
    for s in range(0, len(texts), step):
        parts.append(embedder.encode(texts[s : s + step], show_progress=show_progress))
        on_progress("embedding", done + min(s + step, len(texts)), total)
    return np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
