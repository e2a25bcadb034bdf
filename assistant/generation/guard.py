"""The figure guard: a generated text is kept only if every figure in it is backed by the extract it cites.

Rules, checked in this order (the first broken one is the reason given, ``"<rule>: <detail>"``):

``empty``, ``too_long``, ``not_french``
    No text, more than :data:`MAX_CHARS` characters, or a text that does not read as French
    (:func:`french_score`: share of French function words against English ones).
``no_citation``, ``unknown_citation``
    No ``[n]`` marker at all, or a marker naming no extract the model was given.
``figure_without_citation``
    A figure (dates and years included) in a sentence with no marker.
``figure_not_in_citation``
    A number not found, with the same value, kind, counted noun and spelling (spaces aside), in the
    quote of the marker it is attached to: the first marker after it in its sentence, else the last
    one before it. A date must be in the quote of one of its sentence's markers, or be (part of) that
    bulletin's date, or be a date the reader's answer states — the reader says « au 29 janvier 2026 »
    from the bulletin's date and « fin 2024 » from a table's column header.
    The result of the reader's computation (« +7 millions ») is the one figure allowed without a quote.
``main_figure_missing``, ``conflict_missing``
    The reader's figure (or computed result) is not stated with its value; or the reader found another
    bulletin giving a different value for the same period, and the text leaves that value out.

The figure parser is the one the reader uses (:mod:`assistant.figures`), so « 24 millions » and
« 24 000 000 » have the same value but not the same spelling: the second is refused, since the user
could not find it in the quote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from ..figures import Figure, FigureKind, extract_figures
from ..language import french_score, is_french
from ..lexical import fold
from ..models import Answer, Citation

#: A longer text is not the « short answer » asked for (the reader's answers are under 400 characters).
MAX_CHARS = 1200

MARKER = re.compile(r"\[(\d{1,3})\]")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision: ``reason`` is ``"<rule>: <detail>"`` when the text is refused."""

    ok: bool
    reason: str | None = None
    #: Ids of the extracts the text cites (to keep those citations in the answer).
    cited: tuple[int, ...] = ()


def compact(text: str) -> str:
    """Spelling without spaces of any kind nor case: « 58 % » and « 58 % » (narrow space) compare equal."""
    return _SPACES.sub("", text).replace("’", "'").casefold()


def _masked(text: str) -> str:
    """``text`` with each [n] marker blanked (« [1] » is no figure), keeping offsets; the « ; » stops the
    parser from joining « de 17 millions [1] à 24 millions » into one range."""
    return MARKER.sub(lambda m: ";" + " " * (len(m.group()) - 1), text)


@dataclass(frozen=True, slots=True)
class _Sentence:
    start: int
    end: int
    markers: list[tuple[int, int]]  # (position, citation id)


def _sentences(text: str) -> list[_Sentence]:
    """Sentences with their markers; a marker opening a sentence (« … 2026. [1] Le … ») closes the previous."""
    bounds, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        bounds.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        bounds.append((start, len(text)))
    out = [_Sentence(s, e, [(m.start(), int(m.group(1))) for m in MARKER.finditer(text, s, e)]) for s, e in bounds]
    for prev, cur in pairwise(out):
        lead = re.match(r"\s*(?:\[\d{1,3}\][\s,]*)+", text[cur.start : cur.end])
        if lead:
            moved = [mk for mk in cur.markers if mk[0] < cur.start + lead.end()]
            prev.markers.extend(moved)
            cur.markers[:] = [mk for mk in cur.markers if mk not in moved]
    return out


def _attached(text: str, fig: Figure, sentence: _Sentence) -> list[int]:
    """The marker group a figure belongs to: the first after it (with markers right beside it, « [1][2] »),
    else the last before it."""
    after = [mk for mk in sentence.markers if mk[0] >= fig.end]
    if after:
        group = [after[0]]
        for mk in after[1:]:
            previous_end = group[-1][0] + len(f"[{group[-1][1]}]")
            if not re.fullmatch(r"[\s,]*", text[previous_end : mk[0]]):
                break
            group.append(mk)
        return [n for _, n in group]
    before = [mk for mk in sentence.markers if mk[0] < fig.start]
    return [before[-1][1]] if before else []


def _same_unit(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return True  # the noun was not read on one side: value, kind and spelling still have to agree
    return fold(a).rstrip("sx") == fold(b).rstrip("sx")


def _same_value(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _number_in(fig: Figure, quote_figures: Sequence[Figure]) -> bool:
    mine = compact(fig.text)
    return any(
        q.kind == fig.kind
        and _same_value(q.value, fig.value)
        and _same_value(q.high, fig.high)
        and _same_unit(q.unit, fig.unit)
        and mine in (compact(q.text), compact(q.text).lstrip("+"))
        for q in quote_figures
    )


def _reader_dates(answer: Answer) -> set[str]:
    """ISO dates the reader's own answer states (its « as of » date, a computation's periods: read from a
    table's column header or the bulletin's date, so not always in the quote)."""
    return {f.date_iso for f in extract_figures(_masked(answer.answer)) if f.kind == FigureKind.DATE and f.date_iso}


def _as_of(answer: Answer) -> tuple[int, str] | None:
    """(citation, ISO date) of the reader's « as of » date: it may be read from a table's column header,
    outside the quote, and the reader's own answer states it."""
    if answer.as_of is None or not answer.as_of.date or not answer.figures:
        return None
    return answer.figures[0].citation, answer.as_of.date


def _date_in(fig: Figure, citation: Citation, quote_figures: Sequence[Figure], as_of: tuple[int, str] | None) -> bool:
    iso = fig.date_iso
    if iso is None:
        return compact(fig.text) in compact(citation.quote)
    if citation.date and citation.date.startswith(iso):
        return True
    if as_of is not None and as_of[0] == citation.id and as_of[1].startswith(iso):
        return True
    return compact(fig.text) in compact(citation.quote) and any(
        q.kind == FigureKind.DATE and q.date_iso and q.date_iso.startswith(iso) for q in quote_figures
    )


def _computed(answer: Answer) -> list[Figure]:
    return extract_figures(answer.computation.result_text) if answer.computation else []


def _main_figure(answer: Answer) -> tuple[float | None, str, str] | None:
    """(value, kind, spelling) the text must state: the computed result, else the reader's figure."""
    computed = _computed(answer)
    if computed:
        return computed[0].value, computed[0].kind.value, computed[0].text
    if answer.figures:
        f = answer.figures[0]
        return f.value, f.kind, f.text
    return None


def check(text: str, answer: Answer, extracts: Sequence[Citation], *, max_chars: int = MAX_CHARS) -> Verdict:
    """Whether ``text`` (written from ``answer`` and the numbered ``extracts``) may replace the reader's answer."""
    stripped = text.strip()
    if not stripped:
        return Verdict(False, "empty: le modèle n'a rendu aucun texte")
    if len(stripped) > max_chars:
        return Verdict(False, f"too_long: {len(stripped)} caractères (limite {max_chars})")
    if not is_french(MARKER.sub(" ", stripped)):
        words, fr, en = french_score(stripped)
        return Verdict(False, f"not_french: {fr} mots outils français, {en} anglais sur {words} mots")
    by_id = {c.id: c for c in extracts}
    ids = [int(m.group(1)) for m in MARKER.finditer(stripped)]
    if not ids:
        return Verdict(False, "no_citation: aucun marqueur [n]")
    unknown = sorted({n for n in ids if n not in by_id})
    if unknown:
        return Verdict(False, f"unknown_citation: [{unknown[0]}] ne désigne aucun extrait")
    masked = _masked(stripped)
    quote_figures = {c.id: extract_figures(c.quote) for c in extracts}
    computed = _computed(answer)
    as_of = _as_of(answer)
    reader_dates = _reader_dates(answer)
    stated: list[Figure] = []
    for sentence in _sentences(stripped):
        for fig in extract_figures(masked[sentence.start : sentence.end]):
            fig = _shift(fig, sentence.start)
            stated.append(fig)
            if any(c.kind == fig.kind and _same_value(abs(c.value or 0), abs(fig.value or 0)) for c in computed):
                continue
            if not sentence.markers:
                return Verdict(False, f"figure_without_citation: « {fig.text} » sans marqueur [n] dans sa phrase")
            if fig.kind == FigureKind.DATE:
                marks = [n for _, n in sentence.markers]
                said = fig.date_iso is not None and any(d.startswith(fig.date_iso) for d in reader_dates)
                if not said and not any(_date_in(fig, by_id[n], quote_figures[n], as_of) for n in marks):
                    where = ", ".join(f"[{n}]" for n in dict.fromkeys(marks))
                    return Verdict(False, f"figure_not_in_citation: date « {fig.text} » absente de {where}")
                continue
            marks = _attached(stripped, fig, sentence)
            if not any(_number_in(fig, quote_figures[n]) for n in marks):
                where = ", ".join(f"[{n}]" for n in marks)
                return Verdict(False, f"figure_not_in_citation: « {fig.text} » absent de l'extrait {where}")
    main = _main_figure(answer)
    if main is not None and not any(f.kind == main[1] and _same_value(f.value, main[0]) for f in stated):
        return Verdict(False, f"main_figure_missing: « {main[2]} » n'est pas repris")
    for conflict in answer.conflicts:
        other = conflict.figure
        if not any(f.kind == other.kind and _same_value(f.value, other.value) for f in stated):
            return Verdict(False, f"conflict_missing: « {other.text} » [{conflict.citation}] n'est pas signalé")
    return Verdict(True, None, tuple(dict.fromkeys(ids)))


def _shift(fig: Figure, offset: int) -> Figure:
    return replace(fig, start=fig.start + offset, end=fig.end + offset)


def unverified_figures(answer: Answer) -> list[str]:
    """Figures of ``answer.answer`` that a reader could not find where the text points (an audit, not the guard).

    Deliberately simpler than :func:`check`: each figure's spelling (spaces and case aside) must be in
    the quote (or the title or file name) of a citation marked in its sentence, or be a date of that
    bulletin, the reader's « as of » date or a date of the question, or be the reader's computed result.
    Used by the tests and ``scripts/generation_eval.py`` on every returned answer.
    """
    quotes = {c.id: c for c in answer.citations}
    masked = _masked(answer.answer)
    computed = {compact(f.text).lstrip("+") for f in _computed(answer)}
    as_of = _as_of(answer)
    asked = {
        f.date_iso
        for f in extract_figures(answer.standalone_question or answer.question)
        if f.kind == FigureKind.DATE and f.date_iso
    }
    out = []
    for sentence in _sentences(answer.answer):
        cited = [quotes[n] for _, n in sentence.markers if n in quotes]
        for fig in extract_figures(masked[sentence.start : sentence.end]):
            spelling = compact(fig.text)
            if spelling.lstrip("+") in computed:
                continue
            if any(spelling in compact(f"{c.quote} {c.title} {c.source}") for c in cited):
                continue  # the reader names a bulletin by its title or file: « selon « bulletin … 2026-01 » »
            iso = fig.date_iso
            if iso and iso in asked:
                continue
            if iso and any(
                (c.date and c.date.startswith(iso)) or (as_of and as_of[0] == c.id and as_of[1].startswith(iso))
                for c in cited
            ):
                continue
            out.append(fig.text)
    return out
