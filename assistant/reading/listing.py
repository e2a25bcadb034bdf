"""Replies that are not one figure: several figures at once, a bulletin's key figures, honest refusals.

Each keeps the contract's promise: every figure given is verbatim in the quote of the citation it names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..chunking import sentence_spans
from ..figures import Figure, FigureKind, extract_figures
from ..lexical import fold, tokenize
from ..models import Answer, Citation, Passage
from ..questions import QuestionSpec
from .answer import clean_clause, figure_out, format_date, passage_citation, source_heading, suggestions

KEY_KINDS = (FigureKind.COUNT, FigureKind.PERCENT, FigureKind.MONEY, FigureKind.DURATION)
_SPAN_UNITS = frozenset({"ans", "an", "années", "mois", "jours", "semaines"})  # ages and spans, not key figures
_MARKUP = re.compile(r"\*\*|__|^[#>\s]+", re.MULTILINE)
MAX_KEY_FIGURES = 5
_MAX_QUOTE = 420

NOT_A_FIGURE_TEXT = (
    "Je réponds aux questions sur les chiffres des bulletins (combien, quelle part, quel montant, quelle date…) ; "
    "voici le passage le plus proche de votre question."
)
NOT_FRENCH_TEXT = (
    "Posez votre question en français, par exemple « Combien de … ? » ou « Quelle part de … ? ». "
    "(This assistant answers questions in French about the figures of French bulletins.)"
)
NO_KEY_FIGURES_TEXT = "Je ne trouve pas de chiffres dans ce bulletin."


def is_key_figure(f: Figure) -> bool:
    """Counts, shares, amounts and durations; not ages or spans (« 50 ans », « 3 mois »), not dates."""
    return f.kind in KEY_KINDS and not (f.kind is FigureKind.DURATION and f.unit in _SPAN_UNITS)


def clause(text: str, f: Figure, limit: int = 220) -> str:
    """The clause (between , ; : or sentence ends) holding the figure, plain text, without a leading link word
    (« mais », « avec »); a table row as « label : a ; b »."""
    line_start = text.rfind("\n", 0, f.start) + 1
    line_end = text.find("\n", f.end)
    line = text[line_start : line_end if line_end >= 0 else len(text)]
    if line.lstrip().startswith("|"):
        cells = [c.strip() for c in line.strip().strip("|").split("|") if c.strip()]
        return (cells[0] + " : " + " ; ".join(cells[1:]) if len(cells) > 1 else " ".join(cells))[:limit]
    bounds = re.compile(r"[;:\n]|[.!?](?=\s)|,\s")
    starts = [m.end() for m in bounds.finditer(text, max(0, f.start - 400), f.start)]
    start = starts[-1] if starts else max(0, f.start - 400)
    m = bounds.search(text, f.end, f.end + 400)
    end = m.start() if m else min(len(text), f.end + 400)
    out = clean_clause(" ".join(_MARKUP.sub("", text[start:end]).split()))
    out = out[:1].upper() + out[1:]
    if len(out) > limit:
        out = out[: limit - 1].rstrip() + "…"
    return out


# --------------------------------------------------------------------------- several figures


def _renumber(text: str, mapping: dict[int, int]) -> str:
    return re.sub(r"\[(\d+)\]", lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]", text)


def combine(question: str, parts: Sequence[tuple[str, Answer]]) -> Answer | None:
    """One answer for « Combien de décès et d'hospitalisations … ? » from one reading per counted thing.

    None when the parts do not give distinct figures (one abstains, or both find the same one: « hôpitaux
    et cliniques » counted together), so the whole question is read as one.
    """
    answered = [(q, a) for q, a in parts if not a.abstained and a.figures]
    if len(answered) < len(parts):
        return None
    mains = {(a.citations[0].source, a.citations[0].start, a.figures[0].value) for _, a in answered}
    if len(mains) < len(answered):
        return None
    citations: list[Citation] = []
    figures = []
    sentences: list[str] = []
    by_span: dict[tuple[str, int, int], int] = {}
    for _, a in answered:
        mapping: dict[int, int] = {}
        for c in a.citations:
            key = (c.source, c.start, c.end)
            if key not in by_span:
                by_span[key] = len(citations) + 1
                citations.append(c.model_copy(update={"id": by_span[key]}))
            mapping[c.id] = by_span[key]
        main = a.figures[0]
        figures.append(main.model_copy(update={"citation": mapping[main.citation]}))
        sentence = _renumber(a.answer, mapping)
        if sentence not in sentences:  # both figures in one sentence: said once
            sentences.append(sentence)
    return Answer(
        question=question,
        answer=" ".join(sentences),
        abstained=False,
        confidence=min(a.confidence for _, a in answered),
        figures=figures,
        citations=citations,
        as_of=answered[0][1].as_of,
        kind="figures",
    )


# --------------------------------------------------------------------------- key figures of a bulletin


def _sentence_figure(text: str, start: int, end: int) -> Figure | None:
    return next((f for f in extract_figures(text[start:end]) if is_key_figure(f)), None)


def key_figures_answer(
    question: str, spec: QuestionSpec, passages: Sequence[Passage], *, by_topic: bool, limit: int = MAX_KEY_FIGURES
) -> Answer:
    """A short cited list: one figure per sentence, from ``passages`` (one bulletin's), each with its clause.

    ``by_topic`` (« que dit le bulletin sur … »): passages in the given (relevance) order, in each the sentences
    sharing most words with the question first; otherwise the bulletin's order (its lead states its key figures).
    """
    terms = set(spec.terms)
    found: list[tuple[tuple[int, int], int, Passage, int, int, Figure]] = []
    for rank, p in enumerate(passages):
        for s in sentence_spans(p.text):
            if s.end - s.start > _MAX_QUOTE:
                continue
            fig = _sentence_figure(p.text, s.start, s.end)
            if fig is None:
                continue
            overlap = len(terms & set(tokenize(p.text[s.start : s.end])))
            order = (rank, -overlap) if by_topic else (0, 0)
            found.append((order, p.start + s.start, p, s.start, s.end, fig))
    found.sort(key=lambda t: (t[0], t[1]))
    citations: list[Citation] = []
    figures = []
    lines = []
    seen: set[str] = set()
    for _, _, p, s0, s1, fig in found:
        key = " ".join(fold(fig.text).split())
        if key in seen:
            continue
        seen.add(key)
        n = len(citations) + 1
        sentence = p.text[s0:s1]
        citations.append(passage_citation(p, n, s0, s1))
        figures.append(figure_out(fig, n))
        lines.append(f"- {clause(sentence, fig)} [{n}]")
        if len(citations) >= limit:
            break
    if not citations:
        return Answer(question=question, answer=NO_KEY_FIGURES_TEXT, abstained=True, confidence=1.0, kind="key_figures")
    first = passages[0]
    when = f" ({format_date(first.date)})" if first.date else ""
    head = f"Chiffres de « {source_heading(first.title, first.bulletin_id)} »{when}"
    return Answer(
        question=question,
        answer=f"{head} :\n" + "\n".join(lines),
        abstained=False,
        confidence=1.0,
        figures=figures,
        citations=citations,
        kind="key_figures",
    )


# --------------------------------------------------------------------------- refusals


def not_a_figure_answer(question: str, spec: QuestionSpec, passages: Sequence[Passage]) -> Answer:
    """« Qu'est-ce que Mon Espace Santé ? »: say what the assistant does, point to the closest passage."""
    return Answer(
        question=question,
        answer=NOT_A_FIGURE_TEXT,
        abstained=True,
        confidence=1.0,
        suggestions=suggestions(spec, passages, n=1),
        kind="not_a_figure",
    )


def not_french_answer(question: str) -> Answer:
    return Answer(question=question, answer=NOT_FRENCH_TEXT, abstained=True, confidence=1.0, kind="not_french")


__all__ = [
    "clause",
    "combine",
    "is_key_figure",
    "key_figures_answer",
    "not_a_figure_answer",
    "not_french_answer",
]
