"""What kind of reply a question calls for, before any figure is looked for.

Most questions ask for one figure and go to the reader. A few do not, and a
single figure would mislead: two counted things at once (« Combien de décès et
d'hospitalisations … ? »), the key figures of a bulletin (« Quels sont les
chiffres clés du dernier bulletin ? »), a question that asks for no figure at
all (« Qu'est-ce que Mon Espace Santé ? ») or one not written in French.
Patterns over the accent-folded question, like :mod:`assistant.questions`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .language import looks_english
from .lexical import fold
from .questions import analyse


class Intent(StrEnum):
    """The answer contract's ``kind``."""

    FIGURE = "figure"  # one figure (or a computation): the reader
    FIGURES = "figures"  # several counted things named together: one reading each
    KEY_FIGURES = "key_figures"  # a bulletin's main figures, as a cited list
    NOT_A_FIGURE = "not_a_figure"  # a definition, a person, a reason: not what the bulletins' figures answer
    NOT_FRENCH = "not_french"


@dataclass(frozen=True, slots=True)
class Route:
    intent: Intent
    parts: tuple[str, ...] = ()  # FIGURES: one standalone question per figure asked
    latest: bool = False  # KEY_FIGURES: « du dernier bulletin »
    topic: bool = False  # KEY_FIGURES: « que dit le bulletin sur … »: rank by the question's words


_KEY_FIGURES_RE = re.compile(
    r"\bchiffres?[ -]cles?\b|\bprincipaux chiffres\b|\bgrands chiffres\b"
    r"|\bchiffres (?:importants|marquants|principaux)\b"
    r"|\bque (?:dit|disent|retenir|contient)\b|\bqu'y a-t-il dans\b|\bresume (?:du|de ce|le) bulletin\b"
    r"|\bl'essentiel du bulletin\b"
)
_TOPIC_RE = re.compile(r"\bque (?:dit|disent)\b.*\b(?:sur|a propos d|concernant|au sujet d)")
_LATEST_RE = re.compile(r"\bdernier|\bplus recent|\bderniere")
# A question asking for no figure: a definition, a person or body, a reason, a procedure.
_NOT_A_FIGURE_RE = re.compile(
    r"^(?:qu'est[- ]ce (?:que|qu'|qui)|qu'est-ce|c'est quoi|que (?:signifie|veut dire|designe)"
    r"|a quoi sert|a quoi servent|qui (?:est|sont|gere|pilote|peut|doit|finance|organise)|pourquoi"
    r"|comment (?:fonctionne|marche|faire|utiliser|activer|acceder|obtenir|se |s')"
    r"|definis|definition|explique)"
)
# « Combien de décès et d'hospitalisations … », « le nombre de médecins et d'infirmiers … ».
_TWO_COUNTS_RE = re.compile(
    r"\b(?P<ask>combien|nombre)\s+(?P<det1>de\s+|d['’])(?P<w1>[^\W\d_][\w-]*)\s+et\s+(?:combien\s+)?"
    r"(?P<det2>de\s+|d['’]|des\s+)(?P<w2>[^\W\d_][\w-]*)",
    re.IGNORECASE,
)
_NOT_NOUNS = frozenset(["temps", "fois", "euros", "jours", "mois", "ans", "annees", "heures", "minutes"])


def split_counts(question: str) -> tuple[str, ...]:
    """« Combien de décès et d'hospitalisations … ? » -> « Combien de décès … ? », « Combien d'hospitalisations … ? »"""
    m = _TWO_COUNTS_RE.search(question)
    if m is None or fold(m["w1"]) in _NOT_NOUNS or fold(m["w2"]) in _NOT_NOUNS:
        return ()
    head, tail = question[: m.start("det1")], question[m.end("w2") :]
    second_det = "d'" if fold(m["w2"])[:1] in "aeiouyh" else "de "
    return (f"{head}{m['det1']}{m['w1']}{tail}", f"{head}{second_det}{m['w2']}{tail}")


def route(question: str) -> Route:
    """The kind of reply ``question`` (already made standalone) calls for."""
    if looks_english(question):
        return Route(Intent.NOT_FRENCH)
    folded = fold(question).replace("’", "'").strip()
    if _KEY_FIGURES_RE.search(folded):
        return Route(Intent.KEY_FIGURES, latest=bool(_LATEST_RE.search(folded)), topic=bool(_TOPIC_RE.search(folded)))
    parts = split_counts(question)
    if parts:
        return Route(Intent.FIGURES, parts=parts)
    if _NOT_A_FIGURE_RE.search(folded) and not analyse(question).kinds:
        return Route(Intent.NOT_A_FIGURE)
    return Route(Intent.FIGURE)
