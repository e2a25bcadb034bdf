"""The reader: picks the sentence and the figure that answer a question.

No generative model. Every candidate (sentence, figure) of the retrieved
passages is scored on: the figure's kind against what the question wants, the
counted noun, how many of the question's weighted terms stand in the sentence
and near the figure, the period asked, and the bulletin's recency. Below a
threshold the reader abstains rather than return a nearby number. Every figure
it states is a verbatim span of the quoted sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from .chunking import sentence_spans
from .figures import Figure, FigureKind, extract_figures
from .lexical import fold, stem, token_match, tokenize, words
from .models import Answer, AsOf, Citation, Conflict, FigureOut, Passage
from .questions import Period, QuestionSpec, noun_modifiers

K = FigureKind

ABSTAIN_TEXT = "Je ne trouve pas ce chiffre dans les bulletins."

MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip

#: Minimum score for an answer; below it the reader abstains.
THRESHOLD = 0.45
#: Share of the question's term weight that the sentence (with its context) must hold.
MIN_COVERAGE = 0.5
_MAX_QUOTE = 420


@dataclass(frozen=True, slots=True)
class Candidate:
    passage: Passage
    figure: Figure  # offsets relative to the bulletin text
    sent_start: int  # bulletin offsets of the sentence
    sent_end: int
    sentence: str
    score: float
    coverage: float
    local: float
    noun_hit: float
    period_hit: float
    column: str | None = None  # a table cell's column header ("Fin 2025")


IdfFn = Callable[[str], float]
KnownFn = Callable[[str], bool]


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


class Reader:
    """Scores candidates in retrieved passages; builds the :class:`Answer`."""

    def __init__(
        self,
        idf: IdfFn | None = None,
        *,
        known: KnownFn | None = None,
        text_of: Callable[[str], str | None] | None = None,
        threshold: float = THRESHOLD,
    ) -> None:
        self.idf = idf or (lambda _t: 1.0)
        self.known = known or (lambda _t: True)  # is a term used anywhere in the corpus?
        self.text_of = text_of  # full bulletin text, to find a table's header outside the chunk
        self.threshold = threshold

    # -- candidates ------------------------------------------------------------
    def candidates(self, spec: QuestionSpec, passages: Sequence[Passage]) -> list[Candidate]:
        # Terms the bulletins never use: if the sentence lacks them too, the question is
        # probably about something the bulletins do not cover. Their weight is capped at
        # the median, as a word never seen is as often a verb form as a missing topic.
        unknown = tuple(t for t in spec.terms if not self.known(t))
        if any(q in unknown for q in (*spec.qualifiers, spec.noun)):
            # The question names something ("chez les soignants", "cancer du poumon") that no
            # bulletin ever mentions: no passage can hold its figure.
            return []
        weights = {t: max(self.idf(t), 0.1) for t in spec.terms}
        seen = sorted(w for t, w in weights.items() if t not in unknown)
        if seen:
            median = seen[len(seen) // 2]
            weights = {t: (min(w, median) if t in unknown else w) for t, w in weights.items()}
        total = sum(weights.values()) or 1.0
        dated = sorted({p.date for p in passages if p.date})
        out: list[Candidate] = []
        for passage in passages:
            title_tokens = set(tokenize(passage.title))
            passage_tokens = set(tokenize(passage.text)) | self._paragraph_tokens(passage)
            for s in sentence_spans(passage.text):
                sent = passage.text[s.start : s.end]
                row = _table_row(sent)
                if row == "separator":
                    continue
                header = self._table_header(passage, s.start) if row else None
                if row and header is not None and header[1] == passage.start + s.start:
                    continue  # the header row itself: labels, not data
                tokens = set(tokenize(sent))
                context = title_tokens | passage_tokens
                prev_fig: Figure | None = None
                figures = extract_figures(sent)
                rivals = [f for f in figures if self._kind_ok(spec, f)]
                for fig in figures:
                    parent = _parent(sent, prev_fig, fig)
                    prev_fig = fig if fig.kind is K.COUNT else prev_fig
                    if not self._kind_ok(spec, fig):
                        continue
                    cell_tokens = tokens
                    period_text = sent
                    column_rank = 0.0
                    head = None
                    if row and header is not None:
                        cells, _, years = header
                        col = sent.count("|", 0, fig.start) - 1
                        head = cells[col] if 0 <= col < len(cells) else ""
                        cell_tokens = tokens | set(tokenize(head))
                        period_text = f"{_row_label(sent)} {head}"
                        known = sorted({y for y in years if y})
                        if col < len(years) and years[col] and len(known) > 1:
                            column_rank = known.index(years[col]) / (len(known) - 1)
                    coverage = _coverage(weights, cell_tokens, context) / total
                    if coverage < MIN_COVERAGE * 0.6:
                        continue
                    missing = sum(1 for t in unknown if not token_match(t, cell_tokens | context))
                    # Qualifiers ("chez les soignants") must be in the sentence itself, or at least
                    # in its passage; weighted by how specific they are.
                    absent = sum(
                        weights.get(q, 0.0) * (1.5 if not token_match(q, context) else 0.4)
                        for q in spec.qualifiers
                        if q in weights and not token_match(q, cell_tokens)
                    )
                    cand = self._score(
                        spec,
                        passage,
                        s.start,
                        sent,
                        fig,
                        weights,
                        total,
                        coverage,
                        dated,
                        period_text,
                        column_rank,
                        parent=parent,
                        missing=missing,
                        rivals=rivals,
                        figures=figures,
                        absent=absent / total,
                        column=head,
                    )
                    if cand is not None:
                        out.append(cand)
        out.sort(key=lambda c: -c.score)
        return out

    def _paragraph_tokens(self, passage: Passage) -> set[str]:
        """Tokens of the paragraph(s) the chunk was cut from: a chunk may start mid-paragraph,
        after the sentence that names the topic ("… du cancer colorectal. Sur la période, 34,2 %…")."""
        full = self.text_of(passage.bulletin_id) if self.text_of else None
        if not full:
            return set()
        lo = full.rfind("\n", 0, passage.start) + 1
        hi = full.find("\n", passage.end)
        return set(tokenize(full[lo : hi if hi != -1 else len(full)]))

    def _table_header(self, passage: Passage, row_start: int) -> tuple[list[str], int, list[int | None]] | None:
        """Header cells of the table holding the row at ``row_start`` (chunk offset), its offset, column years."""
        text, base = passage.text, passage.start
        pos = row_start
        header_at = _table_start(text, pos)
        if header_at is None or (header_at == 0 and base > 0):
            full = self.text_of(passage.bulletin_id) if self.text_of else None
            if full is None:
                return None
            text, pos = full, base + row_start
            header_at = _table_start(text, pos)
            base = 0
            if header_at is None:
                return None
        line_end = text.find("\n", header_at)
        line = text[header_at : line_end if line_end != -1 else len(text)]
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        years = [_year_of(c) for c in cells]
        return cells, base + header_at, years

    @staticmethod
    def _kind_ok(spec: QuestionSpec, fig: Figure) -> bool:
        if fig.value is None:
            return False
        if not spec.kinds:
            return fig.kind is not K.DATE
        if fig.kind not in spec.kinds:
            return False
        # A figure quoted in the question is the premise, not the answer.
        return not (fig.kind is not K.DATE and any(_same_number(fig.value, n) for n in spec.numbers))

    def _score(
        self,
        spec: QuestionSpec,
        passage: Passage,
        sent_offset: int,
        sent: str,
        fig: Figure,
        weights: dict[str, float],
        total: float,
        coverage: float,
        dated: list[date],
        period_text: str,
        column_rank: float,
        *,
        parent: Figure | None = None,
        missing: int = 0,
        rivals: Sequence[Figure] = (),
        figures: Sequence[Figure] = (),
        absent: float = 0.0,
        column: str | None = None,
    ) -> Candidate | None:
        local = _proximity(sent, fig, weights, rivals, parent, figures) / total
        desc = _description(sent, fig, figures or [fig])
        noun_hit = _noun_hit(spec, sent, fig, (parent.noun or parent.unit) if parent else None, desc)
        if spec.noun and noun_hit == 0.0:
            noun_hit = -0.4  # the sentence never names what the question counts
        period_hit = _period_hit(spec.periods, period_text, fig, passage.date)
        if spec.periods and period_hit <= 0.0 and not spec.target:
            return None  # asked for another period
        score = 0.45 * coverage + 0.45 * local + 0.45 * noun_hit + 0.25 * period_hit
        if spec.kinds and fig.kind is not spec.kinds[0]:
            score -= 0.1
        if spec.change:
            score += 0.3 * _change_fit(spec, sent, fig)
        elif fig.kind is K.PERCENT:
            score += 0.1 * _change_fit(spec, sent, fig)
        if spec.numbers and _mentions_numbers(sent, fig, spec.numbers):
            score += 0.2  # the sentence states the question's premise ("l'objectif de 40 millions")
        score -= 0.15 * missing
        score -= absent
        if spec.modifiers and _contradicts(spec, sent):
            score -= 0.6  # "cancer du sein" where the question says "cancer colorectal"
        if spec.date_cue and fig.kind is K.DATE:
            before = fold(sent[max(0, fig.start - 14) : fig.start]).replace("’", "'")
            score += 0.25 if spec.date_cue in before else -0.1
        if parent is not None:
            score -= 0.03  # a subset answers only when the question names what sets it apart
        if spec.target:
            score += 0.15 * _target_hit(sent, fig)
        elif _future(sent, fig):
            score -= 0.1
        if spec.latest or not spec.periods:
            if dated and passage.date:
                score += (0.12 if spec.latest else 0.06) * (dated.index(passage.date) / max(1, len(dated) - 1))
            score += 0.08 * column_rank
        score += 0.04 / max(1, passage.rank)
        if coverage < MIN_COVERAGE:
            score -= 0.3
        return Candidate(
            column=column,
            passage=passage,
            figure=figure_abs(fig, passage.start + sent_offset),
            sent_start=passage.start + sent_offset,
            sent_end=passage.start + sent_offset + len(sent),
            sentence=sent,
            score=score,
            coverage=coverage,
            local=local,
            noun_hit=noun_hit,
            period_hit=period_hit,
        )

    @staticmethod
    def same_indicator(a: Candidate, b: Candidate) -> bool:
        """Do two candidates measure the same thing (possibly at other dates)?"""
        if a.figure.kind is not b.figure.kind:
            return False
        if (a.noun_hit >= 0.85) != (b.noun_hit >= 0.85):
            return False
        return b.coverage >= a.coverage - 0.3 and b.local >= 0.5 * a.local

    def pick(self, spec: QuestionSpec, ranked: Sequence[Candidate]) -> Candidate | None:
        """The best candidate; with no period asked, the newest bulletin giving the same indicator."""
        if not ranked:
            return None
        best = ranked[0]
        if spec.periods and not spec.latest:
            return best
        newer = [
            c
            for c in ranked[1:]
            if c.score >= best.score - 0.3
            and c.passage.date
            and best.passage.date
            and c.passage.date > best.passage.date
            and self.same_indicator(best, c)
        ]
        if not newer:
            return best
        newest = max(c.passage.date for c in newer if c.passage.date)
        return max((c for c in newer if c.passage.date == newest), key=lambda c: c.score)

    # -- answer ----------------------------------------------------------------
    def answer(self, spec: QuestionSpec, passages: Sequence[Passage], *, question: str | None = None) -> Answer:
        ranked = self.candidates(spec, passages)
        best = self.pick(spec, ranked)
        if best is None or best.score < self.threshold:
            return Answer(
                question=question or spec.text,
                answer=ABSTAIN_TEXT,
                abstained=True,
                confidence=_confidence(best.score if best else 0.0, self.threshold, abstained=True),
                suggestions=suggestions(spec, passages),
            )
        as_of = as_of_for(best)
        citations = [citation_for(best, 1)]
        figures = [figure_out(best.figure, 1)]
        conflicts: list[Conflict] = []
        notes: list[str] = []
        for other in self.conflicting(spec, best, ranked):
            n = len(citations) + 1
            citations.append(citation_for(other, n))
            figures.append(figure_out(other.figure, n))
            conflicts.append(Conflict(figure=figure_out(other.figure, n), citation=n))
            when = f" ({format_date(other.passage.date)})" if other.passage.date else ""
            notes.append(f"« {other.passage.title} »{when} donne {other.figure.text} [{n}]")
        phrase = figure_phrase(best)
        title = best.passage.title
        where = f"selon « {title} »" if len(title) <= 90 else f"selon le bulletin {best.passage.bulletin_id}"
        lead = f"{_lead(as_of, spec.target)}, {where}" if as_of else where[0].upper() + where[1:]
        text = f"{lead} : {phrase} [1]. « {citations[0].quote} »"
        if notes:
            text += " Attention, les bulletins divergent : " + " ; ".join(notes) + "."
        return Answer(
            question=question or spec.text,
            answer=text,
            abstained=False,
            confidence=_confidence(best.score, self.threshold, abstained=False) * (0.7 if conflicts else 1.0),
            figures=figures,
            citations=citations,
            as_of=as_of,
            conflicts=conflicts,
        )

    def conflicting(self, spec: QuestionSpec, best: Candidate, ranked: Sequence[Candidate]) -> list[Candidate]:
        """Other bulletins stating another value for the same indicator at the same date."""
        mine = as_of_for(best)
        if mine is None or mine.origin != "sentence":
            return []
        out: list[Candidate] = []
        seen = {best.passage.bulletin_id}
        for c in ranked:
            if c.passage.bulletin_id in seen or c.score < max(self.threshold, best.score - 0.35):
                continue
            if c.figure.value is None or best.figure.value is None or math.isclose(c.figure.value, best.figure.value):
                continue
            other = as_of_for(c)
            if other is None or other.origin != "sentence" or not _same_period(other.date, mine.date):
                continue
            if self.same_indicator(best, c) and c.noun_hit >= 0.85:
                out.append(c)
                seen.add(c.passage.bulletin_id)
        return out


def _same_period(a: str | None, b: str | None) -> bool:
    """'2024' and '2024-12-31' name the same period at different precisions."""
    return a is not None and b is not None and (a.startswith(b) or b.startswith(a))


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


def _lead(as_of: AsOf, target: bool) -> str:
    label = as_of.label
    if target:
        return f"Objectif pour {label}"
    if label[:1].isdigit() and len(as_of.date or "") >= 10:
        return f"Au {label}"
    if label.lower().startswith(("fin", "début", "debut", "mi-")):
        return label[0].upper() + label[1:]
    return f"En {label}"


def _contradicts(spec: QuestionSpec, sent: str) -> bool:
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


def _coverage(weights: dict[str, float], tokens: set[str], context: set[str]) -> float:
    """Weight of question terms in the sentence (full) or only in its context (title, previous sentence)."""
    got = 0.0
    for t, w in weights.items():
        if token_match(t, tokens):
            got += w
        elif token_match(t, context):
            got += 0.6 * w
    return got


def _table_row(sent: str) -> str | None:
    s = sent.strip()
    if not (s.startswith("|") and s.endswith("|") and s.count("|") >= 3):
        return None
    return "separator" if set(s) <= set("|-: ") else "row"


def _table_start(text: str, pos: int) -> int | None:
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


def _row_label(sent: str) -> str:
    cells = sent.strip().strip("|").split("|")
    return cells[0].strip() if cells else ""


def _year_of(cell: str) -> int | None:
    m = _YEAR_IN_TEXT.search(cell)
    return int(m.group(1)) if m else None


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


def _confidence(score: float, threshold: float, *, abstained: bool) -> float:
    margin = score - threshold
    value = 1.0 / (1.0 + math.exp(-6.0 * margin))
    if abstained:
        value = 1.0 - value  # confidence that abstaining is right
    return round(min(1.0, max(0.0, value)), 3)


_WORD_POS_RE = re.compile(r"\w+", re.UNICODE)


def _term_positions(sent: str, weights: dict[str, float]) -> list[tuple[str, int, int]]:
    """(term, start, end) of every question term occurring in the sentence."""
    out: list[tuple[str, int, int]] = []
    for m in _WORD_POS_RE.finditer(sent):
        tok = words(m.group(0))
        if not tok:
            continue
        word = stem(tok[0])
        for t in weights:
            if token_match(t, (word,)):
                out.append((t, m.start(), m.end()))
                break
    return out


def _description(sent: str, fig: Figure, figures: Sequence[Figure]) -> tuple[int, int]:
    """The words that say what a figure measures.

    A table cell is described by its row label; "24 millions d’assurés ont…" by what follows
    the number; "les prescriptions médicales (10,8 millions)" or "le nombre de psychologues
    partenaires atteint 6 100" by what precedes it.
    """
    if _table_row(sent):
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


def _proximity(
    sent: str,
    fig: Figure,
    weights: dict[str, float],
    rivals: Sequence[Figure] = (),
    parent: Figure | None = None,
    figures: Sequence[Figure] = (),
) -> float:
    """Weighted question terms near the figure, each term shared with rival figures of the sentence.

    A term goes mostly to the figure it is closest to: in "4 600 cabines…, dont 1 900 dans des
    officines", "officines" speaks for 1 900, "cabines" for 4 600.
    """
    best: dict[str, float] = {}
    positions = _term_positions(sent, weights)
    figures = figures or [fig, *rivals]
    descs = {id(f): _description(sent, f, figures) for f in [fig, *rivals, *([parent] if parent else [])]}
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


def _noun_hit(
    spec: QuestionSpec, sent: str, fig: Figure, inherited: str | None = None, desc: tuple[int, int] | None = None
) -> float:
    """How surely the figure counts the asked noun (0 = the noun is not in the sentence)."""
    if not spec.noun:
        return 0.5 if fig.noun or fig.unit else 0.3
    own = fig.noun or (fig.unit if fig.kind is K.COUNT else None)
    if own and token_match(spec.noun, (_stem_of(own),)):
        return 1.0
    if inherited and token_match(spec.noun, (_stem_of(inherited),)):
        return 1.0  # "4 600 cabines…, dont 1 900 dans des officines": 1 900 cabines
    if desc and any(token_match(spec.noun, (stem(w),)) for w in words(sent[desc[0] : desc[1]])):
        # "la part des téléconsultations réalisées par … tombe à 45 %", "3,4 millions de messages de rappel"
        return 1.0 if not own else 0.9
    stems = [stem(w) for w in words(sent)]
    hits = [i for i, s in enumerate(stems) if token_match(spec.noun, (s,))]
    if not hits:
        return 0.0
    if spec.change and fig.kind is K.PERCENT and _is_change(sent, fig):
        return 0.85  # "le nombre de documents… (+58 % en un an)": the evolution of the asked count
    pos_fig = len(words(sent[: fig.start]))
    if own and fig.kind is K.COUNT:
        if fold(own) in _GENERIC_PEOPLE and before_in_clause(sent, fig, spec.noun):
            return 0.9  # "l’accompagnement de la femme enceinte a concerné 80000 patientes"
        # The figure explicitly counts something else ("3 800 établissements" for "professionnels").
        return 0.1
    before = [pos_fig - i for i in hits if i < pos_fig]
    if before and min(before) <= 7:
        return 1.0  # "le nombre de psychologues partenaires atteint 6 100", "prescriptions (10,8 millions)"
    d = min(abs(i - pos_fig) for i in hits)
    return 0.5 if d <= 10 else 0.25


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


def _parent(sent: str, prev: Figure | None, fig: Figure) -> Figure | None:
    """The count a figure introduced by "dont" is a subset of ("4 600 cabines…, dont 1 900…")."""
    if prev is None or fig.noun or prev.end > fig.start:
        return None
    between = sent[prev.end : fig.start]
    if len(between) > 160 or not _DONT_RE.search(between.rstrip() + " "):
        return None
    return prev


def _same_number(value: float, n: float) -> bool:
    """"40 millions" in a question is 40 (digits) times a scale word the question analysis drops."""
    return any(math.isclose(value, n * scale) for scale in (1, 1e3, 1e6, 1e9))


def _mentions_numbers(sent: str, fig: Figure, numbers: Sequence[float]) -> bool:
    values = {f.value for f in extract_figures(sent) if f is not fig and f.value is not None}
    scaled = {v / 1e6 for v in values} | {v / 1e3 for v in values} | values
    return any(any(math.isclose(n, v) for v in scaled) for n in numbers)


def _stem_of(word: str) -> str:
    w = words(word)
    return stem(w[0]) if w else ""


_YEAR_IN_TEXT = re.compile(r"\b(19[5-9]\d|20\d\d)\b")


def _period_hit(periods: Sequence[Period], sent: str, fig: Figure, bulletin_date: date | None) -> float:
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


def _is_change(sent: str, fig: Figure) -> bool:
    window = fold(sent[max(0, fig.start - 40) : fig.end + 25])
    return fig.signed or bool(_CHANGE_CTX.search(window))


def _change_fit(spec: QuestionSpec, sent: str, fig: Figure) -> float:
    """+1 when an evolution is asked and the figure is one, -1 when they disagree."""
    is_change = _is_change(sent, fig)
    if spec.change:
        return 1.0 if is_change else -0.5
    return -1.0 if is_change else 0.3


_FUTURE_CTX = re.compile(r"\bd'ici\b|\bobjectif|\bvis(?:e|er|ent)\b|\batteindre\b|\bcible|\bhorizon|\bprevu|\bambition")


def _target_hit(sent: str, fig: Figure) -> float:
    window = fold(sent[max(0, fig.start - 90) : fig.end + 40]).replace("’", "'")
    return 1.0 if _FUTURE_CTX.search(window) else -0.5


def _future(sent: str, fig: Figure) -> bool:
    window = fold(sent[max(0, fig.start - 60) : fig.start]).replace("’", "'")
    return bool(_FUTURE_CTX.search(window))


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
