"""Ingest cost next to raw ``model.encode``, with the Chroma calls it makes (not a test: run by hand).

    .venv/bin/python tests/measure_ingest.py /work/shared/piaf-dev/corpus      # a folder of bulletins
    .venv/bin/python tests/measure_ingest.py --bench 1000                     # assistant bench's synthetic files

For each of ``--reps`` fresh stores: an ingest, then an update where every bulletin changed (one line
appended), each followed by ``model.encode`` of the same chunk texts (as ``assistant bench`` does).
Ratio = raw encode seconds / ingest seconds (1.0: the ingest costs no more than its embeddings);
``overhead_s`` = ingest seconds outside ``Embedder.encode``; ``cpu_ratio`` = the same ratio in process
CPU seconds (both steadier than the wall-clock ratio on a busy machine).
Medians over the repetitions; each run on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.chunking import embed_text  # noqa: E402
from assistant.embeddings import Embedder  # noqa: E402
from assistant.settings import Settings  # noqa: E402

CALLS = ("add", "upsert", "update", "delete", "modify", "get", "query", "count")


@contextlib.contextmanager
def chroma_calls() -> Iterator[tuple[Counter[str], Counter[str]]]:
    """Count (and time) the Chroma collection calls made inside the block."""
    from chromadb.api.models.Collection import Collection

    counts: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    originals = {name: getattr(Collection, name) for name in CALLS}

    def wrap(name: str, original: Any) -> Any:
        def counted(self: Any, *args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(self, *args, **kw)
            finally:
                counts[name] += 1
                seconds[name] += time.perf_counter() - t0

        return counted

    for name, original in originals.items():
        setattr(Collection, name, wrap(name, original))
    try:
        yield counts, seconds
    finally:
        for name, original in originals.items():
            setattr(Collection, name, original)


def encode_seconds(a: Assistant, embedder: Embedder) -> tuple[int, float, float]:
    """Raw ``model.encode`` of the store's chunk texts: (chunks, wall seconds, CPU seconds)."""
    texts = [embed_text(str(m.get("title", "")), t) for _, t, m in a.store.iter_chunks()]
    t0, c0 = time.perf_counter(), time.process_time()
    embedder.model.encode(
        texts,
        prompt=getattr(embedder, "prompt", lambda _: None)("passage"),  # what Embedder.encode adds (e5: "passage: ")
        batch_size=embedder.batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    return len(texts), time.perf_counter() - t0, time.process_time() - c0


@contextlib.contextmanager
def timed_encode(embedder: Embedder) -> Iterator[list[float]]:
    """Seconds spent in ``embedder.encode`` inside the block (the ingest's own embedding)."""
    spent = [0.0]
    original = embedder.encode

    def encode(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - t0

    embedder.encode = encode  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        del embedder.encode


def one_ingest(a: Assistant, folder: Path, embedder: Embedder) -> dict[str, Any]:
    c0 = time.process_time()
    with chroma_calls() as (counts, seconds), timed_encode(embedder) as embed_s:
        report = a.ingest([folder])
    cpu = time.process_time() - c0
    n, enc, enc_cpu = encode_seconds(a, embedder)
    assert n == a.store.count()
    return {
        "bulletins": len(report.added) + len(report.updated),
        "chunks": report.chunks_added,
        "chunks_removed": report.chunks_removed,
        "ingest_s": round(report.seconds, 2),
        "embedding_in_ingest_s": round(embed_s[0], 2),
        "overhead_s": round(report.seconds - embed_s[0], 2),
        "raw_encode_s": round(enc, 2),
        "ratio": round(enc / report.seconds, 3),
        "ingest_cpu_s": round(cpu, 2),
        "raw_encode_cpu_s": round(enc_cpu, 2),
        "cpu_ratio": round(enc_cpu / cpu, 3),
        "chroma_calls": dict(counts),
        "chroma_s": {k: round(v, 2) for k, v in seconds.items()},
    }


def run(source: Path, embedder: Embedder, work: Path, reps: int) -> dict[str, Any]:
    out: dict[str, Any] = {"source": str(source), "runs": []}
    for rep in range(reps):
        folder = work / f"src{rep}" / "corpus"
        shutil.copytree(source, folder)
        settings = Settings.from_env(env={}, data_dir=work / f"store{rep}")
        with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a:
            fresh = one_ingest(a, folder, embedder)
            for f in folder.rglob("*"):
                if f.is_file():
                    f.write_text(f.read_text(encoding="utf-8") + "\nMise à jour.\n", encoding="utf-8")
            update = one_ingest(a, folder, embedder)
        out["runs"].append({"fresh": fresh, "update": update})
        print(json.dumps(out["runs"][-1]), file=sys.stderr)
    for phase in ("fresh", "update"):
        runs = [r[phase] for r in out["runs"]]
        out[phase] = {
            key: statistics.median(r[key] for r in runs)
            for key in ("ingest_s", "embedding_in_ingest_s", "overhead_s", "raw_encode_s", "ratio", "cpu_ratio")
        }
        out[phase]["chunks"] = runs[0]["chunks"]
        out[phase]["chroma_calls"] = runs[0]["chroma_calls"]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("folder", nargs="?", type=Path)
    p.add_argument("--bench", type=int, default=0, help="synthetic chunks (assistant bench's generator)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reps", type=int, default=3, help="fresh stores, each ingested then updated (medians)")
    p.add_argument("--model", default=None, help="ASSISTANT_EMBEDDING_MODEL (default: the project's default)")
    args = p.parse_args()
    embedder = Embedder(args.model) if args.model else Embedder()
    embedder.encode(["échauffement du modèle"] * 64)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = args.folder
        if args.bench:
            from assistant.bench import BulletinGenerator

            src = work / "synthetic"
            BulletinGenerator(args.seed).write_files(src, args.bench)
        print(json.dumps(run(src, embedder, work, args.reps), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
