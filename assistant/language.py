"""Is a text French? Function words tell: frequent in any sentence of one language, rare in the other.

Used on questions (a question in English gets a French hint, :mod:`assistant.intents`) and on an LLM's
text (the figure guard refuses one that is not French, :mod:`assistant.generation.guard`). No model:
a short question or answer is too little for a statistical language detector to beat this.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# « a », « on », « est » (as in « Grand Est ») and « per » are in both languages: left out.
FRENCH = _words(
    """le la les l un une des du de d au aux et est sont ont été en dans par pour sur avec selon qui que qu
    ce cette ces son sa ses leur leurs il elle ils elles se s n ne pas plus ou où mais aussi y à chaque
    environ depuis entre soit contre mois ans personnes nombre part combien quel quelle quels quelles quand
    taux"""
)
ENGLISH = _words(
    """the of and to is are was were be been has have had with from that this these those it its for by
    which who whom people million millions about there their they than into between according how many much
    what why when where does did do will would could should since until number percent rate patients"""
)
#: Below this many words (« Logiciels référencés Ségur : 1 420 (fin 2025) [1]. ») only English words count.
MIN_WORDS = 8
#: Least share of French function words in a longer text (the reader's answers: 20-50 %).
MIN_FRENCH_SHARE = 0.15


def french_score(text: str) -> tuple[int, int, int]:
    """(words, French function words, English function words) of ``text``."""
    words = [w.lower() for w in _WORD.findall(text.replace("’", "'"))]
    return len(words), sum(w in FRENCH for w in words), sum(w in ENGLISH for w in words)


def is_french(text: str) -> bool:
    """French unless the text has more English than French function words, or (long enough) too few French ones."""
    words, fr, en = french_score(text)
    if en > fr:
        return False
    return words < MIN_WORDS or fr / words >= MIN_FRENCH_SHARE


def looks_english(question: str) -> bool:
    """A question with more English than French function words, two at least (« How many patients … »): a
    single shared-looking word (« Covid ? ») is not enough to answer in another language."""
    _, fr, en = french_score(question)
    return en >= 2 and en > fr
