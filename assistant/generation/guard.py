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
    bulletin's date — the reader's own answers say « au 29 janvier 2026 » from the bulletin's date.
    The result of the reader's computation (« +7 millions ») is the one figure allowed without a quote.
``main_figure_missing``
    The reader's figure (or computed result) is not stated with its value.

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
from ..lexical import fold
from ..models import Answer, Citation

#: A longer text is not the « short answer » asked for (the reader's answers are under 400 characters).
MAX_CHARS = 1200

MARKER = re.compile(r"\[(\d{1,3})\]")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")
_WORD = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words: frequent in any French (resp. English) sentence, rare in the other language.

_FRENCH = _words(
    """le la les l un une des du de d au aux et est sont ont été en dans par pour sur avec selon qui que qu
    ce cette ces son sa ses leur leurs il elle ils elles se s n ne pas plus ou où mais aussi y à chaque
    environ depuis entre soit contre mois ans personnes nombre part"""
)
_ENGLISH = _words(
    """the of and to is are was were be been has have had with from that this these those it its for by
    which who people million millions about there their they than into between according per"""
)
#: A text of at least this many words is judged; shorter ones (« 24 millions [1]. ») pass.
MIN_WORDS = 4
#: Least share of French function words in a text long enough to judge (French prose: 30-50 %).
MIN_FRENCH_SHARE = 0.15


@dataclass(frozen=True, slots=True)
class Verdict:
    """The guard's decision: ``reason`` is ``"<rule>: <detail>"`` when the text is refused."""

    ok: bool
    reason: str | None = None
    #: Ids of the extracts the text cites (to keep those citations in the answer).
    cited: tuple[int, ...] = ()


def french_score(text: str) -> tuple[int, int, int]:
    """(words, French function words, English function words) of ``text``."""
    words = [w.lower() for w in _WORD.findall(text)]
    return len(words), sum(w in _FRENCH for w in words), sum(w in _ENGLISH for w in words)


def is_french(text: str) -> bool:
    """French unless the text has more English than French function words, or too few French ones."""
    words, fr, en = french_score(text)
    if words < MIN_WORDS:
        return en == 0
    return fr > en and fr / words >= MIN_FRENCH_SHARE


def compact(text: str) -> str:
    """Spelling without spaces of any kind: « 58 % » and « 58 % » (narrow space) compare equal."""
    return _SPACES.sub("", text).replace("’", "'")


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


def _date_in(fig: Figure, citation: Citation, quote_figures: Sequence[Figure]) -> bool:
    iso = fig.date_iso
    if iso is None:
        return compact(fig.text) in compact(citation.quote)
    if citation.date and citation.date.startswith(iso):
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
    masked = MARKER.sub(lambda m: " " * len(m.group()), stripped)  # « [1] » is no figure
    quote_figures = {c.id: extract_figures(c.quote) for c in extracts}
    computed = _computed(answer)
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
                if not any(_date_in(fig, by_id[n], quote_figures[n]) for n in marks):
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
    return Verdict(True, None, tuple(dict.fromkeys(ids)))


def _shift(fig: Figure, offset: int) -> Figure:
    return replace(fig, start=fig.start + offset, end=fig.end + offset)
