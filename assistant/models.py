"""Data passed between stages, and the public answer contract.

Internal stages exchange small frozen dataclasses; what leaves the package
(:class:`Answer`, :class:`IngestReport`) is a pydantic model so that the JSON
form is validated and published as a JSON Schema (``docs/answer.schema.json``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# --------------------------------------------------------------------------
# Internal stage types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bulletin:
    """One bulletin, loaded and normalised.

    ``text`` is the readable text (for Markdown the body after the front matter,
    for HTML the extracted text); every offset in the project points into it.
    """

    id: str
    title: str
    text: str
    date: date | None
    path: str
    source: str | None = None
    url: str | None = None
    content_hash: str = ""
    #: Paged formats (PDF): where each page starts in ``text`` (page 1 at index 0); empty otherwise.
    page_starts: tuple[int, ...] = ()
    #: Pages (1-based) that had no text layer (scans, images): reported, nothing to cite there.
    blank_pages: tuple[int, ...] = ()
    #: Tables found and written as pipe tables.
    tables: int = 0

    @property
    def pages(self) -> int:
        return len(self.page_starts)

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``text[offset]``, or None for a non-paged format."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, offset))


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span ``bulletin.text[start:end]`` that is embedded and indexed."""

    id: str
    bulletin_id: str
    index: int
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A chunk as retrieved, with what the reader needs to cite it."""

    chunk_id: str
    bulletin_id: str
    title: str
    date: date | None
    start: int
    end: int
    text: str
    score: float = 0.0
    rank: int = 0
    scores: dict[str, float] = field(default_factory=dict)

    def to_metadata(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "bulletin_id": self.bulletin_id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "start": self.start,
            "end": self.end,
            "score": self.score,
            "rank": self.rank,
            **{f"score_{k}": v for k, v in self.scores.items()},
        }


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on which bulletins may answer."""

    date_from: date | None = None
    date_to: date | None = None
    sources: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.date_from is None and self.date_to is None and not self.sources


# --------------------------------------------------------------------------
# Public contract
# --------------------------------------------------------------------------

FigureKindName = Literal["count", "percent", "money", "date", "duration", "other"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(_Model):
    """One turn of conversation history."""

    role: Literal["user", "assistant"]
    content: str


class FigureOut(_Model):
    """A figure stated in the answer; ``text`` is verbatim in its citation's quote."""

    text: str = Field(description="Verbatim spelling, e.g. '24 millions'.")
    value: float | None = Field(description="Parsed value: 24 millions -> 24000000; +58 % -> 58.")
    unit: str | None = Field(description="Counted noun ('assurés'), '%', 'EUR', 'min', 'jours'... or null.")
    kind: FigureKindName
    citation: int = Field(description="Id of the citation whose quote contains the figure.")


class Citation(_Model):
    """Where an answer comes from: ``quote == bulletin_text[start:end]``."""

    id: int
    source: str = Field(description="Bulletin id: path relative to the ingested root's parent, e.g. 'corpus/x.txt'.")
    title: str
    date: str | None = Field(description="Bulletin date, YYYY-MM-DD, or null when unknown.")
    chunk_id: str
    quote: str
    start: int
    end: int
    page: int | None = Field(
        default=None, description="1-based page of the quote's start in a paged source (PDF); null otherwise."
    )


class AsOf(_Model):
    """When the stated figure holds."""

    date: str | None = Field(description="ISO date or partial date ('2024', '2024-12-31'), if known.")
    label: str = Field(description="French wording, e.g. '31 décembre 2024' or '29 janvier 2026'.")
    origin: Literal["sentence", "bulletin"] = Field(
        description="From a period stated next to the figure, or from the bulletin's date."
    )


class Conflict(_Model):
    """Another bulletin giving a different value for the same indicator and period."""

    figure: FigureOut
    citation: int


class Operand(_Model):
    figure: FigureOut
    citation: int


class Computation(_Model):
    """A deterministic calculation over cited figures."""

    operation: Literal["difference", "growth", "ratio", "share", "excluding"]
    expression: str = Field(description="The formula with the operands' values, e.g. '24000000 - 17000000'.")
    operands: list[Operand]
    result: float
    result_text: str = Field(description="The result written the way the bulletins write figures.")
    unit: str | None = None


class Generation(_Model):
    """What the optional LLM did with this answer (docs/generation.md)."""

    used: bool = Field(description="True: ``answer`` is the LLM's text, every figure checked against its citation.")
    model: str | None = Field(default=None, description="The LLM's model name, when one was called.")
    reason: str | None = Field(
        default=None,
        description="Why the extractive answer was kept: '<rule>: <detail>', e.g. 'figure_not_in_citation: …'.",
    )
    latency_ms: float | None = Field(default=None, description="Time spent on the LLM call and the guard.")


class Answer(_Model):
    """The one answer contract used by Python, CLI, HTTP API and UI."""

    question: str
    answer: str = Field(description="French answer with [n] citation markers.")
    abstained: bool
    confidence: float = Field(ge=0.0, le=1.0)
    figures: list[FigureOut] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    suggestions: list[Citation] = Field(
        default_factory=list,
        description="When abstaining: the closest passages, offered as 'peut-être utile'.",
    )
    timings_ms: dict[str, float] = Field(default_factory=dict)
    standalone_question: str | None = Field(
        default=None, description="The question as understood, completed from the conversation history."
    )
    as_of: AsOf | None = None
    conflicts: list[Conflict] = Field(default_factory=list)
    computation: Computation | None = None
    kind: Literal["figure", "figures", "key_figures", "not_a_figure", "not_french"] = Field(
        default="figure",
        description="What the reply is: one figure (or a computation); several figures asked together; a "
        "bulletin's key figures as a cited list; a question that asks for no figure (the closest passage is in "
        "'suggestions'); a question not in French.",
    )
    generation: Generation | None = Field(
        default=None, description="Null when no LLM is configured; else whether its text was kept, and why not."
    )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_text(self, *, suggestions: bool = False) -> str:
        """Plain text for copy-paste: answer, then numbered sources with quotes (and, with
        ``suggestions``, the passages an abstention points to)."""
        lines = [self.answer]
        for c in self.citations:
            when = f", {c.date}" if c.date else ""
            page = f", p. {c.page}" if c.page else ""
            lines.append(f"[{c.id}] {c.title} ({c.source}{when}{page}) : « {c.quote} »")
        if suggestions and self.abstained and self.suggestions:
            lines.append("Peut-être utile :")
            lines += [f"  - {s.title} ({s.source}) : « {s.quote} »" for s in self.suggestions]
        return "\n".join(lines)


class BulletinFailure(_Model):
    path: str
    reason: str


class BulletinInfo(_Model):
    """What was read from one added or updated bulletin (shown after an upload)."""

    id: str
    title: str
    date: str | None
    pages: int | None = Field(default=None, description="Page count of a paged source (PDF), else null.")
    blank_pages: list[int] = Field(default_factory=list, description="Pages without a text layer (not read).")
    tables: int = 0
    figures: int = Field(default=0, description="Figures found in the text.")
    chunks: int = 0


class IngestReport(_Model):
    """What an ingest did; ``summary()`` is the line printed by the CLI."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    failed: list[BulletinFailure] = Field(default_factory=list)
    #: What was read from each added or updated bulletin.
    bulletins: list[BulletinInfo] = Field(default_factory=list)
    #: Bulletins whose half-written chunks, left by an ingest that died, were removed first.
    recovered: list[str] = Field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        text = (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed bulletins; "
            f"{self.chunks_added} chunks added, {self.chunks_removed} removed; {self.seconds:.1f} s"
        )
        if self.failed:
            text += f"; {len(self.failed)} failed"
        if self.recovered:
            n = len(self.recovered)
            text += f"; cleaned up after an interrupted ingest: {n} bulletin{'s' if n > 1 else ''}"
        return text


class StoreStats(_Model):
    bulletins: int
    chunks: int
    date_min: str | None
    date_max: str | None
    sources: list[str]
    embedding_model: str
    dimension: int
    last_ingest: str | None
    store: str


def answer_json_schema() -> dict[str, Any]:
    """The published JSON Schema of :class:`Answer` (``docs/answer.schema.json``)."""
    schema = Answer.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "answer.schema.json"
    return schema
