"""Benchmarks (``assistant bench``): ingest throughput and query latency against their floors.

Two questions, each answered next to the cheapest thing that does the same job, in the
same run (the machine may be shared, so only side-by-side numbers are comparable):

* ingest: chunks/s of :meth:`Assistant.ingest` on synthetic bulletin files versus a
  plain ``model.encode`` of the very same chunk texts; the ratio is what chunking,
  bookkeeping and Chroma writes cost on top of the model;
* query: p50/p95 latency of :meth:`Assistant.ask` versus "embed the question + one
  Chroma ``collection.query``" (the floor of any dense RAG), at growing corpus sizes
  (1k, 10k, 100k chunks by default), with the process' peak RSS.

Large corpora come from :mod:`assistant.synthetic`, written straight through the
store in big batches; chunks past ``encode_upto`` get pool vectors (see there).
Results go to ``results.json``, ``summary.md``, ``latency.png`` and ``ingest.png``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from tqdm import tqdm

from .chunking import embed_text
from .core import Assistant
from .embeddings import Embedder
from .evaluation import percentile
from .models import Bulletin, Chunk, Filters
from .settings import Settings
from .synthetic import BulletinGenerator, PoolVectors, SyntheticBulletin

DEFAULT_SIZES: tuple[int, ...] = (1_000, 10_000, 100_000)
DEFAULT_MAX = 100_000
QUICK_SIZES: tuple[int, ...] = (200, 1_000)

#: Questions asked with a date filter, to time the filtered path (Chroma ``where`` + lexical mask).
FILTER = Filters(date_from=date(2025, 1, 1))


# -- results -----------------------------------------------------------------------


@dataclass
class IngestBench:
    """Ingest throughput next to raw ``model.encode`` on the same chunk texts."""

    bulletins: int
    chunks: int
    ingest_s: float
    encode_s: float
    chunking_s: float  # re-chunking the same bulletins alone (tokenizer calls), for the breakdown

    @property
    def ingest_chunks_per_s(self) -> float:
        return self.chunks / self.ingest_s if self.ingest_s else 0.0

    @property
    def encode_chunks_per_s(self) -> float:
        return self.chunks / self.encode_s if self.encode_s else 0.0

    @property
    def ratio(self) -> float:
        """Ingest throughput / raw encode throughput (1.0: ingest costs no more than the model)."""
        return self.ingest_chunks_per_s / self.encode_chunks_per_s if self.encode_chunks_per_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "ingest_chunks_per_s": self.ingest_chunks_per_s,
            "encode_chunks_per_s": self.encode_chunks_per_s,
            "ratio": self.ratio,
        }


@dataclass
class SizeBench:
    """Query latency at one corpus size, ours (``ask``) and the floor (embed + Chroma query)."""

    chunks: int
    bulletins: int
    encoded_chunks: int  # chunks whose vector came from the model; the others are pool vectors
    load_s: float  # encoding (when any) + writing the new chunks to the store
    lexical_build_s: float  # BM25 rebuilt from Chroma after the store changed (first query)
    lexical_read_s: float  # of which: reading every chunk back from Chroma
    queries: int
    ask_ms: list[float] = field(repr=False)
    floor_ms: list[float] = field(repr=False)
    filtered_ask_ms: list[float] = field(repr=False)
    stages_ms: dict[str, list[float]] = field(repr=False)
    abstained: int = 0
    rss_mb: float = 0.0
    rss_peak_mb: float = 0.0

    def p(self, name: str, q: float) -> float | None:
        return percentile(getattr(self, name), q)

    @property
    def ratio_p50(self) -> float | None:
        a, f = self.p("ask_ms", 50), self.p("floor_ms", 50)
        return a / f if a is not None and f else None

    @property
    def ratio_p95(self) -> float | None:
        a, f = self.p("ask_ms", 95), self.p("floor_ms", 95)
        return a / f if a is not None and f else None

    def summary(self) -> dict[str, Any]:
        return {
            "chunks": self.chunks,
            "bulletins": self.bulletins,
            "encoded_chunks": self.encoded_chunks,
            "load_s": self.load_s,
            "lexical_build_s": self.lexical_build_s,
            "lexical_read_s": self.lexical_read_s,
            "queries": self.queries,
            "ask_p50_ms": self.p("ask_ms", 50),
            "ask_p95_ms": self.p("ask_ms", 95),
            "floor_p50_ms": self.p("floor_ms", 50),
            "floor_p95_ms": self.p("floor_ms", 95),
            "ratio_p50": self.ratio_p50,
            "ratio_p95": self.ratio_p95,
            "filtered_ask_p50_ms": self.p("filtered_ask_ms", 50),
            "filtered_ask_p95_ms": self.p("filtered_ask_ms", 95),
            "stages_p50_ms": {k: percentile(v, 50) for k, v in self.stages_ms.items()},
            "abstained": self.abstained,
            "rss_mb": self.rss_mb,
            "rss_peak_mb": self.rss_peak_mb,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "ask_ms": self.ask_ms,
            "floor_ms": self.floor_ms,
            "filtered_ask_ms": self.filtered_ask_ms,
            "stages_ms": self.stages_ms,
        }


@dataclass
class BenchResult:
    """Everything one ``assistant bench`` run measured; ``to_dict()`` is ``results.json``."""

    started: str
    machine: dict[str, Any]
    config: dict[str, Any]
    ingest: IngestBench | None
    sizes: list[SizeBench]
    model_load_s: float
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "seconds": self.seconds,
            "machine": self.machine,
            "config": self.config,
            "model_load_s": self.model_load_s,
            "ingest": self.ingest.to_dict() if self.ingest else None,
            "sizes": [s.to_dict() for s in self.sizes],
            "notes": self.notes,
        }

    def to_markdown(self) -> str:
        m, c = self.machine, self.config
        out = [
            "# Benchmark summary",
            "",
            f"Run {self.started} ({self.seconds:.0f} s) on {m['cpus']} CPU(s), torch threads {m['torch_threads']}, "
            f"load average {m['load_before']} before / {m['load_after']} after"
            + (" — the machine was shared with other work: compare side-by-side figures only." if m["shared"] else "."),
            "",
            f"Model `{c['model']}` (load {self.model_load_s:.1f} s), seed {c['seed']}, top-k {c['k']}, "
            f"{c['queries']} questions per size.",
            "",
        ]
        if self.ingest:
            i = self.ingest
            out += [
                "## Ingest throughput",
                "",
                f"{i.bulletins} synthetic bulletin files, {i.chunks} chunks, in one run:",
                "",
                "| pipeline | seconds | chunks/s |",
                "| --- | ---: | ---: |",
                f"| `assistant ingest` (load, chunk, embed, write Chroma) | {i.ingest_s:.1f} | "
                f"{i.ingest_chunks_per_s:.1f} |",
                f"| plain `model.encode` of the same chunk texts | {i.encode_s:.1f} | {i.encode_chunks_per_s:.1f} |",
                f"| (chunking alone, tokenizer calls) | {i.chunking_s:.1f} | |",
                "",
                f"Ratio ingest / raw encode: **{i.ratio:.2f}**.",
                "",
            ]
        if self.sizes:
            out += [
                "## Query latency vs corpus size",
                "",
                "Floor: embed the question with the same model + one Chroma `collection.query` "
                f"(n_results = {c['k']}). Ours: `Assistant.ask` end to end (embed, dense, BM25, fusion, reader).",
                "",
                "| chunks | ask p50 | ask p95 | floor p50 | floor p95 | ratio p50 | ratio p95 | filtered ask p50 | "
                "BM25 rebuild | peak RSS |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for s in self.sizes:
                d = s.summary()
                out.append(
                    f"| {s.chunks:,} | {_ms(d['ask_p50_ms'])} | {_ms(d['ask_p95_ms'])} | {_ms(d['floor_p50_ms'])} | "
                    f"{_ms(d['floor_p95_ms'])} | {_x(d['ratio_p50'])} | {_x(d['ratio_p95'])} | "
                    f"{_ms(d['filtered_ask_p50_ms'])} | {s.lexical_build_s:.1f} s | {s.rss_peak_mb:,.0f} MB |"
                )
            out += ["", "Median stage times of `ask` (ms; reader includes the chain's own overhead):", ""]
            out += [
                "| chunks | embed | dense | lexical | bulletin prefetch | reader |",
                "| ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for s in self.sizes:
                st = s.summary()["stages_p50_ms"]
                out.append(
                    f"| {s.chunks:,} | {_n(st.get('embed'))} | {_n(st.get('dense'))} | {_n(st.get('lexical'))} | "
                    f"{_n(st.get('prefetch'))} | {_n(st.get('reader'))} |"
                )
            growth = _growth(self.sizes)
            if growth:
                out += ["", growth]
            out += [
                "",
                "Corpus build per size (the store grows in place). Vectors: " + c["vectors"] + ".",
                "",
                "| chunks | model-encoded | pool vectors | load s | BM25 read from Chroma s |",
                "| ---: | ---: | ---: | ---: | ---: |",
                *(
                    f"| {s.chunks:,} | {s.encoded_chunks:,} | {s.chunks - s.encoded_chunks:,} | {s.load_s:.1f} | "
                    f"{s.lexical_read_s:.1f} |"
                    for s in self.sizes
                ),
                "",
            ]
        if self.notes:
            out += ["## Notes", "", *(f"- {n}" for n in self.notes), ""]
        out += ["Plots: `latency.png` (latency vs corpus size), `ingest.png` (ingest vs raw encode).", ""]
        return "\n".join(out)


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f} ms"


def _x(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}×"


def _n(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f}"


def _growth(sizes: Sequence[SizeBench]) -> str:
    if len(sizes) < 2:
        return ""
    a, b = sizes[-2], sizes[-1]
    pa, pb = a.p("ask_ms", 95), b.p("ask_ms", 95)
    fa, fb = a.p("floor_ms", 95), b.p("floor_ms", 95)
    if not (pa and pb and fa and fb):
        return ""
    return (
        f"p95 growth {a.chunks:,} → {b.chunks:,} chunks ({b.chunks / a.chunks:.0f}× the data): "
        f"ask ×{pb / pa:.2f}, floor ×{fb / fa:.2f}."
    )


# -- measuring ---------------------------------------------------------------------


class PeakRSS:
    """Samples this process' RSS in a thread; Chroma runs in-process, so it is counted too."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.every_s = every_s
        self.proc = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakRSS:
        self.peak = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    def current_mb(self) -> float:
        return self.proc.memory_info().rss / 2**20


def bench_ingest(
    embedder: Embedder, workdir: Path, *, chunks: int, seed: int, settings: Settings, show_progress: bool
) -> IngestBench:
    """Ingest synthetic files into a fresh store, then ``model.encode`` the same chunk texts."""
    from .chunking import chunk_bulletin
    from .loading import discover, iter_bulletins

    folder = workdir / "synthetic"
    paths = BulletinGenerator(seed).write_files(folder, chunks)
    fresh = dataclasses.replace(settings, data_dir=workdir / "ingest-store", chroma_url=None)
    with Assistant(settings=fresh, embedder=embedder, auto_ingest=False) as a:
        report = a.ingest([folder], show_progress=show_progress)
        rows = list(a.store.iter_chunks())
    texts = [embed_text(str(meta.get("title", "")), text) for _, text, meta in rows]
    t0 = time.perf_counter()
    embedder.model.encode(
        texts,
        prompt=embedder.prompt("passage"),
        batch_size=embedder.batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=show_progress,
    )
    encode_s = time.perf_counter() - t0
    files, _ = discover([folder])
    bulletins = [b for b in iter_bulletins(files, max_bytes=settings.max_file_bytes) if isinstance(b, Bulletin)]
    t0 = time.perf_counter()
    for b in bulletins:
        chunk_bulletin(b, embedder, target_tokens=settings.chunk_tokens)
    chunking_s = time.perf_counter() - t0
    return IngestBench(
        bulletins=len(paths),
        chunks=report.chunks_added,
        ingest_s=report.seconds,
        encode_s=encode_s,
        chunking_s=chunking_s,
    )


def _vectors(
    bulletins: Iterator[SyntheticBulletin], embedder: Embedder, pool: PoolVectors | None, encode_upto: int
) -> Iterator[tuple[Bulletin, Sequence[Chunk], np.ndarray]]:
    """(bulletin, chunks, vectors): model embeddings (batched) for chunks below ``encode_upto``, else pool vectors."""
    batch: list[SyntheticBulletin] = []

    def flush() -> Iterator[tuple[Bulletin, Sequence[Chunk], np.ndarray]]:
        texts = [t for sb in batch for t in sb.embed_texts()]
        matrix = embedder.encode(texts)
        pos = 0
        for sb in batch:
            yield sb.bulletin, sb.chunks, matrix[pos : pos + len(sb.chunks)]
            pos += len(sb.chunks)
        batch.clear()

    for sb in bulletins:
        first_chunk = sb.index * len(sb.chunks)
        if first_chunk < encode_upto or pool is None:
            batch.append(sb)
            if sum(len(b.chunks) for b in batch) >= 4 * embedder.batch_size:
                yield from flush()
        else:
            if batch:
                yield from flush()
            yield sb.bulletin, sb.chunks, pool.vectors(sb)
    if batch:
        yield from flush()


def bench_size(
    a: Assistant,
    gen: BulletinGenerator,
    size: int,
    *,
    queries: int,
    k: int,
    encode_upto: int,
    pool: PoolVectors | None,
    show_progress: bool,
) -> SizeBench:
    """Grow the store to ``size`` chunks, then time ``ask`` and the floor on the same questions."""
    store, embedder = a.store, a.embedder
    with PeakRSS() as rss:
        before = store.count()
        t0 = time.perf_counter()
        todo = gen.bulletins(size, start_chunk=before)
        n_new = -(-size // gen.chunks_per_bulletin) - before // gen.chunks_per_bulletin
        bar = tqdm(
            todo, total=max(n_new, 0), desc=f"store → {size:,} chunks", unit="bulletin", disable=not show_progress
        )
        store.add_bulletins(_vectors(iter(bar), embedder, pool, encode_upto))
        load_s = time.perf_counter() - t0
        chunks = store.count()

        t0 = time.perf_counter()
        rows = sum(1 for _ in store.iter_chunks())
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        a.lexical.invalidate()
        a.lexical.current()  # what the first question after a write pays
        build_s = time.perf_counter() - t0
        assert rows == chunks

        facts = gen.questions(queries + 2, n_chunks=size)
        for f in facts[:2]:  # warm-up
            a.ask(f.question, k=k)
        collection = store.collection
        ask_ms: list[float] = []
        floor_ms: list[float] = []
        filtered_ms: list[float] = []
        stages: dict[str, list[float]] = {"embed": [], "dense": [], "lexical": [], "prefetch": [], "reader": []}
        abstained = 0

        def floor(question: str) -> float:
            t = time.perf_counter()
            v = embedder.encode_query(question)
            collection.query(
                query_embeddings=[v.tolist()], n_results=k, include=["documents", "metadatas", "distances"]
            )
            return (time.perf_counter() - t) * 1000

        for n, f in enumerate(tqdm(facts[2:], desc=f"questions @ {chunks:,}", unit="q", disable=not show_progress)):
            if n % 2:  # alternate the order, so that neither side always runs right after the other
                floor_ms.append(floor(f.question))
            t = time.perf_counter()
            answer = a.ask(f.question, k=k)
            ask_ms.append((time.perf_counter() - t) * 1000)
            if not n % 2:
                floor_ms.append(floor(f.question))
            abstained += answer.abstained
            tm = answer.timings_ms
            parts = {name: tm.get(f"{name}_ms", 0.0) for name in ("embed", "dense", "lexical", "prefetch")}
            for name, ms in parts.items():
                stages[name].append(ms)
            stages["reader"].append(tm.get("total_ms", 0.0) - sum(parts.values()))  # reader + chain overhead
            if n % 4 == 0:
                t = time.perf_counter()
                a.ask(f.question, filters=FILTER, k=k)
                filtered_ms.append((time.perf_counter() - t) * 1000)
        current = rss.current_mb()
    return SizeBench(
        chunks=chunks,
        bulletins=len(store.records()),
        encoded_chunks=min(chunks, encode_upto) if pool else chunks,
        load_s=load_s,
        lexical_build_s=build_s,
        lexical_read_s=read_s,
        queries=len(ask_ms),
        ask_ms=ask_ms,
        floor_ms=floor_ms,
        filtered_ask_ms=filtered_ms,
        stages_ms=stages,
        abstained=abstained,
        rss_mb=current,
        rss_peak_mb=rss.peak_mb,
    )


def resolve_sizes(sizes: Sequence[int] | None, maximum: int, quick: bool) -> list[int]:
    """The sizes to run: given ones (capped by ``maximum``) or decades from 1k up to ``maximum``."""
    if sizes:
        chosen = sorted({s for s in sizes if 0 < s <= maximum})
    elif quick:
        chosen = list(QUICK_SIZES)
    else:
        chosen = [s for s in (*DEFAULT_SIZES, 1_000_000) if s <= maximum]
    return chosen


def run_bench(
    out: str | Path = "bench",
    *,
    sizes: Sequence[int] | None = None,
    maximum: int = DEFAULT_MAX,
    queries: int | None = None,
    ingest_chunks: int | None = None,
    encode_upto: int | None = None,
    seed: int = 0,
    quick: bool = False,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    show_progress: bool = False,
) -> BenchResult:
    """Run the whole benchmark and write its files under ``out``."""
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = settings or Settings.from_env()
    chosen = resolve_sizes(sizes, maximum, quick)
    queries = queries or (10 if quick else 50)
    ingest_chunks = ingest_chunks if ingest_chunks is not None else (100 if quick else 1_000)
    encode_upto = encode_upto if encode_upto is not None else (200 if quick else 10_000)
    load_before = _load()
    embedder = embedder or Embedder.from_settings(settings)
    t0 = time.perf_counter()
    embedder.encode(["échauffement"])
    model_load_s = time.perf_counter() - t0
    k = settings.top_k

    import torch

    result = BenchResult(
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "load_before": load_before,
        },
        config={
            "model": embedder.model_name,
            "seed": seed,
            "sizes": chosen,
            "max": maximum,
            "queries": queries,
            "k": k,
            "ingest_chunks": ingest_chunks,
            "encode_upto": encode_upto,
            "quick": quick,
            "vectors": f"chunks below {encode_upto:,} are embedded by the model; the rest get pool vectors "
            "(normalised sum of model embeddings of their sentence skeletons and region, plus seeded noise)",
        },
        ingest=None,
        sizes=[],
        model_load_s=model_load_s,
    )
    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        work = Path(tmp)
        if ingest_chunks:
            result.ingest = bench_ingest(
                embedder,
                work / "ingest",
                chunks=ingest_chunks,
                seed=seed,
                settings=settings,
                show_progress=show_progress,
            )
        if chosen:
            fresh = dataclasses.replace(settings, data_dir=work / "query-store", chroma_url=None)
            gen = BulletinGenerator(seed)
            pool = PoolVectors(embedder, seed=seed) if max(chosen) > encode_upto else None
            with Assistant(settings=fresh, embedder=embedder, auto_ingest=False) as a:
                a.store.set_dimension(embedder.dimension)
                for size in chosen:
                    result.sizes.append(
                        bench_size(
                            a,
                            gen,
                            size,
                            queries=queries,
                            k=k,
                            encode_upto=encode_upto,
                            pool=pool,
                            show_progress=show_progress,
                        )
                    )
    result.machine["load_after"] = _load()
    result.machine["shared"] = max(load_before[0], result.machine["load_after"][0]) > 0.5
    result.seconds = time.perf_counter() - t_start
    write_outputs(result, out)
    return result


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return [0.0, 0.0, 0.0]


# -- outputs -----------------------------------------------------------------------


def write_outputs(result: BenchResult, out: Path) -> None:
    """``results.json``, ``summary.md``, ``latency.png``, ``ingest.png``."""
    (out / "results.json").write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    (out / "summary.md").write_text(result.to_markdown(), encoding="utf-8")
    plot_latency(result, out / "latency.png")
    plot_ingest(result, out / "ingest.png")


def load_results(path: str | Path) -> BenchResult:
    """A ``results.json`` back as a :class:`BenchResult`, to re-plot or re-summarise without re-running."""
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    raw = d["ingest"]
    ingest = IngestBench(**{f.name: raw[f.name] for f in dataclasses.fields(IngestBench)}) if raw else None
    sizes = [SizeBench(**{f.name: s[f.name] for f in dataclasses.fields(SizeBench)}) for s in d["sizes"]]
    return BenchResult(
        started=d["started"],
        machine=d["machine"],
        config=d["config"],
        ingest=ingest,
        sizes=sizes,
        model_load_s=d["model_load_s"],
        seconds=d["seconds"],
        notes=d.get("notes", []),
    )


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    return plt


def plot_latency(result: BenchResult, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    xs = [s.chunks for s in result.sizes]
    for name, label, color in (
        ("ask_ms", "assistant ask", "tab:blue"),
        ("floor_ms", "floor: embed + Chroma query", "tab:gray"),
    ):
        for q, style in ((50, "-"), (95, "--")):
            ys = [s.p(name, q) or float("nan") for s in result.sizes]
            ax.plot(xs, ys, style, marker="o", color=color, label=f"{label} p{q}")
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(xs, [_size_label(x) for x in xs])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    lo, hi = ax.get_ylim()
    few = hi / max(lo, 1e-9) < 30  # narrow range: label every minor tick, else only 2x and 5x
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}" if few or f"{v:g}"[0] in "25" else ""))
    ax.set_xlabel("corpus size (chunks)")
    ax.set_ylabel("latency per question (ms)")
    ax.set_title("Query latency vs corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _size_label(n: int) -> str:
    for scale, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= scale and n % (scale // 10) == 0:
            return f"{n / scale:g}{suffix}"
    return str(n)


def plot_ingest(result: BenchResult, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    i = result.ingest
    labels = ["assistant ingest", "model.encode (same texts)"]
    values = [i.ingest_chunks_per_s, i.encode_chunks_per_s] if i else [0.0, 0.0]
    bars = ax.bar(labels, values, color=["tab:blue", "tab:gray"])
    for bar, v in zip(bars, values, strict=True):
        ax.annotate(f"{v:.1f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom")
    ax.set_ylabel("chunks / s")
    ax.set_title(f"Ingest throughput ({i.chunks} chunks, ratio {i.ratio:.2f})" if i else "Ingest throughput (not run)")
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
