"""The reader: picks the sentence and the figure that answer a question, or abstains.

No generative model. Every figure of the retrieved passages is a candidate; a learned
scorer (:mod:`assistant.reading.model`) gives each the probability that it answers the
question, from the features of :mod:`assistant.reading.features`, and a calibrated
confidence says how likely the chosen answer is right.

The decision is a cascade, measured on questions nobody here wrote (docs/reader.md):

1. when the first, hand-weighted reader is sure (its score above its threshold: precise on
   bulletins, ~70 % right on PIAF when it answers), its choice stands;
2. otherwise the learned scorer's best candidate is the answer if its confidence reaches the
   model's threshold, chosen on out-of-fold data, and its sentence names what is asked
   (:func:`names_what_is_asked`); else the reader abstains.

For "latest" questions the newest bulletin stating the same indicator is kept. Every figure
it states is a verbatim span of the quoted sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..figures import FigureKind as K
from ..models import Answer, Conflict, Passage
from ..questions import QuestionSpec
from .answer import (
    ABSTAIN_TEXT,
    answer_sentence,
    as_of_for,
    bulletin_heading,
    citation_for,
    figure_out,
    format_date,
    same_period,
    suggestions,
)
from .features import FORMER_THRESHOLD, Candidate, IdfFn, KnownFn, Sources, extract
from .model import ReaderModel, default_model
from .signals import OTHER_NOUN

#: A newer bulletin's figure replaces the best one for a "latest" question only if its score
#: is within this many logits of the best (and it states the same indicator).
LATEST_MARGIN = 5.0
#: The first reader's margin for "latest" (its own score scale).
FORMER_LATEST_MARGIN = 0.3
#: Largest share of the question's qualifier weight a learned answer's sentence may lack.
MAX_ABSENT = 0.3
#: Another bulletin's different value for the same indicator and period is reported as a
#: conflict when its score is within this many logits of the answer's.
CONFLICT_MARGIN = 1.5
#: The same on the first reader's scale, when the answer is its choice.
FORMER_CONFLICT_MARGIN = 0.35


class Reader:
    """Scores candidates in retrieved passages; builds the :class:`Answer`."""

    def __init__(
        self,
        idf: IdfFn | None = None,
        *,
        known: KnownFn | None = None,
        text_of: Callable[[str], str | None] | None = None,
        model: ReaderModel | None = None,
        threshold: float | None = None,
    ) -> None:
        self.sources = Sources(idf=idf or (lambda _t: 1.0), known=known or (lambda _t: True), text_of=text_of)
        self.model = model or default_model()
        self.threshold = self.model.threshold if threshold is None else threshold

    # -- candidates ------------------------------------------------------------
    def candidates(self, spec: QuestionSpec, passages: Sequence[Passage]) -> list[Candidate]:
        """Every candidate with its score (the scorer's probability), best first."""
        cands, matrix = extract(spec, passages, self.sources)
        probs = self.model.scores(matrix)
        ranked = [replace(c, score=float(p)) for c, p in zip(cands, probs, strict=True)]
        ranked.sort(key=lambda c: -c.score)
        return ranked

    def pick(self, spec: QuestionSpec, ranked: Sequence[Candidate]) -> Candidate | None:
        """The best candidate; with no period asked, the newest bulletin giving the same indicator."""
        if not ranked:
            return None
        return _newest_same(spec, ranked, lambda c: _logit(c.score), LATEST_MARGIN)

    def decide(self, spec: QuestionSpec, ranked: Sequence[Candidate]) -> tuple[Candidate | None, float, bool]:
        """(chosen candidate, its confidence, answered?) over ``ranked`` (best learned score first)."""
        sure = self.former_choice(spec, ranked)
        if sure is not None:
            return sure, self.confidence(sure, ranked), True
        best = self.pick(spec, ranked)
        if best is None:
            return None, 0.0, False
        confidence = self.confidence(best, ranked)
        return best, confidence, confidence >= self.threshold and names_what_is_asked(best)

    @staticmethod
    def former_choice(spec: QuestionSpec, ranked: Sequence[Candidate]) -> Candidate | None:
        """The first reader's answer when it is sure: its pick (the newest statement of its best
        candidate's indicator, as it always did) scored above its threshold; else None."""
        former = sorted((c for c in ranked if c.former is not None), key=lambda c: -(c.former or 0.0))
        if not former:
            return None
        best = _newest_same(spec, former, lambda c: c.former or 0.0, FORMER_LATEST_MARGIN)
        return best if (best.former or 0.0) >= FORMER_THRESHOLD else None

    def confidence(self, best: Candidate, ranked: Sequence[Candidate]) -> float:
        """Calibrated probability that answering with ``best`` is right."""
        return self.model.confidence(*self.evidence(best, ranked))

    @staticmethod
    def evidence(best: Candidate, ranked: Sequence[Candidate]) -> tuple[float, float | None, int, float | None]:
        """What the calibrator weighs: (score backing ``best``, best score of another answer, candidates,
        the first reader's best score).

        The same indicator in another bulletin is not a rival: when ``best`` is the newest
        statement of the top candidate's indicator ("latest"), the top candidate's score counts,
        and the runner-up is the best candidate measuring something else.
        """
        top = ranked[0] if ranked else best
        score = max(best.score, top.score) if top is best or same_indicator(top, best) else best.score
        other = next(
            (
                c.score
                for c in ranked
                if c is not best
                and not _same_value(c, best)
                and not (c.passage.bulletin_id != best.passage.bulletin_id and same_indicator(best, c))
            ),
            None,
        )
        former = max((c.former for c in ranked if c.former is not None), default=None)
        return score, other, len(ranked), former

    def choose(
        self, spec: QuestionSpec, passages: Sequence[Passage]
    ) -> tuple[Candidate | None, float, bool, list[Candidate]]:
        """(chosen candidate, its confidence, answered?, all candidates ranked): the decision, before wording."""
        ranked = self.candidates(spec, passages)
        best, confidence, answered = self.decide(spec, ranked)
        return best, confidence, answered, ranked

    # -- answer ----------------------------------------------------------------
    def answer(self, spec: QuestionSpec, passages: Sequence[Passage], *, question: str | None = None) -> Answer:
        best, confidence, answered, ranked = self.choose(spec, passages)
        if best is None or not answered:
            return Answer(
                question=question or spec.text,
                answer=ABSTAIN_TEXT,
                abstained=True,
                confidence=round(1.0 - confidence, 3),  # that abstaining is right
                suggestions=suggestions(spec, passages),
            )
        as_of = as_of_for(best)
        citations = [citation_for(best, 1)]
        figures = [figure_out(best.figure, 1)]
        conflicts: list[Conflict] = []
        notes: list[str] = []
        for other in self.conflicting(best, ranked):
            n = len(citations) + 1
            citations.append(citation_for(other, n))
            figures.append(figure_out(other.figure, n))
            conflicts.append(Conflict(figure=figure_out(other.figure, n), citation=n))
            when = f" ({format_date(other.passage.date)})" if other.passage.date else ""
            heading = bulletin_heading(other.passage.title, other.passage.bulletin_id)
            notes.append(f"« {heading} »{when} donne {other.figure.text} [{n}]")
        text = answer_sentence(best, as_of, spec.target)
        if notes:
            text += " Attention, les bulletins divergent : " + " ; ".join(notes) + "."
        return Answer(
            question=question or spec.text,
            answer=text,
            abstained=False,
            confidence=round(confidence * (0.7 if conflicts else 1.0), 3),
            figures=figures,
            citations=citations,
            as_of=as_of,
            conflicts=conflicts,
        )

    def conflicting(self, best: Candidate, ranked: Sequence[Candidate]) -> list[Candidate]:
        """Other bulletins stating another value for the same indicator at the same date."""
        mine = as_of_for(best)
        if mine is None or mine.origin != "sentence":
            return []
        out: list[Candidate] = []
        seen = {best.passage.bulletin_id}
        for c in ranked:
            if c.passage.bulletin_id in seen or not _close_to(c, best) or _same_value(c, best):
                continue
            other = as_of_for(c)
            if other is None or other.origin != "sentence" or not same_period(other.date, mine.date):
                continue
            if same_indicator(best, c) and c.noun_hit >= 0.85:
                out.append(c)
                seen.add(c.passage.bulletin_id)
        return out


def names_what_is_asked(c: Candidate) -> bool:
    """May the learned scorer answer with this candidate where the first reader declined?

    Only if its sentence names what the question asks: the counted noun, when one is asked, and
    not another one (« 8 millions de notifications » is no count of « femmes enceintes »), and most
    of the question's qualifiers (under :data:`MAX_ABSENT` of their weight missing). Measured by
    grouped cross-validation (docs/reader.md): on the project's gold set, unanswerable questions
    abstained 67 % → 92 % and accuracy 92.6 % → 94.8 %; on PIAF open retrieval 50.3 % → 46.2 %.
    """
    return c.noun_hit not in (OTHER_NOUN, 0.0) and c.absent < MAX_ABSENT


def same_indicator(a: Candidate, b: Candidate) -> bool:
    """Do two candidates measure the same thing (possibly at other dates)?

    Same kind, compatible units, the counted noun asked for named by both or by neither, and
    the question's terms about as present around both figures.
    """
    fa, fb = a.figure, b.figure
    if fa.kind is not fb.kind or (fa.unit and fb.unit and fa.unit != fb.unit and fa.kind is not K.COUNT):
        return False
    if (a.noun_hit >= 0.85) != (b.noun_hit >= 0.85):
        return False
    return b.coverage >= a.coverage - 0.3 and b.local >= 0.5 * a.local


def _newest_same(
    spec: QuestionSpec, ranked: Sequence[Candidate], score: Callable[[Candidate], float], margin: float
) -> Candidate:
    """``ranked[0]``, or for a question without a period (or asking for the latest) the candidate
    of the newest bulletin stating the same indicator, within ``margin`` of its score."""
    best = ranked[0]
    if spec.periods and not spec.latest:
        return best
    floor = score(best) - margin
    newer = [
        c
        for c in ranked[1:]
        if score(c) >= floor
        and c.passage.date
        and best.passage.date
        and c.passage.date > best.passage.date
        and same_indicator(best, c)
    ]
    if not newer:
        return best
    newest = max(c.passage.date for c in newer if c.passage.date)
    return max((c for c in newer if c.passage.date == newest), key=score)


def _close_to(c: Candidate, best: Candidate) -> bool:
    """Is ``c`` scored nearly as well as the answer, on the scale that chose the answer?"""
    if best.former is not None and best.former >= FORMER_THRESHOLD:  # the first reader's choice
        return c.former is not None and c.former >= max(FORMER_THRESHOLD, best.former - FORMER_CONFLICT_MARGIN)
    return _logit(c.score) >= _logit(best.score) - CONFLICT_MARGIN


def _same_value(a: Candidate, b: Candidate) -> bool:
    va, vb = a.figure.value, b.figure.value
    return va is not None and vb is not None and math.isclose(va, vb, rel_tol=1e-9)


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


__all__ = ["ABSTAIN_TEXT", "Candidate", "Reader", "same_indicator"]
