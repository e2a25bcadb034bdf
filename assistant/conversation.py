"""Follow-up questions: complete an elliptical question from the conversation.

"Et en 2024 ?" after "Combien d'assurés ont activé Mon Espace Santé ?" becomes
"Combien d'assurés ont activé Mon Espace Santé en 2024 ?". Rules, no model: a
question is elliptical when it opens with "et"/"pour"/"en"… or is too short to
stand alone; its period replaces the previous one, its noun the previous noun.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexical import fold
from .models import Message
from .questions import analyse

_ELLIPTIC_START = re.compile(r"^\s*(?:et|pour|en|au|a|à|fin|dans|chez|côté|cote|concernant|quid)\b", re.I)
_PERIOD_EXPR = re.compile(
    r"\s*,?\s*\b(?:en|au|à|a|fin|début|debut|mi-?|depuis|pour|d['’]ici(?:\s+(?:la\s+)?fin)?)?\s*(?:l['’]année\s+)?"
    r"(?:(?:1er|\d{1,2})\s+)?(?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)?"
    r"\s*\b(?:19|20)\d\d\b",
    re.I,
)
_NOUN_PHRASE = re.compile(r"^\s*(?:et|pour|quid)\s+(?:des|les|le|la|l['’]|du|de|d['’])\s*([^\W\d_][\w\-’']*)", re.I)


def last_user_question(history: Sequence[Message]) -> str | None:
    for msg in reversed(history):
        if msg.role == "user" and msg.content.strip():
            return msg.content.strip()
    return None


def is_elliptical(question: str) -> bool:
    q = question.strip()
    n_words = len(re.findall(r"\w+", q))
    spec = analyse(q)
    return (bool(_ELLIPTIC_START.match(q)) and n_words <= 8) or (n_words <= 3 and not spec.kinds)


def standalone_question(question: str, history: Sequence[Message]) -> str:
    """The question made self-contained using the last user question."""
    previous = last_user_question(history)
    if not previous or not is_elliptical(question):
        return question.strip()
    # The previous question may itself have been a follow-up: rebuild it first.
    earlier = list(history)
    while earlier and not (earlier[-1].role == "user" and earlier[-1].content.strip() == previous):
        earlier.pop()
    if earlier:
        previous = standalone_question(previous, earlier[:-1])
    new = question.strip().rstrip(" ?").strip()
    base = previous.strip().rstrip(" ?").strip()
    new_spec = analyse(new)
    if new_spec.periods:
        base = _PERIOD_EXPR.sub("", base).strip()
        period = _PERIOD_EXPR.search(new)
        return f"{base} {period.group(0).strip(' ,') if period else new_spec.periods[0].label()} ?"
    m = _NOUN_PHRASE.match(new)
    prev_spec = analyse(base)
    if m and prev_spec.noun_word:
        noun = m.group(1)
        rx = re.compile(rf"\b(de\s+|d['’]|des\s+)({re.escape(prev_spec.noun_word)}\w*)", re.I)
        found = next((mm for mm in rx.finditer(base) if fold(mm.group(2)).startswith(prev_spec.noun_word)), None)
        if found is None:
            # noun_word is accent-folded; find the original spelling in the previous question
            for mm in re.finditer(r"\b(de\s+|d['’]|des\s+)([^\W\d_][\w\-]*)", base, re.I):
                if fold(mm.group(2)) == prev_spec.noun_word:
                    found = mm
                    break
        if found is not None:
            prep = "d’" if noun[:1].lower() in "aeiouyéèêàh" else "de "
            return f"{base[: found.start()]}{prep}{noun}{base[found.end() :]} ?"
    rest = re.sub(r"^\s*(?:et|pour|quid)\s+", "", new, flags=re.I)
    return f"{base} — {rest} ?"
