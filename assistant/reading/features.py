"""Candidates (a figure in a sentence of a retrieved passage) and their feature vectors.

Every figure of every sentence of the passages is a candidate; nothing is gated here except
what cannot be an answer at all (a table's header row, a figure without a value). The
signals of :mod:`assistant.reading.signals` and a few answer-type cues become named
features, in the fixed order of :data:`FEATURES`; the learned model
(:mod:`assistant.reading.model`) weighs them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from ..chunking import sentence_spans
from ..figures import Figure, FigureKind, extract_figures
from ..lexical import TokenIndex, fold, token_match, tokenize
from ..models import Passage
from ..questions import QuestionSpec
from . import signals as S

K = FigureKind

IdfFn = Callable[[str], float]
KnownFn = Callable[[str], bool]
TextFn = Callable[[str], "str | None"]

#: Figure kinds, in feature order.
KINDS: tuple[FigureKind, ...] = (K.COUNT, K.PERCENT, K.MONEY, K.DATE, K.DURATION, K.OTHER)
_QKINDS: tuple[FigureKind | None, ...] = (*KINDS, None)

#: Answer-type cues of the question (accent-folded): each is crossed with the figure's kind.
CUES: dict[str, re.Pattern[str]] = {
    name: re.compile(rx)
    for name, rx in {
        "quand": r"\bquand\b",
        "annee": r"\bannee\b|\ban\b",
        "date": r"\bdate\b",
        "jour": r"\bjour\b",
        "siecle": r"\bsiecle",
        "periode": r"\bperiode|\bepoque|\bmoment\b",
        "combien": r"\bcombien\b",
        "nombre": r"\bnombre\b",
        "age": r"\bage\b|\bans\b",
        "mesure": r"\bmesur|\btaille\b|\blong|\bhaut|\bsuperficie|\bsurface|\bdistance|\bpes[ea]|\bpoids",
        "part": r"\bpart\b|\btaux\b|\bpourcentage|\bproportion|%",
        "argent": r"\bmontant|\bcout|\bprix|\bbudget|\beuro|\bdollar|\bdepense",
        "duree": r"\bduree|\bcombien de temps|\bdelai",
        "population": r"\bpopulation|\bhabitant",
        "score": r"\bscore\b|\bresultat",
        "quel": r"^\s*(?:quel|quelle)",
    }.items()
}

#: Physical quantities: a question cue (accent-folded) and the units that may follow a figure of that kind.
MEASURES: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    name: (re.compile(cue), re.compile(r"^\s*(?:" + units + r")(?![\w²³])", re.IGNORECASE))
    for name, cue, units in (
        ("length", r"\blong|\bdistance|\bhaut|\bprofond|\baltitude|\blarge|\btaille\b|\bmesur",
         r"km|m|cm|mm|mètres?|metres?|kilomètres?|kilometres?|centimètres?|milles?|miles?|pieds?"),
        ("mass", r"\bpoids|\bpes[ea]|\bmasse|\btonnage", r"kg|g|t|tonnes?|kilos?|kilogrammes?|grammes?"),
        ("speed", r"\bvitesse|\brapide|\ballure", r"km/h|km\s*/\s*h|nœuds?|noeuds?|m/s|mph"),
        ("power", r"\bpuissan|\benergie", r"kw|mw|gw|w|ch|chevaux|cv|watts?|kilowatts?|mégawatts?"),
        ("area", r"\bsuperficie|\bsurface|\baire\b|\bhectare|\betendue", r"km2|km²|m2|m²|ha|hectares?|acres?"),
        ("temperature", r"\btemperature|\bchaleur|\bfroid|\bdegre", r"°|degrés?|degres?"),
        ("volume", r"\bvolume|\bcapacite|\blitre|\bcontenance", r"l|litres?|m3|m³|hl|hectolitres?|places?"),
    )
}  # fmt: skip
#: Questions about an end or a beginning, and the words that put a figure at one (accent-folded).
_END_Q = re.compile(r"\bfin\b|\btermin|\bachev|\bjusqu|\bmort\b|\bmeurt|\bdeces|\bdecede|\bferme|\bdissou|\bquitt")
_START_Q = re.compile(r"\bdebut|\bcommenc|\bnaissance|\bnee?\b|\bcree|\bcreation|\bfonde|\bouvert|\blance|\bdepuis")
_END_F = re.compile(r"jusqu|\bfin\b|termin|achev|\bmort\b|meurt|deced|ferme|dissou|quitt|finira|s'etend")
_START_F = re.compile(r"depuis|\bdes\b|debut|commenc|\bnee?\b|fonde|cree|ouvr|lance|a partir|debuter|naissance")

_FULL_DATE = re.compile(r"\d{1,2}(?:er)?\s+\w+\s+\d{3,4}")
_YEAR_ONLY = re.compile(r"\d{3,4}")
_YEAR_CUE = re.compile(r"\bannee\b|\ban\b|\bsiecle\b")
_DATE_CUE = re.compile(r"\bdate\b|\bjour\b|\bquand\b|\bquel moment\b|\bperiode\b|\bepoque\b")

_SIGNALS: tuple[str, ...] = (
    "kind_primary",  # the figure is of the kind the question asks first
    "kind_accepted",  # ... of one of the kinds it accepts
    "year",  # a bare year
    "full_date",  # a day, month and year
    "year_cue_year",  # "en quelle année" and a bare year
    "date_cue_full_date",  # "quelle date", "quel jour" and a full date
    "has_noun",  # the figure names what it counts ("24 millions d'assurés")
    "signed",
    "range",
    "premise",  # the figure is a number the question itself states
    "coverage",  # weighted share of the question's terms in the sentence
    "context_coverage",  # ... in the sentence, its passage, paragraph or title
    "window_coverage",  # ... in the sentence and its neighbours
    "proximity",  # question terms close to the figure, shared with its rivals
    "noun_hit",  # the counted noun asked for is what the figure counts
    "asks_noun",
    "period_hit",  # the period asked is the sentence's (or the bulletin's)
    "asks_period",
    "window_period_hit",  # ... stated in the two sentences before
    "absent_qualifiers",
    "unknown_terms",
    "contradicts",  # the sentence qualifies a noun of the question with another modifier
    "change_fit",
    "target_fit",
    "future",
    "mentions_premise",  # the sentence states the question's own number
    "date_cue_fit",  # "jusqu'à quand" and the date follows "jusqu'à"
    "figures_in_sentence",
    "rivals_in_sentence",
    "closest_figure",  # the sentence's figure nearest to the question's terms
    "first_rival",
    "sentence_length",
    "inverse_rank",
    "fused_score",
    "dense",
    "bm25",
    "top_bulletin",
    "recency",  # the bulletin's date rank among the passages'
    "latest_recency",
    "table_row",
    "column_rank",
    "subset",  # "…, dont 1 900…"
    "in_parentheses",
    "terms_around",  # question terms within 6 words either side
    "terms_before",  # ... within 3 words before
    "terms_after",  # ... within 3 words after
    "noun_missing",  # the question counts something the sentence never names
    "low_coverage",  # under half of the question's term weight in the sentence and its context
    "period_missing",  # a period is asked and neither sentence nor bulletin matches it
    "recency_no_period",  # the bulletin's recency when no period is asked
    "kind_mismatch",  # the question asks for kinds and this figure is of none of them
    "unknown_qualifier",  # the question names something (qualifier, counted noun) the corpus never uses
    "measure_match",  # "quelle vitesse" and a figure in km/h or nœuds
    "measure_other",  # the question asks for one physical quantity, the figure is in units of another
    "measure_unit",  # the figure is followed by a physical unit
    "end_fit",  # "quand se termine…" and "jusque vers 1015", "mort le…"
    "start_fit",  # "quand commence…" and "depuis 1959", "né le…"
    "start_end_clash",  # an end asked and a beginning stated, or the reverse
    "former_score",  # the first reader's hand-weighted score (-1 where its gates dropped the candidate)
    "former_gated",  # ... dropped by one of its gates
    "former_choice",  # the candidate the first reader answered with (its best, if above its threshold)
)

#: Every feature, in the order of the model's coefficients.
FEATURES: tuple[str, ...] = (
    *(f"asks_{k.value if k else 'any'}" for k in _QKINDS),
    *(f"is_{k.value}" for k in KINDS),
    *(f"asks_{q.value if q else 'any'}_x_{k.value}" for q in _QKINDS for k in KINDS),
    *_SIGNALS,
    *(f"cue_{c}_x_{k.value}" for c in CUES for k in KINDS),
)


_FORMER = len(_QKINDS) + len(KINDS) + len(_QKINDS) * len(KINDS) + _SIGNALS.index("former_score")
_FORMER_CHOICE = _FORMER + 2


@dataclass(frozen=True, slots=True)
class Candidate:
    """A figure of a retrieved passage's sentence, with the signals the answer logic reuses."""

    passage: Passage
    figure: Figure  # offsets relative to the bulletin text
    sent_start: int  # bulletin offsets of the sentence
    sent_end: int
    sentence: str
    score: float = 0.0  # the model's probability that this figure answers the question
    coverage: float = 0.0
    local: float = 0.0
    noun_hit: float = 0.0
    period_hit: float = 0.0
    column: str | None = None  # a table cell's column header ("Fin 2025")
    former: float | None = None  # the first reader's hand-weighted score (None: its gates dropped it)
    absent: float = 0.0  # weight share of the question's qualifiers missing from the sentence


@dataclass(frozen=True)
class Sources:
    """What the features need beyond the passages: term weights and full bulletin texts."""

    idf: IdfFn = lambda _t: 1.0
    known: KnownFn = lambda _t: True
    text_of: TextFn | None = None


def question_weights(spec: QuestionSpec, sources: Sources) -> tuple[dict[str, float], tuple[str, ...]]:
    """IDF weight of each question term; terms the corpus never uses are capped at the median."""
    unknown = tuple(t for t in spec.terms if not sources.known(t))
    weights = {t: max(sources.idf(t), 0.1) for t in spec.terms}
    seen = sorted(w for t, w in weights.items() if t not in unknown)
    if seen:
        median = seen[len(seen) // 2]
        weights = {t: (min(w, median) if t in unknown else w) for t, w in weights.items()}
    return weights, unknown


def extract(spec: QuestionSpec, passages: Sequence[Passage], sources: Sources) -> tuple[list[Candidate], np.ndarray]:
    """All candidates of ``passages`` and their feature matrix (one row each, :data:`FEATURES` order)."""
    weights, unknown = question_weights(spec, sources)
    unknown_qualifier = float(any(t in unknown for t in (*spec.qualifiers, spec.noun)))
    if unknown_qualifier:
        # True impossibility: the question names something (a qualifier, the counted noun) that no
        # bulletin ever mentions, not even by a synonym or a shared stem.
        return [], np.zeros((0, len(FEATURES)))
    total = sum(weights.values()) or 1.0
    q = _QuestionView(spec)
    dated = sorted({p.date for p in passages if p.date})
    best_score = max((p.score for p in passages), default=0.0)
    worst_score = min((p.score for p in passages), default=0.0)
    best_bm25 = max((p.scores.get("bm25", 0.0) for p in passages), default=0.0) or 1.0
    top_bulletin = passages[0].bulletin_id if passages else None
    cands: list[Candidate] = []
    rows: list[list[float]] = []
    for passage in passages:
        recency = dated.index(passage.date) / max(1, len(dated) - 1) if dated and passage.date else 0.0
        spread = best_score - worst_score
        shared = [
            1.0 / max(1, passage.rank),
            (passage.score - worst_score) / spread if spread > 1e-9 else 1.0,
            passage.scores.get("dense", 0.0),
            passage.scores.get("bm25", 0.0) / best_bm25,
            float(passage.bulletin_id == top_bulletin),
            recency,
            recency if spec.latest else 0.0,
        ]
        _passage_candidates(spec, q, passage, weights, unknown, total, sources, shared, cands, rows, unknown_qualifier)
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(FEATURES))
    if len(rows):
        best = int(np.argmax(matrix[:, _FORMER]))
        if matrix[best, _FORMER] >= FORMER_THRESHOLD:
            matrix[best, _FORMER_CHOICE] = 1.0
    return cands, matrix


class _QuestionView:
    """Per-question values every candidate row repeats."""

    def __init__(self, spec: QuestionSpec) -> None:
        folded = fold(spec.text).replace("’", "'")
        self.kind = spec.kinds[0] if spec.kinds else None
        self.cues = [bool(rx.search(folded)) for rx in CUES.values()]
        self.year_cue = bool(_YEAR_CUE.search(folded))
        self.date_cue = bool(_DATE_CUE.search(folded))
        self.asks = [1.0 if self.kind is k else 0.0 for k in _QKINDS]
        self.measures = {name: bool(cue.search(folded)) for name, (cue, _) in MEASURES.items()}
        self.any_measure = any(self.measures.values())
        self.end = bool(_END_Q.search(folded))
        self.start = bool(_START_Q.search(folded))


def _passage_candidates(
    spec: QuestionSpec,
    q: _QuestionView,
    passage: Passage,
    weights: dict[str, float],
    unknown: tuple[str, ...],
    total: float,
    sources: Sources,
    shared: list[float],
    cands: list[Candidate],
    rows: list[list[float]],
    unknown_qualifier: float,
) -> None:
    text = passage.text
    if spec.periods and not spec.target and not _may_hold_period(spec, passage, sources):
        return  # true impossibility: the bulletin names the asked period nowhere, and is not dated in it
    spans = sentence_spans(text)
    tokens = [_tokens(text[s.start : s.end]) for s in spans]
    context = set(tokenize(passage.title)) | set().union(*tokens) | _paragraph_tokens(passage, sources)
    # Which question terms each token set holds, computed once per set (token_match scans the whole set).
    in_context = _holds(weights, context)
    in_sentence = [_holds(weights, t) for t in tokens]
    for i, span in enumerate(spans):
        sent = text[span.start : span.end]
        row_kind = S.table_row(sent)
        if row_kind == "separator":
            continue
        header = _table_header(passage, span.start, sources) if row_kind else None
        if row_kind and header is not None and header[1] == passage.start + span.start:
            continue  # the header row itself: labels, not data
        figures = _figures(sent)
        if not figures:
            continue
        in_window = {
            t: in_sentence[i][t] or (i > 0 and in_sentence[i - 1][t]) or (i + 1 < len(spans) and in_sentence[i + 1][t])
            for t in weights
        }
        before_text = " ".join(text[s.start : s.end] for s in spans[max(0, i - 2) : i + 1])
        rivals = [f for f in figures if (f.kind in spec.kinds if spec.kinds else f.kind is not K.DATE)]
        parents: dict[int, Figure | None] = {}
        prev: Figure | None = None
        for f in figures:
            parents[id(f)] = S.parent_figure(sent, prev, f)
            prev = f if f.kind is K.COUNT else prev
        positions = S.term_positions(sent, weights)
        descs = {id(f): S.description(sent, f, figures) for f in figures}
        near = {
            id(f): S.proximity(
                sent, f, weights, rivals or [f], parents[id(f)], figures, positions=positions, descs=descs
            )
            / total
            for f in figures
        }
        closest = max(near, key=lambda k: near[k])
        contradicts = float(bool(spec.modifiers) and S.contradicts(spec, sent))
        mentions = bool(spec.numbers)
        words_at = [(start, w) for start, _, w in S.word_stems(sent)]
        for f in figures:
            in_cells, period_text, column_rank, head = in_sentence[i], sent, 0.0, None
            if row_kind and header is not None:
                heads, _, years = header
                col = sent.count("|", 0, f.start) - 1
                head = heads[col] if 0 <= col < len(heads) else ""
                in_head = _holds(weights, set(tokenize(head)))
                in_cells = {t: in_sentence[i][t] or in_head[t] for t in weights}
                period_text = f"{S.row_label(sent)} {head}"
                known_years = sorted({y for y in years if y})
                if col < len(years) and years[col] and len(known_years) > 1:
                    column_rank = known_years.index(years[col]) / (len(known_years) - 1)
            parent = parents[id(f)]
            cov = sum(w for t, w in weights.items() if in_cells[t]) / total
            ctx_cov = sum(w if in_cells[t] else 0.6 * w if in_context[t] else 0.0 for t, w in weights.items()) / total
            win_cov = sum(w for t, w in weights.items() if in_cells[t] or in_window[t]) / total
            noun = S.noun_hit(spec, sent, f, (parent.noun or parent.unit) if parent else None, descs[id(f)])
            if head and noun < 1.0 and not f.noun and S.names_noun(spec, head):
                noun = 1.0  # a table cell counts what its column header names
            period = S.period_hit(spec.periods, period_text, f, passage.date)
            missing = sum(1 for t in unknown if not (in_cells.get(t) or in_context.get(t)))
            absent = sum(
                weights[t] * (1.5 if not in_context[t] else 0.4)
                for t in spec.qualifiers
                if t in weights and not in_cells[t]
            )
            is_year = f.kind is K.DATE and bool(_YEAR_ONLY.fullmatch(f.text.strip()))
            full_date = f.kind is K.DATE and bool(_FULL_DATE.search(f.text))
            premise = f.kind is not K.DATE and any(S.same_number(f.value or 0.0, n) for n in spec.numbers)
            lead = fold(sent[max(0, f.start - 14) : f.start]).replace("’", "'")
            before = [w for pos, w in words_at if f.start - 60 <= pos < f.start]
            after = [w for pos, w in words_at if f.end <= pos < f.end + 60]
            row = [*q.asks, *(1.0 if f.kind is k else 0.0 for k in KINDS)]
            row += [1.0 if (q.kind is a and f.kind is k) else 0.0 for a in _QKINDS for k in KINDS]
            row += [
                float(q.kind is f.kind),
                float(f.kind in spec.kinds),
                float(is_year),
                float(full_date),
                float(q.year_cue and is_year),
                float(q.date_cue and full_date),
                float(bool(f.noun or f.unit)),
                float(f.signed),
                float(f.high is not None),
                float(premise),
                cov,
                ctx_cov,
                win_cov,
                near[id(f)],
                noun,
                float(bool(spec.noun)),
                period,
                float(bool(spec.periods)),
                S.period_hit(spec.periods, before_text, f, passage.date),
                absent / total,
                float(missing),
                contradicts,
                S.change_fit(spec, sent, f) if (spec.change or f.kind is K.PERCENT) else 0.0,
                S.target_hit(sent, f) if spec.target else 0.0,
                float(S.future(sent, f)),
                float(mentions and S.mentions_numbers(sent, f, spec.numbers)),
                (1.0 if spec.date_cue in lead else -1.0) if (spec.date_cue and f.kind is K.DATE) else 0.0,
                math.log1p(len(figures)),
                math.log1p(len(rivals)),
                float(closest == id(f)),
                float(bool(rivals) and rivals[0] is f),
                math.log1p(len(sent)),
                *shared,
                float(bool(row_kind)),
                column_rank,
                float(parent is not None),
                float(sent[max(0, f.start - 1) : f.start] == "("),
                _share(weights, before[-6:] + after[:6], total),
                _share(weights, before[-3:], total),
                _share(weights, after[:3], total),
                float(bool(spec.noun) and noun == 0.0),
                float(ctx_cov < 0.5),
                float(bool(spec.periods) and period <= 0.0),
                0.0 if spec.periods else shared[5],
                float(bool(spec.kinds) and f.kind not in spec.kinds),
                unknown_qualifier,
                *_measure_features(q, sent, f),
                *_start_end_features(q, sent, f),
            ]
            former = _former_score(
                spec, f, passage, ctx_cov, near[id(f)], noun, period, sent, missing, absent / total,
                contradicts, parent, shared, column_rank, unknown_qualifier,
            )  # fmt: skip
            row += [former if former is not None else -1.0, float(former is None), 0.0]
            row += [1.0 if (c and f.kind is k) else 0.0 for c in q.cues for k in KINDS]
            rows.append(row)
            cands.append(
                Candidate(
                    passage=passage,
                    figure=S.figure_abs(f, passage.start + span.start),
                    sent_start=passage.start + span.start,
                    sent_end=passage.start + span.end,
                    sentence=sent,
                    coverage=ctx_cov,
                    local=near[id(f)],
                    noun_hit=noun,
                    period_hit=period,
                    column=head,
                    former=former,
                    absent=absent / total,
                )
            )


#: The first reader's answer threshold (its score scale).
FORMER_THRESHOLD = 0.45


def _former_score(
    spec: QuestionSpec,
    f: Figure,
    passage: Passage,
    coverage: float,
    local: float,
    noun: float,
    period: float,
    sent: str,
    missing: int,
    absent: float,
    contradicts: float,
    parent: Figure | None,
    shared: list[float],
    column_rank: float,
    unknown_qualifier: float,
) -> float | None:
    """The first reader's hand-weighted score of a candidate, or None where one of its gates dropped it.

    Its weights were set by hand on the project's own gold set; here the learned model decides how much
    to trust it, next to the signals it combines.
    """
    kind_ok = (f.kind in spec.kinds if spec.kinds else f.kind is not K.DATE) and not (
        f.kind is not K.DATE and any(S.same_number(f.value or 0.0, n) for n in spec.numbers)
    )
    if not kind_ok or unknown_qualifier or coverage < 0.3 or (spec.periods and period <= 0.0 and not spec.target):
        return None
    score = 0.45 * coverage + 0.45 * local + 0.45 * (-0.4 if spec.noun and noun == 0.0 else noun) + 0.25 * period
    if spec.kinds and f.kind is not spec.kinds[0]:
        score -= 0.1
    if spec.change:
        score += 0.3 * S.change_fit(spec, sent, f)
    elif f.kind is K.PERCENT:
        score += 0.1 * S.change_fit(spec, sent, f)
    if spec.numbers and S.mentions_numbers(sent, f, spec.numbers):
        score += 0.2
    score -= 0.15 * missing + absent + 0.6 * contradicts
    if spec.date_cue and f.kind is K.DATE:
        lead = fold(sent[max(0, f.start - 14) : f.start]).replace("’", "'")
        score += 0.25 if spec.date_cue in lead else -0.1
    if parent is not None:
        score -= 0.03
    if spec.target:
        score += 0.15 * S.target_hit(sent, f)
    elif S.future(sent, f):
        score -= 0.1
    if spec.latest or not spec.periods:
        score += (0.12 if spec.latest else 0.06) * shared[5] + 0.08 * column_rank
    score += 0.04 / max(1, passage.rank)
    return score - (0.3 if coverage < 0.5 else 0.0)


def _measure_features(q: _QuestionView, sent: str, f: Figure) -> tuple[float, float, float]:
    follow = sent[f.end : f.end + 12]
    unit = next((name for name, (_, units) in MEASURES.items() if units.match(follow)), None)
    if unit is None:
        return 0.0, 0.0, 0.0
    return float(q.measures[unit]), float(q.any_measure and not q.measures[unit]), 1.0


def _start_end_features(q: _QuestionView, sent: str, f: Figure) -> tuple[float, float, float]:
    if not (q.end or q.start):
        return 0.0, 0.0, 0.0
    left = fold(sent[max(0, f.start - 30) : f.start]).replace("’", "'")
    is_end, is_start = bool(_END_F.search(left)), bool(_START_F.search(left))
    return (
        float(q.end and is_end),
        float(q.start and is_start),
        float((q.end and is_start and not is_end) or (q.start and is_end and not is_start)),
    )


# A server reads the same passages for many questions: sentence-level work is cached by text.
@lru_cache(maxsize=32768)
def _figures(sent: str) -> tuple[Figure, ...]:
    return tuple(f for f in extract_figures(sent) if f.value is not None)


@lru_cache(maxsize=32768)
def _tokens(sent: str) -> frozenset[str]:
    return frozenset(tokenize(sent))


def _holds(weights: dict[str, float], tokens: Set[str]) -> dict[str, bool]:
    """For each question term: does ``tokens`` hold it (:func:`token_match`)?"""
    index = TokenIndex(tokens)
    return {t: index.holds(t) for t in weights}


def _share(weights: dict[str, float], stems: Sequence[str], total: float) -> float:
    return sum(w for t, w in weights.items() if token_match(t, stems)) / total


def _paragraph(passage: Passage, sources: Sources) -> str:
    """The paragraph(s) a chunk was cut from (the chunk itself when the bulletin text is not at hand)."""
    full = sources.text_of(passage.bulletin_id) if sources.text_of else None
    if not full:
        return passage.text
    lo = full.rfind("\n", 0, passage.start) + 1
    hi = full.find("\n", passage.end)
    return full[lo : hi if hi != -1 else len(full)]


def _may_hold_period(spec: QuestionSpec, passage: Passage, sources: Sources) -> bool:
    """Can the passage's bulletin speak of the asked period at all (named anywhere in it, or its date)?"""
    text = (sources.text_of(passage.bulletin_id) if sources.text_of else None) or passage.text
    return S.period_hit(spec.periods, f"{passage.title}\n{text}", None, passage.date) > 0


def _paragraph_tokens(passage: Passage, sources: Sources) -> set[str]:
    """Tokens of the paragraph(s) the chunk was cut from: a chunk may start mid-paragraph,
    after the sentence that names the topic ("… du cancer colorectal. Sur la période, 34,2 %…")."""
    return set(tokenize(_paragraph(passage, sources))) if sources.text_of else set()


def _table_header(passage: Passage, row_start: int, sources: Sources) -> tuple[list[str], int, list[int | None]] | None:
    """Header cells of the table holding the row at ``row_start`` (chunk offset), its offset, column years."""
    text, base = passage.text, passage.start
    pos = row_start
    header_at = S.table_start(text, pos)
    if header_at is None or (header_at == 0 and base > 0):
        full = sources.text_of(passage.bulletin_id) if sources.text_of else None
        if full is None:
            return None
        text, pos = full, base + row_start
        header_at = S.table_start(text, pos)
        base = 0
        if header_at is None:
            return None
    line_end = text.find("\n", header_at)
    line = text[header_at : line_end if line_end != -1 else len(text)]
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    years = [S.year_of(c) for c in cells]
    return cells, base + header_at, years


def describe(row: np.ndarray) -> dict[str, Any]:
    """A candidate's non-zero features by name (for debugging and reports)."""
    return {name: float(v) for name, v in zip(FEATURES, row, strict=True) if v}
