"""Deterministic calculations over cited figures.

"De combien … a-t-il augmenté entre janvier 2025 et janvier 2026 ?", "Quelle part de
l'objectif de 2027 est atteinte ?", "Combien de cabines hors pharmacie ?": the question is
split into the figures it needs, each found and cited by the reader, then combined
here. Operands in different units, or growth between identical periods, are refused
with the reason, never computed.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from .figures import FigureKind
from .lexical import fold
from .models import Answer, Citation, Computation, FigureOut, Operand, Passage
from .questions import QuestionSpec, analyse
from .reading import Candidate, Reader, as_of_for, citation_for, figure_out

K = FigureKind

Operation = Literal["growth", "share", "excluding"]
RetrieveFn = Callable[[str], Sequence[Passage]]

_PERIOD = r"(?:(?:fin|debut|mi-?)\s+|(?:le\s+)?(?:1er|\d{1,2})\s+)?(?:[a-z]+\s+)?(?:19|20)\d\d"
_BETWEEN_RE = re.compile(rf"\bentre\s+(?:(?:le|la|l')\s*)?({_PERIOD})\s+et\s+(?:(?:le|la|l')\s*)?({_PERIOD})")
_GROWTH_RE = re.compile(r"\bde combien\b|\bhausse\b|\bbaisse\b|\bprogress|\baugment|\bevolu|\bdiminu|\brecul|\bvari")
_SHARE_RE = re.compile(r"\b(?:quelle part|quel pourcentage|quelle proportion)\b.*\bobjectif\b")
_EXCLUDING_RE = re.compile(
    r"\b(?:hors|sans compter|en dehors des?|a l'exclusion des?)\s+(?:les?\s+|la\s+|l'|des\s+)?([a-z\-]+)"
)
_CHANGE_WORDS = re.compile(
    r"\b(?:de combien|a-t-(?:il|elle)|ont-(?:ils|elles)|augmente|progresse|baisse|diminue|recule|evolue|varie)\b"
)


@dataclass(frozen=True)
class Plan:
    """What to compute and the standalone questions giving each operand."""

    operation: Operation
    questions: tuple[str, ...]
    labels: tuple[str, ...]


def plan(question: str) -> Plan | None:
    """Recognise a computation question; None for an ordinary figure question."""
    f = fold(question).replace("’", "'")
    between = _BETWEEN_RE.search(f)
    if between and _GROWTH_RE.search(f):
        start, end = between.group(1), between.group(2)
        base = question[: between.start()] + question[between.end() :]
        base = _CHANGE_WORDS.sub(" ", fold(base).replace("’", "'"))
        base = re.sub(r"\s+", " ", base).strip(" ?")
        if not base.startswith(("combien", "quel")):
            base = f"combien {base}"
        return Plan("growth", (f"{base} en {start} ?", f"{base} en {end} ?"), (start, end))
    if _SHARE_RE.search(f):
        m = re.search(r"\bobjectif\b(.*?)(?:\b(?:est|a ete|sont)\s+(?:deja\s+)?atteinte?s?\b|\?|$)", f)
        rest = m.group(1).strip() if m else ""
        # "de 40 millions de carnets activés" -> the indicator is "carnets activés"
        indicator = re.sub(
            r"^(?:de\s+|d')?(?:\d[\d\s,.]*\s*(?:%|millions?|milliards?|mille)?\s*)?(?:de\s+|d')?", "", rest
        )
        indicator = indicator.strip() or rest
        return Plan(
            "share",
            (f"combien de {indicator} ?", f"quel objectif {rest} ?"),
            ("niveau actuel", "objectif"),
        )
    excl = _EXCLUDING_RE.search(f)
    if excl:
        total = (f[: excl.start()] + f[excl.end() :]).strip(" ?")
        part = f"{total} dans les {excl.group(1)} ?"
        return Plan("excluding", (f"{total} ?", part), ("total", excl.group(1)))
    return None


def format_fr(value: float, kind: FigureKind, unit: str | None, *, signed: bool = False) -> str:
    """A number written as the bulletins write it: '7 millions', '1,2 Md€', '+41 %', '150 000'."""
    sign = "+" if signed and value > 0 else (MINUS if value < 0 else "")
    v = abs(value)
    if kind is K.PERCENT or unit == "%":
        text = f"{v:.0f}" if v >= 10 else f"{v:.1f}".replace(".", ",")
        return f"{sign}{text.removesuffix(',0')} %"
    suffix = ""
    if v >= 1e9:
        text, suffix = _decimal(v / 1e9), (" Md€" if unit == "EUR" else " milliards")
    elif v >= 1e6:
        text, suffix = _decimal(v / 1e6), (" M€" if unit == "EUR" else (" million" if v < 2e6 else " millions"))
    else:
        text = f"{round(v):,}".replace(",", "\u202f")
        suffix = " €" if unit == "EUR" else ""
    return f"{sign}{text}{suffix}"


#: The minus sign of French typography (U+2212), not the hyphen.
MINUS = "\u2212"
#: Thousands separator: the narrow no-break space, as « 24 000 000 ».
THOUSANDS = "\u202f"


def percent_fr(pct: float, *, signed: bool = False) -> str:
    """A computed percentage with one decimal, French style: '+41,2 %', '−3,5 %', '60 %'."""
    sign = "+" if signed and pct > 0 else (MINUS if pct < 0 else "")
    return f"{sign}{f'{abs(pct):.1f}'.replace('.', ',').removesuffix(',0')} %"


def number_fr(v: float) -> str:
    """An operand or intermediate result in full, French style: '24 000 000', '2,5', '−1 300'."""
    sign = MINUS if v < 0 else ""
    v = abs(v)
    if float(v).is_integer():
        return sign + f"{v:,.0f}".replace(",", THOUSANDS)
    whole, _, frac = f"{v:,.6f}".rstrip("0").partition(".")
    return sign + whole.replace(",", THOUSANDS) + ("," + frac if frac else "")


def _decimal(x: float) -> str:
    return (f"{x:.1f}" if x < 100 else f"{x:.0f}").replace(".", ",").removesuffix(",0")


class Calculator:
    """Runs a :class:`Plan`: finds each operand with the reader, checks them, computes."""

    def __init__(self, reader: Reader, retrieve: RetrieveFn) -> None:
        self.reader = reader
        self.retrieve = retrieve

    def operand(
        self,
        question: str,
        *,
        kinds: tuple[FigureKind, ...] | None = None,
        target: bool | None = None,
        latest: bool = False,
        prefer_bulletin: str | None = None,
    ) -> Candidate | None:
        spec = analyse(question)
        changes: dict[str, object] = {"change": False, "latest": latest or spec.latest}
        if target:
            changes["numbers"] = ()  # the objective's own figure is what we look for
        if kinds is not None:
            changes["kinds"] = kinds
        if target is not None:
            changes["target"] = target
        spec = dataclasses.replace(spec, **changes)  # type: ignore[arg-type]
        ranked = self.reader.candidates(spec, self.retrieve(question))
        if target is False:
            ranked = [c for c in ranked if not _is_target(c)]
        if prefer_bulletin:
            # An objective is usually reported next to the level it is measured against.
            same = [c for c in ranked if c.passage.bulletin_id == prefer_bulletin]
            if self.reader.decide(spec, same)[2]:
                ranked = same
        best, _, answered = self.reader.decide(spec, ranked)
        return best if answered else None

    def answer(self, p: Plan, question: str, spec: QuestionSpec) -> Answer:
        kinds = tuple(k for k in spec.kinds if k is not K.PERCENT) or (K.COUNT, K.MONEY)
        if p.operation == "share":
            kinds = (K.COUNT, K.MONEY, K.PERCENT)
        if p.operation == "share":
            b = self.operand(p.questions[1], kinds=kinds, target=True)
            a = self.operand(
                p.questions[0],
                kinds=kinds,
                target=False,
                latest=True,
                prefer_bulletin=b.passage.bulletin_id if b else None,
            )
        else:
            a = self.operand(p.questions[0], kinds=kinds)
            b = self.operand(p.questions[1], kinds=kinds)
        missing = [label for label, c in zip(p.labels, (a, b), strict=True) if c is None]
        if missing or a is None or b is None:
            return refusal(question, f"il me manque un chiffre ({', '.join(missing)}) dans les bulletins")
        reason = incompatible(p.operation, a, b)
        if reason:
            return refusal(question, reason, operands=(a, b))
        return computed(p, question, a, b)


def _is_target(c: Candidate) -> bool:
    window = fold(c.sentence[max(0, c.figure.start - c.sent_start - 90) : c.figure.end - c.sent_start + 20])
    return bool(re.search(r"\bd'ici\b|\bobjectif|\batteindre\b|\bvis", window.replace("’", "'")))


def incompatible(operation: Operation, a: Candidate, b: Candidate) -> str | None:
    """Why two operands cannot be combined, or None.

    Only like quantities combine: the same kind, the same unit, the same "per" basis (a
    per-inhabitant amount is not a part of a national total) and, for a growth or a part, the
    same order of magnitude.
    """
    fa, fb = a.figure, b.figure
    if fa.kind is not fb.kind or ((fa.unit in ("%", "EUR") or fb.unit in ("%", "EUR")) and fa.unit != fb.unit):
        return f"les deux chiffres ne sont pas dans la même unité ({fa.text} et {fb.text})"
    pa, pb = per_basis(a), per_basis(b)
    if pa != pb:
        what = " et ".join(f"{c.figure.text} {p}" if p else f"{c.figure.text} au total" for c, p in ((a, pa), (b, pb)))
        return f"les deux chiffres ne portent pas sur la même base ({what})"
    if operation == "growth":
        da, db = as_of_for(a), as_of_for(b)
        if da and db and da.date == db.date:
            return f"les deux chiffres portent sur la même période ({da.label})"
    va, vb = abs(fa.value or 0.0), abs(fb.value or 0.0)
    if operation in ("growth", "excluding") and va and vb and max(va, vb) / min(va, vb) > MAX_SCALE_RATIO:
        return f"les deux chiffres ne sont pas du même ordre de grandeur ({fa.text} et {fb.text})"
    if operation == "excluding" and fb.value is not None and fa.value is not None and fb.value > fa.value:
        return f"la partie ({fb.text}) dépasse le total ({fa.text})"
    return None


#: Two values of one indicator at two dates, or a total and its part, differ by less than this factor;
#: beyond it they are not the same quantity (a national total and a per-inhabitant amount).
MAX_SCALE_RATIO = 1000.0

_PER_RE = re.compile(
    r"^\s*(?:de\s+|d'|d’)?(?:[a-zà-ÿ'’-]+\s+){0,2}?(?:par|/)\s*(?:an\b|mois\b|jour\b|semaine\b|"
    r"(?:le\s+|la\s+|l'|l’)?(?:habitant|personne|patient|assuré|assure|bénéficiaire|beneficiaire|"
    r"ménage|menage|foyer|salarié|salarie|élève|eleve|naissance|tête|tete|hab|an|mois|jour))",
    re.IGNORECASE,
)


def per_basis(c: Candidate) -> str | None:
    """The "per" basis stated right after a figure ("par habitant", "par an", "/hab"), or None for a total."""
    rel = c.figure.end - c.sent_start
    m = _PER_RE.match(c.sentence[rel : rel + 40])
    if not m:
        return None
    word = re.split(r"par|/", m.group(0), maxsplit=1, flags=re.IGNORECASE)[-1]
    return "par " + fold(word.strip(" '’")).removeprefix("le ").removeprefix("la ").removeprefix("l'")


def absurd(operation: Operation, result: float, pct: float | None) -> str | None:
    """Why a computed result cannot be right for its kind, or None."""
    if operation == "share" and result > 100.0:
        return f"la part obtenue ({percent_fr(result)}) dépasserait 100 %"
    if operation == "growth" and pct is not None and not math.isnan(pct) and abs(pct) > 1000.0:
        return f"l'évolution obtenue ({percent_fr(pct, signed=True)}) n'est pas plausible pour un même indicateur"
    return None


def refusal(question: str, reason: str, operands: Sequence[Candidate] = ()) -> Answer:
    citations = [citation_for(c, i) for i, c in enumerate(operands, start=1)]
    return Answer(
        question=question,
        answer=f"Je ne peux pas faire ce calcul : {reason}.",
        abstained=True,
        confidence=0.8,
        figures=[],
        citations=[],
        suggestions=citations,
    )


def computed(p: Plan, question: str, a: Candidate, b: Candidate) -> Answer:
    va, vb = float(a.figure.value or 0.0), float(b.figure.value or 0.0)
    kind, unit = a.figure.kind, a.figure.unit
    ops = [Operand(figure=figure_out(a.figure, 1), citation=1), Operand(figure=figure_out(b.figure, 2), citation=2)]
    citations: list[Citation] = [citation_for(a, 1), citation_for(b, 2)]
    pct: float | None = None
    if p.operation == "growth":
        diff = vb - va
        pct = diff / va * 100 if va else math.nan
        result, result_text = diff, format_fr(diff, kind, unit, signed=True)
        if not math.isnan(pct):
            result_text += f" ({percent_fr(pct, signed=True)})"
        expression = (
            f"{_num(vb)} {MINUS} {_num(va)} = {_num(diff)} ; "
            f"({_num(vb)} {MINUS} {_num(va)}) / {_num(va)} × 100 = {percent_fr(pct, signed=True)}"
        )
        when = f"entre {p.labels[0]} et {p.labels[1]}"
        text = (
            f"{when[0].upper()}{when[1:]}, le chiffre passe de {a.figure.text} [1] à {b.figure.text} [2], "
            f"soit {result_text}."
        )
    elif p.operation == "share":
        pct = va / vb * 100 if vb else math.nan
        result, result_text = pct, percent_fr(pct)
        expression = f"{_num(va)} / {_num(vb)} × 100 = {result_text}"
        text = f"{a.figure.text} [1] sur un objectif de {b.figure.text} [2] : {result_text} de l'objectif est atteint."
    else:
        diff = va - vb
        result, result_text = diff, format_fr(diff, kind, unit)
        expression = f"{_num(va)} {MINUS} {_num(vb)} = {_num(diff)}"
        text = (
            f"{a.figure.text} [1] au total, dont {b.figure.text} [2] pour « {p.labels[1]} » : "
            f"{result_text} hors {p.labels[1]}."
        )
    unit_out = "%" if p.operation == "share" else unit
    odd = absurd(p.operation, result, pct)
    if odd:
        return refusal(question, odd, operands=(a, b))
    return Answer(
        question=question,
        answer=text,
        abstained=False,
        confidence=round(min(a.score, b.score), 3),
        figures=[figure_out(a.figure, 1), figure_out(b.figure, 2)],
        citations=citations,
        computation=Computation(
            operation=p.operation,
            expression=expression,
            operands=ops,
            result=round(result, 6),
            result_text=result_text,
            unit=unit_out,
        ),
    )


def _num(v: float) -> str:
    return number_fr(v)


__all__ = ["Calculator", "Plan", "format_fr", "number_fr", "percent_fr", "plan"]
_ = FigureOut  # re-exported type used in annotations of callers
