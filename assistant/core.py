"""The public entry point: :class:`Assistant` (ingest, ask, stats).

Heavy parts (model, Chroma client, lexical index) are created lazily on first
use and can be passed in, so tests hand in real local components and the
Streamlit cache / HTTP API share one instance across threads.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .chain import build_chain, build_context_chain
from .embeddings import Embedder
from .errors import AssistantError, InvalidQuestionError, ModelMismatchError, SchemaVersionError
from .generation.generator import Generator, StreamEvent
from .ingest import ProgressFn, ingest_paths
from .models import Answer, Bulletin, Filters, IngestReport, Message, StoreStats
from .reading import Reader
from .retrieval import HybridRetriever, LexicalCache
from .settings import Settings
from .store import ChunkStore
from .uploads import stage_uploads

HistoryLike = Sequence[Message | dict[str, Any]] | None


class Assistant:
    """Answers French questions about figures in bulletins, with citations."""

    def __init__(
        self,
        store_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        store: ChunkStore | None = None,
        chroma_url: str | None = None,
        auto_ingest: bool = True,
    ) -> None:
        base = settings or Settings.from_env()
        overrides: dict[str, Any] = {}
        if store_dir is not None:
            overrides["data_dir"] = Path(store_dir)
        if chroma_url is not None:
            overrides["chroma_url"] = chroma_url
        self.settings = dataclasses.replace(base, **overrides) if overrides else base
        self.auto_ingest = auto_ingest
        self._embedder = embedder
        self._store = store
        self._lexical: LexicalCache | None = None
        self._retriever: HybridRetriever | None = None
        self._chain: Any = None
        self._context_chain: Any = None
        self._generator: Generator | None = None
        self._init_lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._ensured = False

    # -- components (lazy) -------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._init_lock:
                if self._embedder is None:
                    self._embedder = Embedder.from_settings(self.settings)
        return self._embedder

    @property
    def store(self) -> ChunkStore:
        if self._store is None:
            with self._init_lock:
                if self._store is None:
                    s = self.settings
                    self._store = ChunkStore.open(
                        model_name=self.embedder.model_name,
                        dimension=self.embedder.dimension if self.embedder.loaded else None,
                        path=None if s.chroma_url else s.chroma_dir,
                        url=s.chroma_url,
                        name=s.collection,
                        lock_timeout=s.lock_timeout_s,
                    )
        return self._store

    @property
    def lexical(self) -> LexicalCache:
        if self._lexical is None:
            with self._init_lock:
                if self._lexical is None:
                    self._lexical = LexicalCache(self.store)
        return self._lexical

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            with self._init_lock:
                if self._retriever is None:
                    self._retriever = HybridRetriever(
                        store=self.store, embedder=self.embedder, lexical=self.lexical, k=self.settings.top_k
                    )
        return self._retriever

    @property
    def chain(self) -> Any:
        if self._chain is None:
            with self._init_lock:
                if self._chain is None:
                    self._chain = build_chain(
                        self.retriever,
                        self._reader(),
                        page_of=self._page_of,
                        newest=self.newest_bulletin,
                        generator=self.generator,
                    )
        return self._chain

    @property
    def context_chain(self) -> Any:
        """The extractive chain returning its state (answer and passages): what :meth:`ask_stream` starts from."""
        if self._context_chain is None:
            with self._init_lock:
                if self._context_chain is None:
                    self._context_chain = build_context_chain(
                        self.retriever, self._reader(), page_of=self._page_of, newest=self.newest_bulletin
                    )
        return self._context_chain

    @property
    def generator(self) -> Generator | None:
        """The LLM step when one is configured (``ASSISTANT_LLM_*``), else None: answers stay extractive."""
        if self._generator is None and self.settings.llm_enabled:
            with self._init_lock:
                if self._generator is None:
                    self._generator = Generator(self.settings, page_of=self._page_of)
        return self._generator

    def _reader(self) -> Reader:
        return Reader(self._idf, known=self._known, text_of=self._bulletin_text)

    def newest_bulletin(self, filters: Filters | None = None) -> str | None:
        """The id of the most recent dated bulletin that ``filters`` allow (None if none is dated)."""
        f = filters or Filters()
        dated = [
            r
            for r in self.store.records().values()
            if r.date is not None
            and (not f.sources or r.id in f.sources)
            and (f.date_from is None or r.date >= f.date_from)
            and (f.date_to is None or r.date <= f.date_to)
        ]
        return max(dated, key=lambda r: (r.date, r.id)).id if dated else None

    def _bulletin_text(self, bulletin_id: str) -> str | None:
        b = self.store.bulletin(bulletin_id)
        return b.text if b else None

    def _page_of(self, bulletin_id: str, offset: int) -> int | None:
        b = self.store.bulletin(bulletin_id)
        return b.page_at(offset) if b else None

    def _known(self, token: str) -> bool:
        return self.lexical.current().knows(token)

    def _idf(self, token: str) -> float:
        return self.lexical.current().idf(token)

    # -- operations ------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        reindex: bool = False,
        show_progress: bool = False,
        on_progress: ProgressFn | None = None,
        parsed: Mapping[Path, Bulletin] | None = None,
    ) -> IngestReport:
        """Add/update bulletins from files or folders; see :func:`assistant.ingest.ingest_paths`
        (``parsed``: bulletins already read from some of these files, by resolved path)."""
        paths = list(paths)
        if not paths:
            raise InvalidQuestionError(
                "Aucun chemin à indexer.", hint="Donnez un dossier ou des fichiers de bulletins."
            )
        with self._write_lock:
            if reindex:
                self._reopen_for_reindex()
            report = ingest_paths(
                paths,
                store=self.store,
                embedder=self.embedder,
                target_tokens=self.settings.chunk_tokens,
                max_file_bytes=self.settings.max_file_bytes,
                max_pages=self.settings.max_pages,
                parsed=parsed,
                prune=prune,
                show_progress=show_progress,
                on_progress=on_progress,
            )
            self.lexical.invalidate()
            self._ensured = True
            return report

    def add_files(
        self,
        files: Sequence[tuple[str, bytes]],
        on_progress: ProgressFn | None = None,
        *,
        corpus_dir: str | Path | None = None,
    ) -> IngestReport:
        """Write uploaded ``(name, bytes)`` files into the corpus folder, then index them.

        Shared by the HTTP API and the chat so that both accept and refuse the same
        files: a refused file (see :func:`assistant.uploads.store_uploads`) is listed in
        ``failed`` and the rest still go in; same bytes again are ``unchanged``, a new
        version under the same name is ``updated``. ``corpus_dir`` defaults to
        ``settings.corpus_dir`` (the HTTP API passes its own root).
        """
        if not files:
            raise InvalidQuestionError("Aucun fichier à ajouter.", hint="Choisissez un ou plusieurs bulletins.")
        t0 = time.perf_counter()
        if self.auto_ingest:
            self.ensure_corpus()  # as ask() would: the folder's other bulletins first
        root = Path(corpus_dir) if corpus_dir is not None else self.settings.corpus_dir
        s = self.settings
        staged = stage_uploads(root, files, max_bytes=s.max_file_bytes, max_pages=s.max_pages, on_progress=on_progress)
        report = IngestReport()
        if staged.written:
            report = self.ingest(staged.written, on_progress=on_progress, parsed=staged.parsed)
        report.failed = [*staged.failures, *report.failed]
        report.seconds = time.perf_counter() - t0
        return report

    def _reopen_for_reindex(self) -> None:
        """Drop the store's collections so that a new model (or schema) can be used."""
        try:
            store = self.store
        except (ModelMismatchError, SchemaVersionError):
            s = self.settings
            path = None if s.chroma_url else s.chroma_dir
            ChunkStore.drop(path=path, url=s.chroma_url, name=s.collection, lock_timeout=s.lock_timeout_s)
            self._store = None
            store = self.store
        store.reset(self.embedder.dimension)
        self._lexical = None
        self._retriever = None
        self._chain = None
        self._context_chain = None

    def ensure_corpus(
        self, on_progress: ProgressFn | None = None, *, show_progress: bool = False
    ) -> IngestReport | None:
        """Ingest the bundled ``corpus/`` into an empty store (first use)."""
        if self._ensured:
            return None
        with self._init_lock:
            if self._ensured:
                return None
            report = None
            if self.store.count() == 0 and self.settings.corpus_dir.is_dir():
                report = self.ingest([self.settings.corpus_dir], on_progress=on_progress, show_progress=show_progress)
            self._ensured = True
            return report

    def ask(
        self,
        question: str,
        history: HistoryLike = None,
        *,
        filters: Filters | None = None,
        k: int | None = None,
    ) -> Answer:
        """Answer one question (with optional conversation history)."""
        t0 = time.perf_counter()
        clean = self.validate_question(question)
        turns = _history(history, self.settings.max_question_chars)
        if self.auto_ingest:
            self.ensure_corpus()
        answer: Answer = self.chain.invoke({"question": clean, "history": turns, "filters": filters, "k": k})
        return _timed(answer, self.retriever.last_timings, t0)

    def ask_stream(
        self,
        question: str,
        history: HistoryLike = None,
        *,
        filters: Filters | None = None,
        k: int | None = None,
    ) -> Iterator[StreamEvent]:
        """:meth:`ask` for a chat that shows the LLM's text as it is written.

        Yields ``StreamEvent("delta", text=...)`` while the LLM writes, then exactly one
        ``StreamEvent("final", answer=...)``: the guarded answer, to render in place of the deltas (it is
        the reader's answer whenever the text failed the guard). Without an LLM, only the final event.
        The question is checked here, before the first event (bad input raises at call time).
        """
        t0 = time.perf_counter()
        clean = self.validate_question(question)
        turns = _history(history, self.settings.max_question_chars)

        def events() -> Iterator[StreamEvent]:
            if self.auto_ingest:
                self.ensure_corpus()
            state = self.context_chain.invoke({"question": clean, "history": turns, "filters": filters, "k": k})
            timings = dict(self.retriever.last_timings)
            generator = self.generator
            if generator is None:
                yield StreamEvent("final", answer=_timed(state["answer"], timings, t0))
                return
            for event in generator.run(state["answer"], state["passages"], stream=True):
                if event.kind == "final" and event.answer is not None:
                    yield StreamEvent("final", answer=_timed(event.answer, timings, t0))
                else:
                    yield event

        return events()

    def ask_many(
        self, questions: Sequence[str], *, filters: Filters | None = None, k: int | None = None
    ) -> Iterator[Answer]:
        """Answer independent questions in order (scripts); all are checked before any is answered."""
        clean = self.validate_questions(questions)
        return (self.ask(q, filters=filters, k=k) for q in clean)

    def validate_questions(self, questions: Sequence[Any]) -> list[str]:
        """:meth:`validate_question` on each; the error names the first bad one (numbered from 1)."""
        out = []
        for i, question in enumerate(questions, start=1):
            try:
                out.append(self.validate_question(question))
            except InvalidQuestionError as exc:
                raise InvalidQuestionError(f"Question {i} : {exc.message}", hint=exc.hint) from None
        return out

    def validate_question(self, question: Any) -> str:
        if not isinstance(question, str):
            raise InvalidQuestionError("La question doit être un texte.")
        # Lone surrogates and control characters cannot be stored or matched: drop them.
        clean = question.encode("utf-8", "replace").decode("utf-8")
        clean = "".join(ch for ch in clean if unicodedata.category(ch) not in ("Cc", "Cs") or ch in "\n\t")
        clean = " ".join(clean.split())
        if not clean:
            raise InvalidQuestionError("La question est vide.", hint="Posez une question sur un chiffre des bulletins.")
        limit = self.settings.max_question_chars
        if len(clean) > limit:
            raise InvalidQuestionError(
                f"La question est trop longue ({len(clean)} caractères, limite {limit}).",
                hint="Raccourcissez-la à une seule question.",
            )
        return clean

    def stats(self) -> StoreStats:
        return self.store.stats()

    def bulletin(self, bulletin_id: str) -> Bulletin | None:
        return self.store.bulletin(bulletin_id)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _timed(answer: Answer, timings: Mapping[str, float], t0: float) -> Answer:
    total = {**timings, "total_ms": (time.perf_counter() - t0) * 1000}
    return answer.model_copy(update={"timings_ms": {k: round(v, 2) for k, v in total.items()}})


def _history(history: HistoryLike, limit: int) -> list[Message]:
    if not history:
        return []
    try:
        turns = [h if isinstance(h, Message) else Message.model_validate(h) for h in history]
    except (ValidationError, TypeError) as exc:
        raise InvalidQuestionError(
            'Historique invalide : chaque tour doit être {"role": "user"|"assistant", "content": texte}.',
            hint=str(exc).splitlines()[0],
        ) from None
    return [Message(role=t.role, content=t.content[: limit * 4]) for t in turns[-20:]]


__all__ = ["Assistant", "AssistantError", "StreamEvent"]
