"""From a chosen candidate to the public answer: quote, citation, figure, « as of » date, wording."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from ..chunking import sentence_spans
from ..figures import Figure, FigureKind, extract_figures
from ..lexical import fold, tokenize
from ..models import AsOf, Citation, FigureOut, Passage
from ..questions import QuestionSpec
from .features import Candidate
from .signals import MONTHS_FR

K = FigureKind

ABSTAIN_TEXT = "Je ne trouve pas ce chiffre dans les bulletins."

_MAX_QUOTE = 420


def figure_out(fig: Figure, citation: int) -> FigureOut:
    return FigureOut(text=fig.text, value=fig.value, unit=fig.unit, kind=fig.kind.value, citation=citation)


def citation_for(c: Candidate, n: int) -> Citation:
    """The quoted span of a candidate, located in its bulletin."""
    q_start, q_end = _quote_span(c)
    rel = c.passage.start
    return Citation(
        id=n,
        source=c.passage.bulletin_id,
        title=c.passage.title,
        date=c.passage.date.isoformat() if c.passage.date else None,
        chunk_id=c.passage.chunk_id,
        quote=c.passage.text[q_start - rel : q_end - rel],
        start=q_start,
        end=q_end,
    )


def figure_phrase(c: Candidate) -> str:
    rel = c.passage.start
    return _figure_phrase(c.passage.text, c.figure.start - rel, c.figure.end - rel, c.figure)


def as_of_for(c: Candidate) -> AsOf | None:
    """When the figure holds: a date stated next to it (or its column), else the bulletin's date."""
    if c.column:
        col = [f for f in extract_figures(c.column) if f.kind is K.DATE]
        if col:
            return AsOf(
                date=col[0].date_iso,
                label=col[0].text if not c.column.lower().startswith("fin") else c.column,
                origin="sentence",
            )
    fig = c.figure
    sent = c.sentence
    rel = fig.start - c.sent_start
    best: tuple[float, Figure] | None = None
    for d in extract_figures(sent):
        if d.kind is not K.DATE or d.date_iso is None or (d.start <= rel < d.end):
            continue
        if _NOT_A_PERIOD.search(fold(sent[max(0, d.start - 28) : d.start]).replace("’", "'")):
            continue  # "lancé en janvier 2022", "publié le 29 janvier 2026": another event's date
        dist = rel - d.end if d.end <= rel else (d.start - (rel + len(fig.text))) * 1.5
        between = sent[min(d.end, rel) : max(d.start, rel)]
        if dist > 110 or "." in between.strip(". ") or ";" in between:
            continue
        if best is None or dist < best[0]:
            best = (dist, d)
    if best is not None:
        d = best[1]
        label = d.text
        window = fold(sent[max(0, d.start - 6) : d.start])
        if "fin" in window and not label.lower().startswith("fin"):
            label = f"fin {label}"
        return AsOf(date=d.date_iso, label=label, origin="sentence")
    if c.passage.date:
        return AsOf(date=c.passage.date.isoformat(), label=format_date(c.passage.date), origin="bulletin")
    return None


_NOT_A_PERIOD = re.compile(
    r"(?:depuis|lancement|lance[es]?|creation|cree[es]?|apres|avant|ouverture|entre|publie[es]?|communique"
    r"|jusqu'?(?:au|a|en)|annonce[es]?|presente[es]?|date[es]? du|a partir)\s+(?:le\s+|la\s+|en\s+|l'|de\s+)?\S*\s*$"
)


def lead(as_of: AsOf, target: bool) -> str:
    label = as_of.label
    if target:
        return f"Objectif pour {label}"
    if label[:1].isdigit() and len(as_of.date or "") >= 10:
        return f"Au {label}"
    if label.lower().startswith(("fin", "début", "debut", "mi-")):
        return label[0].upper() + label[1:]
    return f"En {label}"


def format_date(d: date | None) -> str:
    if d is None:
        return ""
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS_FR[d.month - 1]} {d.year}"


def suggestions(spec: QuestionSpec, passages: Sequence[Passage], n: int = 3) -> list[Citation]:
    """Closest passages, each cut to its best sentence, for an abstention."""
    out: list[Citation] = []
    qset = set(spec.terms)
    for i, p in enumerate(passages[:n], start=1):
        spans = sentence_spans(p.text)
        best = max(spans, key=lambda s: len(qset & set(tokenize(p.text[s.start : s.end]))), default=None)
        s0, s1 = (best.start, best.end) if best else (0, len(p.text))
        out.append(
            Citation(
                id=i,
                source=p.bulletin_id,
                title=p.title,
                date=p.date.isoformat() if p.date else None,
                chunk_id=p.chunk_id,
                quote=p.text[s0:s1],
                start=p.start + s0,
                end=p.start + s1,
            )
        )
    return out


def _quote_span(c: Candidate) -> tuple[int, int]:
    """The sentence, or a window of it around the figure when it is very long."""
    if c.sent_end - c.sent_start <= _MAX_QUOTE:
        return c.sent_start, c.sent_end
    sent = c.sentence
    rel_s = c.figure.start - c.sent_start
    rel_e = c.figure.end - c.sent_start
    lo = max(0, rel_s - _MAX_QUOTE // 2)
    hi = min(len(sent), rel_e + _MAX_QUOTE // 2)
    if lo > 0:
        sp = sent.find(" ", lo)
        lo = sp + 1 if 0 <= sp < rel_s else lo
    if hi < len(sent):
        sp = sent.rfind(" ", rel_e, hi)
        hi = sp if sp > rel_e else hi
    return c.sent_start + lo, c.sent_start + hi


_NOUN_AFTER = re.compile(r"\s*(?:de\s+|d['’]\s*)?([^\W\d_][\w\-]*)", re.UNICODE)


def _figure_phrase(text: str, start: int, end: int, fig: Figure) -> str:
    """The figure as written, with its counted noun when it follows directly."""
    if fig.kind is K.COUNT and fig.unit:
        m = _NOUN_AFTER.match(text, end)
        if m and fold(m.group(1)) == fold(fig.unit):
            return text[start : m.end()]
    return text[start:end]


def same_period(a: str | None, b: str | None) -> bool:
    """'2024' and '2024-12-31' name the same period at different precisions."""
    return a is not None and b is not None and (a.startswith(b) or b.startswith(a))
