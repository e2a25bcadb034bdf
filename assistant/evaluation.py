"""Scoring answers against a gold set (used by the tests and ``assistant eval``).

Gold format, one JSON object per line (documented in ``docs/evaluation.md``)::

    {"id", "question", "history": [...], "expected": {"value", "unit", "texts"} | null,
     "source": "corpus/x.txt" | null, "category": str, "answerable": bool, "page": int | [int] (optional, PDFs)}

The pure scoring functions (:func:`figure_correct`, :func:`citation_correct`,
:func:`faithful`, :func:`abstention_scores`...) work on :class:`Answer` objects, so they
are tested on hand-made answers; :func:`run_eval` runs a whole gold file through a real
:class:`~assistant.core.Assistant` and returns an :class:`EvalResult`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .conversation import standalone_question
from .errors import AssistantError
from .models import Answer, Message, Passage
from .settings import Settings

if TYPE_CHECKING:
    from .core import Assistant
    from .embeddings import Embedder


class GoldFileError(AssistantError):
    """The gold file is missing or has an invalid line (bad input: exit code 2, not 1 which means "below threshold")."""

    exit_code = 2


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    history: list[dict[str, str]]
    expected: dict[str, Any] | None
    source: str | None
    category: str
    answerable: bool
    #: For a paged source (PDF): the 1-based page(s) the figure is on; a citation must give one of them.
    pages: tuple[int, ...] = ()


def load_gold(path: str | Path) -> list[GoldItem]:
    items: list[GoldItem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFileError(f"Fichier de référence illisible : {path} ({exc.__class__.__name__})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                GoldItem(
                    id=str(raw["id"]),
                    question=raw["question"],
                    history=list(raw.get("history") or []),
                    expected=raw.get("expected"),
                    source=raw.get("source"),
                    category=str(raw.get("category", "")),
                    answerable=bool(raw.get("answerable", raw.get("expected") is not None)),
                    pages=_pages(raw.get("page")),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GoldFileError(f"{path}:{n}: ligne de référence invalide ({exc})") from None
    return items


def _pages(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    return tuple(int(v) for v in value) if isinstance(value, list) else (int(value),)


def figure_correct(item: GoldItem, answer: Answer) -> bool:
    """Right figure stated (value within 1e-6 relative, or an accepted spelling), not abstained."""
    if not item.answerable:
        return answer.abstained
    if answer.abstained or not item.expected:
        return False
    value = item.expected.get("value")
    texts = {t for t in item.expected.get("texts") or []}
    computed = answer.computation
    if computed is not None and value is not None and math.isclose(computed.result, float(value), rel_tol=1e-6):
        return True
    for fig in answer.figures:
        if value is not None and fig.value is not None and math.isclose(fig.value, float(value), rel_tol=1e-6):
            return True
        if fig.text in texts:
            return True
    return False


def citation_correct(item: GoldItem, answer: Answer) -> bool:
    """The expected bulletin (and page, when the gold gives one) is among the answer's citations."""
    return item.source is None or any(
        c.source == item.source and (not item.pages or c.page in item.pages) for c in answer.citations
    )


def faithful(answer: Answer) -> bool:
    """Every stated figure is verbatim in the quote of the citation it points to."""
    quotes = {c.id: c.quote for c in answer.citations}
    return all(f.text in quotes.get(f.citation, "") for f in answer.figures)


# --------------------------------------------------------------------------
# The evaluation kit: run a gold set through an Assistant and score it.
# --------------------------------------------------------------------------


def faithfulness_counts(answer: Answer) -> tuple[int, int]:
    """(stated figures found verbatim in their cited quote, stated figures): the parts of :func:`faithful`."""
    quotes = {c.id: c.quote for c in answer.citations}
    found = sum(1 for f in answer.figures if f.text in quotes.get(f.citation, ""))
    return found, len(answer.figures)


def abstention_scores(outcomes: Iterable[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """Abstention (precision, recall) from ``(answerable, abstained)`` pairs.

    Abstaining is the "positive" prediction and an unanswerable question the positive
    class: precision = share of abstentions that were on unanswerable questions, recall =
    share of unanswerable questions abstained on. ``None`` when undefined (no abstention,
    resp. no unanswerable question), so that an empty denominator never reads as 0 or 100 %.
    """
    abstained = unanswerable = both = 0
    for answerable, did_abstain in outcomes:
        abstained += did_abstain
        unanswerable += not answerable
        both += did_abstain and not answerable
    precision = both / abstained if abstained else None
    recall = both / unanswerable if unanswerable else None
    return precision, recall


def source_rank(passages: Sequence[Passage], source: str | None) -> int | None:
    """1-based rank of bulletin ``source`` among the distinct bulletins of ``passages``, in order (None when absent).

    Several chunks of one bulletin count once: recall@k is "the expected bulletin among the first k
    bulletins retrieved".
    """
    if source is None:
        return None
    bulletins = list(dict.fromkeys(p.bulletin_id for p in passages))
    return bulletins.index(source) + 1 if source in bulletins else None


#: Chunks retrieved to rank bulletins for recall@1/@5/@10 (enough to hold 10 distinct bulletins).
RECALL_DEPTH = 30


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (``q`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


@dataclass
class ItemResult:
    """One gold question as answered: what the report and the metrics are computed from."""

    id: str
    category: str
    question: str
    standalone: str
    answerable: bool
    expected: dict[str, Any] | None
    expected_source: str | None
    correct: bool
    abstained: bool
    answer: str
    figures: list[dict[str, Any]]
    cited: list[str]
    citation_ok: bool | None  # only judged on correct answers to answerable questions with a source
    source_rank: int | None  # rank of the expected bulletin among the distinct bulletins retrieved
    figures_verbatim: int
    figures_total: int
    latency_ms: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CategoryScore:
    n: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "correct": self.correct, "accuracy": self.accuracy}


@dataclass
class EvalResult:
    """Scores of a gold set; ``to_dict()`` for scripts, ``to_markdown()`` for people."""

    gold: str
    items: list[ItemResult]
    k: int | None = None
    store: str = ""
    seconds: float = 0.0
    by_category: dict[str, CategoryScore] = field(init=False)

    def __post_init__(self) -> None:
        cats: dict[str, CategoryScore] = {}
        for it in self.items:
            score = cats.setdefault(it.category, CategoryScore(0, 0))
            score.n += 1
            score.correct += it.correct
        self.by_category = dict(sorted(cats.items()))

    # -- metrics ---------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def correct(self) -> int:
        return sum(it.correct for it in self.items)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def citation_accuracy(self) -> float | None:
        judged = [it.citation_ok for it in self.items if it.citation_ok is not None]
        return _ratio(sum(judged), len(judged))

    @property
    def abstention_precision(self) -> float | None:
        return abstention_scores((it.answerable, it.abstained) for it in self.items)[0]

    @property
    def abstention_recall(self) -> float | None:
        return abstention_scores((it.answerable, it.abstained) for it in self.items)[1]

    def recall_at(self, n: int) -> float | None:
        """Share of questions with an expected source whose source is in the top ``n`` retrieved."""
        judged = [it for it in self.items if it.expected_source is not None and it.error is None]
        return _ratio(sum(1 for it in judged if it.source_rank is not None and it.source_rank <= n), len(judged))

    @property
    def faithfulness(self) -> float | None:
        return _ratio(sum(it.figures_verbatim for it in self.items), sum(it.figures_total for it in self.items))

    @property
    def latency_p50_ms(self) -> float | None:
        return percentile([it.latency_ms for it in self.items if it.error is None], 50)

    @property
    def latency_p95_ms(self) -> float | None:
        return percentile([it.latency_ms for it in self.items if it.error is None], 95)

    @property
    def failures(self) -> list[ItemResult]:
        return [it for it in self.items if not it.correct]

    @property
    def wrong_citations(self) -> list[ItemResult]:
        return [it for it in self.items if it.citation_ok is False]

    @property
    def unfaithful(self) -> list[ItemResult]:
        return [it for it in self.items if it.figures_verbatim < it.figures_total]

    def metrics(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "citation_accuracy": self.citation_accuracy,
            "abstention_precision": self.abstention_precision,
            "abstention_recall": self.abstention_recall,
            "retrieval_recall_at_1": self.recall_at(1),
            "retrieval_recall_at_5": self.recall_at(5),
            "retrieval_recall_at_10": self.recall_at(10),
            "faithfulness": self.faithfulness,
            "latency_p50_ms": self.latency_p50_ms,
            "latency_p95_ms": self.latency_p95_ms,
            "errors": sum(it.error is not None for it in self.items),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "store": self.store,
            "k": self.k,
            "seconds": round(self.seconds, 2),
            "metrics": self.metrics(),
            "by_category": {c: s.to_dict() for c, s in self.by_category.items()},
            "failures": [it.id for it in self.failures],
            "items": [it.to_dict() for it in self.items],
        }

    # -- text forms ------------------------------------------------------------
    def summary(self) -> str:
        """A few lines for the terminal."""
        m = self.metrics()
        lines = [
            f"Accuracy {_pct(m['accuracy'])} ({self.correct}/{self.total})   citations {_pct(m['citation_accuracy'])}"
            f"   faithfulness {_pct(m['faithfulness'])}",
            f"Abstention precision {_pct(m['abstention_precision'])}   recall {_pct(m['abstention_recall'])}",
            f"Retrieval recall@1 {_pct(m['retrieval_recall_at_1'])}   @5 {_pct(m['retrieval_recall_at_5'])}"
            f"   @10 {_pct(m['retrieval_recall_at_10'])}",
            f"Latency p50 {_ms(m['latency_p50_ms'])}   p95 {_ms(m['latency_p95_ms'])}",
            "By category: "
            + ", ".join(f"{c} {_pct(s.accuracy)} ({s.correct}/{s.n})" for c, s in self.by_category.items()),
        ]
        if m["errors"]:
            lines.append(f"Errors: {m['errors']}")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The report: metrics, accuracy by category, then every failure in full."""
        m = self.metrics()
        out = [
            f"# Evaluation report — `{self.gold}`",
            "",
            f"{self.total} questions, store `{self.store or '?'}`, k = {self.k or 'default'}, {self.seconds:.1f} s.",
            "",
            "| metric | value |",
            "| --- | --- |",
            f"| accuracy | {_pct(m['accuracy'])} ({self.correct}/{self.total}) |",
            f"| citation accuracy (correct answers) | {_pct(m['citation_accuracy'])} |",
            f"| abstention precision | {_pct(m['abstention_precision'])} |",
            f"| abstention recall | {_pct(m['abstention_recall'])} |",
            f"| retrieval recall@1 | {_pct(m['retrieval_recall_at_1'])} |",
            f"| retrieval recall@5 | {_pct(m['retrieval_recall_at_5'])} |",
            f"| retrieval recall@10 | {_pct(m['retrieval_recall_at_10'])} |",
            f"| faithfulness (figures verbatim in their quote) | {_pct(m['faithfulness'])} |",
            f"| latency p50 / p95 | {_ms(m['latency_p50_ms'])} / {_ms(m['latency_p95_ms'])} |",
            "",
            "## Accuracy by category",
            "",
            "| category | n | correct | accuracy |",
            "| --- | ---: | ---: | ---: |",
            *(f"| {c} | {s.n} | {s.correct} | {_pct(s.accuracy)} |" for c, s in self.by_category.items()),
            "",
            f"## Failures ({len(self.failures)})",
            "",
        ]
        if not self.failures:
            out += ["None.", ""]
        for it in self.failures:
            out += _item_block(it)
        if self.wrong_citations:
            out += [f"## Right figure, wrong source ({len(self.wrong_citations)})", ""]
            for it in self.wrong_citations:
                out += _item_block(it)
        if self.unfaithful:
            out += [f"## Figures not verbatim in their quote ({len(self.unfaithful)})", ""]
            for it in self.unfaithful:
                out += _item_block(it)
        return "\n".join(out).rstrip() + "\n"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f} ms"


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _expected_text(it: ItemResult) -> str:
    if not it.answerable or not it.expected:
        return "abstention (not in the bulletins)"
    e = it.expected
    spellings = " / ".join(f"« {t} »" for t in e.get("texts") or [])
    unit = f" {e['unit']}" if e.get("unit") else ""
    return f"{spellings} (value {e.get('value')}{unit}) from `{it.expected_source}`".strip()


def _got_text(it: ItemResult) -> str:
    if it.error:
        return f"error: {it.error}"
    if it.abstained:
        return "abstained"
    figs = ", ".join(
        f"« {f['text']} » (value {f['value']}{' ' + f['unit'] if f.get('unit') else ''})" for f in it.figures
    )
    return figs or "no figure"


def _item_block(it: ItemResult) -> list[str]:
    lines = [f"### {it.id} [{it.category}]", "", f"- Question: {_md(it.question)}"]
    if it.standalone != it.question:
        lines.append(f"- Standalone question: {_md(it.standalone)}")
    rank = f"rank {it.source_rank}" if it.source_rank else "not in top 5"
    lines += [
        f"- Expected: {_md(_expected_text(it))}",
        f"- Got: {_md(_got_text(it))}",
        f"- Cited source: {', '.join(f'`{s}`' for s in it.cited) or 'none'}",
    ]
    if it.expected_source:
        lines.append(f"- Expected source retrieved: {rank}")
    if it.answer and not it.abstained:
        lines.append(f"- Answer: {_md(it.answer)}")
    return [*lines, ""]


# -- running -------------------------------------------------------------------


def evaluate_item(assistant: Assistant, item: GoldItem, *, k: int | None = None) -> ItemResult:
    """Ask one gold question, time it, and check where retrieval put the expected source."""
    try:
        history = [Message.model_validate(h) for h in item.history]
    except (ValidationError, TypeError):
        history = []  # ask() reports the invalid history below
    standalone = standalone_question(item.question, history)
    t0 = time.perf_counter()
    try:
        answer = assistant.ask(item.question, history=item.history, k=k)
    except AssistantError as exc:
        return ItemResult(
            id=item.id, category=item.category, question=item.question, standalone=standalone,
            answerable=item.answerable, expected=item.expected, expected_source=item.source, correct=False,
            abstained=False, answer="", figures=[], cited=[], citation_ok=None, source_rank=None,
            figures_verbatim=0, figures_total=0, latency_ms=(time.perf_counter() - t0) * 1000, error=str(exc),
        )  # fmt: skip
    latency = (time.perf_counter() - t0) * 1000
    correct = figure_correct(item, answer)
    passages = assistant.retriever.retrieve(standalone, k=RECALL_DEPTH)
    verbatim, total = faithfulness_counts(answer)
    judged = correct and item.answerable and item.source is not None
    return ItemResult(
        id=item.id,
        category=item.category,
        question=item.question,
        standalone=standalone,
        answerable=item.answerable,
        expected=item.expected,
        expected_source=item.source,
        correct=correct,
        abstained=answer.abstained,
        answer=answer.answer,
        figures=[{"text": f.text, "value": f.value, "unit": f.unit} for f in answer.figures],
        cited=list(dict.fromkeys(c.source for c in answer.citations)),
        citation_ok=citation_correct(item, answer) if judged else None,
        source_rank=source_rank(passages, item.source),
        figures_verbatim=verbatim,
        figures_total=total,
        latency_ms=latency,
    )


def evaluate(
    assistant: Assistant,
    items: Sequence[GoldItem],
    *,
    k: int | None = None,
    gold: str = "",
    show_progress: bool = False,
) -> EvalResult:
    """Score ``items`` with ``assistant``; model and BM25 index are warmed up first, so latency is per question."""
    from tqdm import tqdm

    t0 = time.perf_counter()
    if assistant.auto_ingest:
        assistant.ensure_corpus()
    assistant.retriever.retrieve("échauffement", k=1)  # load the model, build the lexical index
    results = [
        evaluate_item(assistant, item, k=k)
        for item in tqdm(items, desc="eval", unit="q", disable=not show_progress, leave=False)
    ]
    return EvalResult(gold=gold, items=results, k=k, store=assistant.store.location, seconds=time.perf_counter() - t0)


def run_eval(
    gold: str | Path,
    *,
    corpus: str | Path | Sequence[str | Path] | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    k: int | None = None,
    show_progress: bool = False,
) -> EvalResult:
    """Evaluate a gold file: on a fresh temporary store holding ``corpus`` (folders or files) when given,
    else on ``settings``' store."""
    from .core import Assistant  # heavy (LangChain, Chroma): only when actually running

    items = load_gold(gold)
    base = settings or Settings.from_env()
    if corpus is not None and not isinstance(corpus, str | Path):
        corpus = list(corpus) or None
    if corpus is None:
        with Assistant(settings=base, embedder=embedder) as assistant:
            return evaluate(assistant, items, k=k, gold=str(gold), show_progress=show_progress)
    with tempfile.TemporaryDirectory(prefix="assistant-eval-") as tmp:
        fresh = dataclasses.replace(base, data_dir=Path(tmp), chroma_url=None)
        with Assistant(settings=fresh, embedder=embedder, auto_ingest=False) as assistant:
            paths = [corpus] if isinstance(corpus, str | Path) else corpus
            report = assistant.ingest(paths, show_progress=show_progress)
            where = ", ".join(str(p) for p in paths) if len(paths) <= 3 else f"{paths[0]} (+{len(paths) - 1})"
            if not (report.added or report.updated or report.unchanged):
                raise AssistantError(f"Aucun bulletin lisible dans {where}.", hint="Vérifiez le dossier --corpus.")
            result = evaluate(assistant, items, k=k, gold=str(gold), show_progress=show_progress)
            result.store = f"temporary store of {where}"
            return result
