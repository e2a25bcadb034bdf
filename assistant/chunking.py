"""Sentence-aware French chunking that keeps character offsets.

A chunk is a span ``text[start:end]`` of whole sentences, cut so that the text
the model embeds (title + chunk) never exceeds the model's ``max_seq_length``:
nothing is silently truncated. A sentence longer than the budget is cut at word
boundaries, using the tokenizer's own offsets.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from .models import Bulletin, Chunk

#: Bump when the chunking changes, so that re-ingest re-chunks everything.
CHUNKER_VERSION = "1"

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "drs", "pr", "me", "st", "ste", "cf", "p", "pp", "art", "al",
    "env", "etc", "ex", "fig", "hab", "max", "min", "n", "no", "vol", "éd", "av", "bd", "apr", "j.-c", "c", "cie",
    "vs", "resp", "sq", "chap", "coll", "dir", "sept", "oct", "nov", "déc", "janv", "févr", "juil",
}  # fmt: skip

# Candidate ends: ., !, ?, … (optionally followed by closing quotes/brackets) then space.
_END_RE = re.compile(r"[.!?…]+[»”\"')\]]*(?=\s)")
_WORD_BEFORE_RE = re.compile(r"([\w\-.]+)$")
_PARA_RE = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•|#]|\d+[.)]\s))|\n")


class Tokenizer(Protocol):
    """What chunking needs from the embedding model's tokenizer."""

    max_tokens: int

    def count(self, text: str) -> int: ...

    def token_ends(self, text: str) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def paragraphs(text: str) -> Iterator[Span]:
    """Non-blank lines/paragraphs of ``text``, as trimmed spans."""
    pos = 0
    for m in _PARA_RE.finditer(text):
        yield from _trimmed(text, pos, m.start())
        pos = m.end()
    yield from _trimmed(text, pos, len(text))


def _trimmed(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        yield Span(start, end)


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentences of ``text[start:end]`` (one paragraph), as trimmed spans."""
    end = len(text) if end is None else end
    out: list[Span] = []
    pos = start
    for m in _END_RE.finditer(text, start, end):
        stop = m.end()
        if not _is_boundary(text, m.start(), stop, end):
            continue
        out.extend(_trimmed(text, pos, stop))
        pos = stop
    out.extend(_trimmed(text, pos, end))
    return out


def _is_boundary(text: str, dot: int, stop: int, end: int) -> bool:
    """Does the punctuation at ``dot`` end a sentence?"""
    nxt = stop
    while nxt < end and text[nxt].isspace():
        nxt += 1
    if nxt >= end:
        return True
    follower = text[nxt]
    if not (follower.isupper() or follower.isdigit() or follower in "«\"“(['-—–•"):
        return False
    if text[dot] == ".":
        word = _WORD_BEFORE_RE.search(text, max(0, dot - 20), dot)
        if word:
            token = word.group(1).lower().rstrip(".")
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                return False
    return True


def sentence_spans(text: str) -> list[Span]:
    """All sentences of a document, paragraph by paragraph."""
    return [s for p in paragraphs(text) for s in sentences(text, p.start, p.end)]


def chunk_id(bulletin_id: str, content_hash: str, index: int) -> str:
    """Deterministic: same bulletin content + same position -> same id."""
    digest = hashlib.sha1(f"{bulletin_id}\x00{content_hash}\x00{CHUNKER_VERSION}".encode()).hexdigest()[:16]
    return f"{digest}-{index:04d}"


def embed_text(title: str, text: str) -> str:
    """The exact string embedded for a chunk (title gives the topic)."""
    return f"{title}\n{text}"


def chunk_bulletin(bulletin: Bulletin, tokenizer: Tokenizer, *, target_tokens: int = 128) -> list[Chunk]:
    """Cut a bulletin into chunks of whole sentences within the token budget."""
    text = bulletin.text
    title_cost = tokenizer.count(embed_text(bulletin.title, ""))  # includes special tokens
    hard = tokenizer.max_tokens - title_cost
    budget = max(16, min(target_tokens, tokenizer.max_tokens) - title_cost)
    if hard < 16:
        budget = hard = max(8, tokenizer.max_tokens // 2)
    pieces: list[tuple[Span, int, bool]] = []  # span, tokens, starts a paragraph
    for para in paragraphs(text):
        first = True
        for sent in sentences(text, para.start, para.end):
            for piece in _fit(text, sent, tokenizer, hard):
                pieces.append((piece, tokenizer.count(text[piece.start : piece.end]), first))
                first = False
    spans = _group(text, pieces, budget, hard, tokenizer.count)
    return [
        Chunk(
            id=chunk_id(bulletin.id, bulletin.content_hash, i),
            bulletin_id=bulletin.id,
            index=i,
            start=s.start,
            end=s.end,
            text=text[s.start : s.end],
        )
        for i, s in enumerate(spans)
    ]


def _group(
    text: str, pieces: list[tuple[Span, int, bool]], budget: int, hard: int, count: Callable[[str], int]
) -> list[Span]:
    """Greedily merge consecutive sentences; prefer to break at paragraphs."""
    out: list[Span] = []
    cur: Span | None = None
    cur_tokens = 0
    for span, tokens, para_start in pieces:
        if cur is not None:
            merged = Span(cur.start, span.end)
            # Estimate first (cheap); confirm with the tokenizer near the limit.
            fits = cur_tokens + tokens <= budget
            if fits and cur_tokens + tokens > budget - 8:
                fits = count(text[merged.start : merged.end]) <= budget
            small = cur_tokens < budget // 3
            if fits and (not para_start or small):
                cur, cur_tokens = merged, cur_tokens + tokens
                continue
            out.append(cur)
        cur, cur_tokens = span, tokens
    if cur is not None:
        out.append(cur)
    # Safety net: a merged span is re-counted exactly and split if it overflows.
    final: list[Span] = []
    for span in out:
        if count(text[span.start : span.end]) <= hard:
            final.append(span)
        else:
            final.extend(p for p, _, _ in pieces if span.start <= p.start and p.end <= span.end)
    return final


def _fit(text: str, sent: Span, tokenizer: Tokenizer, hard: int) -> list[Span]:
    """Split a sentence that alone exceeds ``hard`` tokens at word boundaries."""
    piece = text[sent.start : sent.end]
    if tokenizer.count(piece) <= hard:
        return [sent]
    ends = tokenizer.token_ends(piece)  # char end of each token, specials excluded
    out: list[Span] = []
    base = 0
    limit = hard - 2  # room for [CLS]/[SEP]
    while base < len(piece):
        remaining = [e for e in ends if e > base]
        if len(remaining) <= limit:
            out.extend(_trimmed(text, sent.start + base, sent.end))
            break
        cut = remaining[limit - 1]
        space = piece.rfind(" ", base + 1, cut + 1)
        if space > base:
            cut = space
        out.extend(_trimmed(text, sent.start + base, sent.start + cut))
        base = cut
    return out
