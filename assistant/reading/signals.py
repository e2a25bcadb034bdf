"""The reader's linguistic signals: how a sentence and one of its figures relate to a question.

Each function measures one thing (question terms near the figure, the counted noun, the
period asked, an evolution, a target, a table cell's header...). They were the hand-weighted
parts of the first reader; :mod:`assistant.reading.features` now turns them into features of
a learned model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from ..figures import Figure, FigureKind, extract_figures
from ..lexical import fold, stem, token_match, tokenize, tokens_match, words
from ..questions import Period, QuestionSpec, noun_modifiers

K = FigureKind

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def figure_abs(fig: Figure, offset: int) -> Figure:
    """A figure with offsets shifted by ``offset``."""
    return Figure(
        text=fig.text,
        start=fig.start + offset,
        end=fig.end + offset,
        value=fig.value,
        kind=fig.kind,
        unit=fig.unit,
        noun=fig.noun,
        high=fig.high,
        signed=fig.signed,
        date_iso=fig.date_iso,
    )


_YEAR_IN_TEXT = re.compile(r"\b(1\d{3}|20\d\d)\b")


def table_row(sent: str) -> str | None:
    s = sent.strip()
    if not (s.startswith("|") and s.endswith("|") and s.count("|") >= 3):
        return None
    return "separator" if set(s) <= set("|-: ") else "row"


def table_start(text: str, pos: int) -> int | None:
    """Offset of the first line of the table containing ``pos`` (None if not in a table)."""
    line_start = text.rfind("\n", 0, pos) + 1
    first = None
    while True:
        line_end = text.find("\n", line_start)
        line = text[line_start : line_end if line_end != -1 else len(text)].strip()
        if not line.startswith("|"):
            break
        first = line_start
        if line_start == 0:
            break
        line_start = text.rfind("\n", 0, line_start - 1) + 1
    return first


def row_label(sent: str) -> str:
    cells = sent.strip().strip("|").split("|")
    return cells[0].strip() if cells else ""


def year_of(cell: str) -> int | None:
    m = _YEAR_IN_TEXT.search(cell)
    return int(m.group(1)) if m else None


def coverage(weights: dict[str, float], tokens: set[str], context: set[str]) -> float:
    """Weight of question terms in the sentence (full) or only in its context (title, previous sentence)."""
    got = 0.0
    for t, w in weights.items():
        if token_match(t, tokens):
            got += w
        elif token_match(t, context):
            got += 0.6 * w
    return got


_WORD_POS_RE = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=32768)
def word_stems(sent: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, stem) of every word of a sentence (cached: passages recur across questions)."""
    out = []
    for m in _WORD_POS_RE.finditer(sent):
        tok = words(m.group(0))
        if tok:
            out.append((m.start(), m.end(), stem(tok[0])))
    return tuple(out)


def term_positions(sent: str, weights: dict[str, float]) -> list[tuple[str, int, int]]:
    """(term, start, end) of every question term occurring in the sentence."""
    out: list[tuple[str, int, int]] = []
    for start, end, word in word_stems(sent):
        for t in weights:
            if tokens_match(t, word):
                out.append((t, start, end))
                break
    return out


def description(sent: str, fig: Figure, figures: Sequence[Figure]) -> tuple[int, int]:
    """The words that say what a figure measures.

    A table cell is described by its row label; "24 millions d’assurés ont…" by what follows
    the number; "les prescriptions médicales (10,8 millions)" or "le nombre de psychologues
    partenaires atteint 6 100" by what precedes it.
    """
    if table_row(sent):
        first = sent.find("|")
        second = sent.find("|", first + 1)
        return first + 1, second if second != -1 else first + 1
    others = [f for f in figures if f is not fig]
    if fig.noun:
        return _after(sent, fig, others)
    start = max(0, fig.start - 100)
    prev = [f.end for f in others if f.end <= fig.start]
    if prev:
        start = max(start, max(prev))
    head = sent[start : fig.start].rstrip()
    if head.endswith(("(", ":")):
        head = head[:-1]
    cut = max(head.rfind(c) for c in ",;()")
    begin = start + cut + 1 if cut != -1 else start
    if not tokenize(_FILLER_RE.sub(" ", sent[begin : fig.start])):
        # ", contre 11 jours pour un rendez-vous en cabinet": the description follows.
        return _after(sent, fig, others)
    return begin, fig.start


_FILLER_RE = re.compile(r"\b(?:contre|soit|et|ou|mais|avec|environ|près|plus|moins|quelque|pas|de|d['’])\b", re.I)


def _after(sent: str, fig: Figure, others: Sequence[Figure]) -> tuple[int, int]:
    """What follows a figure, up to a clause break or the next figure."""
    end = min(len(sent), fig.end + 90)
    nxt = [f.start for f in others if f.start >= fig.end]
    if nxt:
        end = min(end, min(nxt))
    m = _AFTER_STOP.search(sent, fig.end, end)
    return fig.end, m.start() if m else end


_AFTER_STOP = re.compile(r"[,;:()]|\bet\b|\bdont\b|\btandis\b|\bcontre\b|\bsoit\b")


def _tie(sent: str, term_start: int, term_end: int, fig: Figure, desc: tuple[int, int] | None = None) -> float:
    """How closely a term occurrence is tied to a figure (1 = in its description or adjacent)."""
    if desc is not None and desc[0] <= term_start and term_end <= desc[1]:
        return 1.0
    if term_end <= fig.start:
        dist, lo, hi = fig.start - term_end, term_end, fig.start
    elif term_start >= fig.end:
        dist, lo, hi = (term_start - fig.end) * 1.3, fig.end, term_start  # what follows is less tied
    else:
        return 1.0
    # A clause break (";", parenthesis, "tandis que", "dont"...) between term and figure loosens the tie,
    # except the parenthesis that opens right before a figure: "prescriptions (10,8 millions)".
    if sent[lo:hi].strip() == "(":
        return 1.0 / (1.0 + dist / 45.0)
    breaks = len(_BREAK_RE.findall(sent, lo, hi)) if hi > lo else 0
    return 1.0 / (1.0 + dist / 45.0) / (1.0 + 0.6 * breaks)


_BREAK_RE = re.compile(r"[;()]|\btandis\b|\balors que\b|\bdevant\b|\bdont\b|\bcontre\b")


def proximity(
    sent: str,
    fig: Figure,
    weights: dict[str, float],
    rivals: Sequence[Figure] = (),
    parent: Figure | None = None,
    figures: Sequence[Figure] = (),
    *,
    positions: Sequence[tuple[str, int, int]] | None = None,
    descs: dict[int, tuple[int, int]] | None = None,
) -> float:
    """Weighted question terms near the figure, each term shared with rival figures of the sentence.

    A term goes mostly to the figure it is closest to: in "4 600 cabines…, dont 1 900 dans des
    officines", "officines" speaks for 1 900, "cabines" for 4 600. ``positions`` (from
    :func:`term_positions`) and ``descs`` (``id(figure)`` -> :func:`description`) may be passed
    in when several figures of one sentence are scored.
    """
    best: dict[str, float] = {}
    if positions is None:
        positions = term_positions(sent, weights)
    figures = figures or [fig, *rivals]
    if descs is None:
        descs = {id(f): description(sent, f, figures) for f in [fig, *rivals, *([parent] if parent else [])]}
    for t, ts, te in positions:
        mine = _tie(sent, ts, te, fig, descs[id(fig)])
        if parent is not None:  # a subset ("dont 1 900…") is also described by its set's terms
            mine = max(mine, _tie(sent, ts, te, parent, descs[id(parent)]))
        strongest = max(
            [mine, *(_tie(sent, ts, te, r, descs[id(r)]) for r in rivals if r is not fig and r is not parent)]
        )
        value = weights[t] * mine * (mine / strongest if strongest > 0 else 0.0)
        if value > best.get(t, 0.0):
            best[t] = value
    return sum(best.values())


#: :func:`noun_hit` of a count that names another counted noun than the one asked.
OTHER_NOUN = 0.1


def noun_hit(
    spec: QuestionSpec, sent: str, fig: Figure, inherited: str | None = None, desc: tuple[int, int] | None = None
) -> float:
    """How surely the figure counts the asked noun (0 = the noun is not in the sentence)."""
    if not spec.noun:
        return 0.5 if fig.noun or fig.unit else 0.3
    own = fig.noun or (fig.unit if fig.kind is K.COUNT else None)
    if own and token_match(spec.noun, (stem_of(own),)):
        return 1.0
    if inherited and token_match(spec.noun, (stem_of(inherited),)):
        return 1.0  # "4 600 cabines…, dont 1 900 dans des officines": 1 900 cabines
    if desc and any(token_match(spec.noun, (stem(w),)) for w in words(sent[desc[0] : desc[1]])):
        # "la part des téléconsultations réalisées par … tombe à 45 %", "3,4 millions de messages de rappel"
        return 1.0 if not own else 0.9
    stems = [stem(w) for w in words(sent)]
    hits = [i for i, s in enumerate(stems) if token_match(spec.noun, (s,))]
    if not hits:
        return 0.0
    if spec.change and fig.kind is K.PERCENT and is_change(sent, fig):
        return 0.85  # "le nombre de documents… (+58 % en un an)": the evolution of the asked count
    pos_fig = len(words(sent[: fig.start]))
    if own and fig.kind is K.COUNT:
        if fold(own) in _GENERIC_PEOPLE and before_in_clause(sent, fig, spec.noun):
            return 0.9  # "l’accompagnement de la femme enceinte a concerné 80000 patientes"
        # The figure explicitly counts something else ("3 800 établissements" for "professionnels").
        return OTHER_NOUN
    before = [pos_fig - i for i in hits if i < pos_fig]
    if before and min(before) <= 7:
        return 1.0  # "le nombre de psychologues partenaires atteint 6 100", "prescriptions (10,8 millions)"
    d = min(abs(i - pos_fig) for i in hits)
    return 0.5 if d <= 10 else 0.25


def names_noun(spec: QuestionSpec, text: str) -> bool:
    """Does ``text`` (a table's column header: « Décès (n) », « Cas confirmés ») name the asked noun?"""
    return bool(spec.noun) and any(token_match(spec.noun, (stem(w),)) for w in words(text))


_GENERIC_PEOPLE = frozenset(
    [
        "patients",
        "patientes",
        "personnes",
        "beneficiaires",
        "usagers",
        "individus",
        "cas",
        "adultes",
        "enfants",
        "habitants",
    ]
)


def before_in_clause(sent: str, fig: Figure, noun: str) -> bool:
    """Is ``noun`` named earlier in the figure's clause (no ";" or sentence break in between)?"""
    head = sent[: fig.start]
    cut = max(head.rfind(";"), head.rfind(". "), head.rfind(":"))
    return any(token_match(noun, (stem(w),)) for w in words(head[cut + 1 :])[-7:])


_DONT_RE = re.compile(r"\bdont\s+(?:(?:près|plus|moins|environ|quelque)\s+(?:de\s+)?)?$", re.IGNORECASE)


def parent_figure(sent: str, prev: Figure | None, fig: Figure) -> Figure | None:
    """The count a figure introduced by "dont" is a subset of ("4 600 cabines…, dont 1 900…")."""
    if prev is None or fig.noun or prev.end > fig.start:
        return None
    between = sent[prev.end : fig.start]
    if len(between) > 160 or not _DONT_RE.search(between.rstrip() + " "):
        return None
    return prev


def same_number(value: float, n: float) -> bool:
    """ "40 millions" in a question is 40 (digits) times a scale word the question analysis drops."""
    return any(math.isclose(value, n * scale) for scale in (1, 1e3, 1e6, 1e9))


def mentions_numbers(sent: str, fig: Figure, numbers: Sequence[float]) -> bool:
    values = {f.value for f in extract_figures(sent) if f is not fig and f.value is not None}
    scaled = {v / 1e6 for v in values} | {v / 1e3 for v in values} | values
    return any(any(math.isclose(n, v) for v in scaled) for n in numbers)


def stem_of(word: str) -> str:
    w = words(word)
    return stem(w[0]) if w else ""


def period_hit(periods: Sequence[Period], sent: str, fig: Figure | None, bulletin_date: date | None) -> float:
    """How well the sentence / bulletin date match the asked period (0 = no match)."""
    if not periods:
        return 0.0
    years_in = {int(y) for y in _YEAR_IN_TEXT.findall(sent)}
    f = fold(sent).replace("’", "'")
    years_in |= relative_years(f, bulletin_date)
    best = 0.0
    for p in periods:
        if p.year in years_in:
            hit = 1.0
            if p.month:
                month_name = fold(MONTHS_FR[p.month - 1])
                if (
                    p.end_of_year and ("fin " + str(p.year) in f or "31 decembre " + str(p.year) in f)
                ) or month_name + " " + str(p.year) in f:
                    hit = 1.2
            best = max(best, hit)
        elif bulletin_date is not None and not years_in & {p.year - 1, p.year + 1}:
            if bulletin_date.year == p.year and (p.month is None or bulletin_date.month == p.month):
                best = max(best, 0.8)
            elif bulletin_date.year == p.year:
                best = max(best, 0.5)
            elif (p.end_of_year or p.month is None) and bulletin_date.year == p.year + 1 and bulletin_date.month <= 3:
                best = max(best, 0.7)  # an end-of-year bilan published early the next year
    return best


def relative_years(folded: str, bulletin_date: date | None) -> set[int]:
    """Years meant by "l'hiver dernier", "l'an dernier", "cette année" in a bulletin of that date."""
    if bulletin_date is None:
        return set()
    y = bulletin_date.year
    out: set[int] = set()
    if re.search(r"\bl'hiver dernier\b", folded):
        out |= {y - 1, y} if bulletin_date.month >= 4 else {y - 2, y - 1}
    if re.search(r"\bl'(?:an|annee) (?:dernier|derniere|passee?)\b", folded):
        out.add(y - 1)
    if re.search(r"\bcette annee\b|\bcet hiver\b", folded):
        out.add(y)
    return out


_CHANGE_CTX = re.compile(
    r"\bhausse|\bbaisse|\bprogress|\baugment|\bevolu|\bdiminu|\brecul|\bcroissance|\ben un an\b|\bsur un an\b"
    r"|\bpar rapport|\bbondi|\bbond\b|\bgrimp|\bgain\b|\bgagn|\bperdu|\bchute|\bchut[eé]|\bred?uit|\bsupplementaire"
)


def is_change(sent: str, fig: Figure) -> bool:
    window = fold(sent[max(0, fig.start - 40) : fig.end + 25])
    return fig.signed or bool(_CHANGE_CTX.search(window))


def change_fit(spec: QuestionSpec, sent: str, fig: Figure) -> float:
    """+1 when an evolution is asked and the figure is one, -1 when they disagree."""
    changing = is_change(sent, fig)
    if spec.change:
        return 1.0 if changing else -0.5
    return -1.0 if changing else 0.3


_FUTURE_CTX = re.compile(r"\bd'ici\b|\bobjectif|\bvis(?:e|er|ent)\b|\batteindre\b|\bcible|\bhorizon|\bprevu|\bambition")


def target_hit(sent: str, fig: Figure) -> float:
    window = fold(sent[max(0, fig.start - 90) : fig.end + 40]).replace("’", "'")
    return 1.0 if _FUTURE_CTX.search(window) else -0.5


def future(sent: str, fig: Figure) -> bool:
    window = fold(sent[max(0, fig.start - 60) : fig.start]).replace("’", "'")
    return bool(_FUTURE_CTX.search(window))


def contradicts(spec: QuestionSpec, sent: str) -> bool:
    """Does the sentence qualify a noun of the question with another modifier only?"""
    pairs = noun_modifiers(sent)
    stems = {stem(w) for w in words(sent)}
    asked = set(spec.terms) | {h for h, _ in spec.modifiers}
    for head, mod in spec.modifiers:
        if token_match(mod, stems):
            continue
        if any(token_match(head, (h,)) and not token_match(m, asked) for h, m in pairs):
            return True
    return False
