"""Question analysis: what figure a French question wants, about what, and when.

No model: patterns over the accent-folded question. The result drives the
reader (which figure kinds qualify, which noun must be counted, which period
or "latest" preference applies).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .figures import FigureKind
from .lexical import STOPWORDS, fold, stem, words
from .loading.metadata import MONTHS

K = FigureKind

# Order matters: the first family that matches decides ("combien coûte" is money,
# "combien de temps" a duration, before the generic "combien" count).
_KIND_PATTERNS: list[tuple[FigureKind, re.Pattern[str]]] = [
    (K.DATE, re.compile(
        r"\bquand\b|\bquelle annee\b|\ben quelle annee\b|\ba quelle date\b|\bquelle date\b|\bquelle echeance\b"
        r"|\bdepuis quand\b|\bjusqu'?a quand\b|\bquel horizon\b|\ba quel moment\b|\bquel mois\b")),
    (K.PERCENT, re.compile(
        r"\bquelle part\b|\bquel taux\b|\bquel pourcentage\b|\bquelle proportion\b|\ben %|\ben pourcentage\b"
        r"|\bquelle fraction\b|\bcombien sur\b|\bpart des?\b|\bpart d'")),
    (K.MONEY, re.compile(
        r"\bbudget|\bcout\b|\bcoute|\bcouts\b|combien d'euros|\bmontant|\bdepense|\bfinanc|\binvesti|\benveloppe"
        r"|\beuros?\b|€|\bprix\b|\btarif|\beconomi|\bcredits?\b|\bdotation|\bsubvention|\bfonds\b"
        r"|\bcombien (?:rapporte|est (?:rembourse|paye|facture|verse)e?|sont (?:rembourse|paye|facture|verse)e?s)")),
    (K.DURATION, re.compile(
        r"\bduree|\bdelai|combien de temps|\btemps d'attente|\btemps moyen|\btemps median|\battente"
        r"|combien d'heures|combien de minutes|combien de jours|combien de semaines|combien de mois|combien d'annees")),
    (K.PERCENT, re.compile(
        r"\btaux\b|\bpourcentage|\bproportion|\bpourcent|%"
        r"|\bquelle hausse\b|\bquelle baisse\b|\bquelle progression\b|\bquelle augmentation\b|\bquelle evolution\b"
        r"|\bquelle diminution\b|\bquel recul\b|\bquelle croissance\b")),
    (K.COUNT, re.compile(r"\bcombien\b|\bnombre\b|\bquel effectif\b|\bquelle quantite\b|\bquel volume\b")),
]  # fmt: skip

_CHANGE_RE = re.compile(
    r"\bhausse|\bbaisse|\bprogress|\baugment|\bevolu|\bdiminu|\brecul|\bcroissance|\bcroit|\bgagn|\bperdu|\bgain"
    r"|de combien .*\b(?:plus|moins)\b|\bvariation"
)
_LATEST_RE = re.compile(
    r"\bdernier|\bderniere|\bplus recent|\bactuel|\baujourd'hui|\ba ce jour|\bdesormais|\bmaintenant"
    r"|\ben ce moment|\bpresent\b|\bmise a jour|\bdate la plus recente"
)
_TARGET_RE = re.compile(
    r"\batteindre\b|\bobjectif|\bvis(?:e|er|ent|ee)\b|\bcible|\bd'ici\b|\bhorizon|\bambition|\bprevu|\bprevoi|\battendu"
)
_NOUN_RE = re.compile(
    r"\b(?:combien|nombre|part|proportion|pourcentage|taux|quantite|effectif)\s+(?:de\s+la\s+|de\s+l'|des\s+|du\s+|de\s+|d')"
    r"(?:(?:nouveaux|nouvelles|nouveau|nouvelle)\s+)?([a-z][a-z\-]+)"
)
_PERIOD_WORDS_RE = re.compile(
    r"\b(?:(?:fin|debut|mi|courant|au|le)\s+)?(?:(?:1er|\d{1,2})\s+)?"
    r"(?:janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre)?\s*(?:1\d|20)\d\d\b"
)
_YEAR_RE = re.compile(r"\b(1\d{3}|20\d\d)\b")
_MONTH_YEAR_RE = re.compile(
    r"\b(" + "|".join(sorted({fold(m) for m in MONTHS}, key=len, reverse=True)) + r")\s+((?:1\d|20)\d\d)\b"
)
_END_OF_YEAR_RE = re.compile(r"\b(?:fin|au 31 decembre|31 decembre|decembre)\s+((?:1\d|20)\d\d)\b")

# Words of the question that say what is asked, not what about: never matched.
QUESTION_WORDS = frozenset(
    [
        "combien",
        "quel",
        "quelle",
        "quels",
        "quelles",
        "nombre",
        "quand",
        "annee",
        "date",
        "part",
        "taux",
        "pourcentage",
        "proportion",
        "valeur",
        "chiffre",
        "chiffres",
        "selon",
        "dernier",
        "derniere",
        "bilan",
        "actuellement",
        "actuel",
        "aujourd",
        "hui",
        "est",
        "sont",
        "ete",
        "etait",
        "ont",
        "a",
        "y",
        "il",
        "elle",
        "ce",
        "cette",
        "donc",
        "alors",
        "exactement",
        "environ",
        "precisement",
        "quelque",
        "niveau",
        "cadre",
        "volume",
        "montant",
        "combien",
        "cout",
        "coute",
        "duree",
        "delai",
        "recent",
        "recente",
        "plus",
        "moins",
        "ensemble",
        "au",
        "aux",
        "sur",
        "dans",
        "via",
        "aupres",
        "d",
        "l",
        "jour",
        "mois",
        "an",
        "ans",
        "semaines",
    ]
)


# "combien de temps / d'euros / de jours": a unit, not a counted thing.
UNIT_WORDS = frozenset(
    [
        "temps",
        "fois",
        "euros",
        "euro",
        "jours",
        "jour",
        "heures",
        "heure",
        "minutes",
        "minute",
        "semaines",
        "semaine",
        "mois",
        "ans",
        "annees",
        "annee",
        "points",
        "point",
        "pourcent",
        "millions",
        "million",
        "milliards",
        "milliard",
    ]
)


@dataclass(frozen=True)
class Period:
    """A period named in the question: a year, optionally a month."""

    year: int
    month: int | None = None
    end_of_year: bool = False

    def label(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)


@dataclass(frozen=True)
class QuestionSpec:
    """What the reader looks for."""

    text: str
    kinds: tuple[FigureKind, ...]  # acceptable kinds, preferred first; empty = any but dates
    change: bool  # asks for an evolution (hausse, progression...)
    noun: str | None  # stem of the counted thing ("assur"), if the question names one
    noun_word: str | None
    terms: tuple[str, ...]  # stemmed content terms
    periods: tuple[Period, ...] = field(default_factory=tuple)
    latest: bool = False
    target: bool = False
    numbers: tuple[float, ...] = field(default_factory=tuple)  # figures quoted in the question
    qualifiers: tuple[str, ...] = field(default_factory=tuple)  # noun-like terms that narrow the question
    modifiers: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # ("canc", "colorectal"): noun + its modifier
    date_cue: str | None = None  # "jusqu", "depuis", "ici": what precedes the date asked for

    @property
    def kind(self) -> FigureKind | None:
        return self.kinds[0] if self.kinds else None


def analyse(question: str) -> QuestionSpec:
    """Read a French question into a :class:`QuestionSpec`."""
    f = fold(question).replace("’", "'")
    kinds: list[FigureKind] = []
    for kind, rx in _KIND_PATTERNS:
        if rx.search(f):
            kinds.append(kind)
            break
    change = bool(_CHANGE_RE.search(f))
    if change and kinds and kinds[0] is K.COUNT:
        if re.search(r"\bde combien\b", f):
            kinds.insert(0, K.PERCENT)  # "de combien a augmenté…": bulletins mostly say "+40 %"
        else:
            kinds.append(K.PERCENT)
    elif change and kinds and kinds[0] is K.PERCENT:
        kinds.append(K.COUNT)
    noun_word = None
    m = _NOUN_RE.search(f)
    if m and m.group(1) not in STOPWORDS and m.group(1) not in UNIT_WORDS:
        noun_word = m.group(1)
    periods: list[Period] = []
    for m in _END_OF_YEAR_RE.finditer(f):
        periods.append(Period(int(m.group(1)), 12, end_of_year=True))
    for m in _MONTH_YEAR_RE.finditer(f):
        month = MONTHS.get(m.group(1)) or MONTHS.get(m.group(1).replace("e", "é", 1))
        p = Period(int(m.group(2)), month)
        if not any(q.year == p.year for q in periods):
            periods.append(p)
    for m in _YEAR_RE.finditer(f):
        if not any(q.year == int(m.group(1)) for q in periods):
            periods.append(Period(int(m.group(1))))
    without_periods = _PERIOD_WORDS_RE.sub(" ", f)
    terms = tuple(
        dict.fromkeys(
            stem(w)
            for w in words(without_periods)
            if w not in STOPWORDS and w not in QUESTION_WORDS and not w.isdigit() and len(w) > 1
        )
    )
    numbers = tuple(
        float(n.replace(",", ".").replace(" ", ""))
        for n in re.findall(r"\b\d+(?:[ ,]\d+)*\b", f)
        if not _YEAR_RE.fullmatch(n)
    )
    date_cue = None
    if kinds and kinds[0] is K.DATE:
        periods = []  # "jusqu'à quand court la campagne ouverte en octobre 2025 ?": a premise, not a filter
        cue = re.search(r"\b(jusqu|depuis|d'ici|a partir)\b", f)
        date_cue = cue.group(1) if cue else None
    qualifiers = tuple(dict.fromkeys((*_qualifiers(without_periods, noun_word), *_proper_nouns(question, noun_word))))
    modifiers = tuple(
        (h, m) for h, m in noun_modifiers(without_periods) if h in set(qualifiers) | {stem(noun_word or "")}
    )
    return QuestionSpec(
        text=question,
        kinds=tuple(kinds),
        change=change,
        noun=stem(words(noun_word)[0]) if noun_word else None,
        noun_word=noun_word,
        terms=terms,
        periods=tuple(periods),
        latest=bool(_LATEST_RE.search(f)),
        target=bool(_TARGET_RE.search(f)),
        numbers=numbers,
        qualifiers=qualifiers,
        modifiers=modifiers,
        date_cue=date_cue,
    )


_LINKS = frozenset(["de", "du", "des", "d"])


def noun_modifiers(text: str) -> list[tuple[str, str]]:
    """(noun, modifier) stem pairs: "cancer colorectal", "cancer du sein", "urgences pédiatriques"."""
    tokens = re.findall(r"[a-z0-9]+", fold(text).replace("'", " "))
    out: list[tuple[str, str]] = []
    for i, head in enumerate(tokens[:-1]):
        if head in STOPWORDS or head in QUESTION_WORDS or head in UNIT_WORDS or head.isdigit() or len(head) < 3:
            continue
        j = i + 1
        if tokens[j] in _LINKS and j + 1 < len(tokens):
            j += 1
        mod = tokens[j]
        if mod in STOPWORDS or mod in QUESTION_WORDS or mod.isdigit() or len(mod) < 3:
            continue
        out.append((stem(head), stem(mod)))
    return out


# Words after which a question word is a noun (what is asked about), not a verb.
_NOUN_CUES = frozenset(
    [
        "le",
        "la",
        "les",
        "l",
        "un",
        "une",
        "des",
        "du",
        "de",
        "d",
        "au",
        "aux",
        "chez",
        "dans",
        "sur",
        "pour",
        "par",
        "en",
        "leur",
        "leurs",
        "son",
        "sa",
        "ses",
    ]
)


def _qualifiers(folded: str, noun_word: str | None) -> tuple[str, ...]:
    """Noun-like content terms other than the counted noun: "chez les soignants", "du cancer du poumon".

    A sentence that lacks one of them speaks of something narrower or different.
    """
    tokens = re.findall(r"[a-z0-9]+", folded.replace("'", " "))
    out: list[str] = []
    for prev, word in itertools.pairwise(tokens):
        if word in UNIT_WORDS or (prev in ("de", "d") and word.endswith(("er", "ir", "oir"))):
            continue  # "combien de temps", "avant de voir": a unit, an infinitive
        if prev in _NOUN_CUES and word not in STOPWORDS and word not in QUESTION_WORDS and not word.isdigit():
            if noun_word and word == noun_word:
                continue
            if len(word) > 2:
                out.append(stem(word))
    return tuple(dict.fromkeys(out))


def _proper_nouns(question: str, noun_word: str | None) -> tuple[str, ...]:
    """Capitalised words after the first (« en région Grand Est », « en Loire-Atlantique », « selon
    Santé publique France »): names that narrow the question as much as a « chez les … » does."""
    out = []
    for m in re.finditer(r"[^\W\d_]+", question):
        word = m.group(0)
        if m.start() == 0 or not word[0].isupper() or len(word) < 3:
            continue
        folded = fold(word)
        if folded in STOPWORDS or folded in QUESTION_WORDS or (noun_word and folded == fold(noun_word)):
            continue
        out.append(stem(folded))
    return tuple(out)


def read_questions(text: str) -> list[str]:
    """A questions file (``assistant ask --file``): one question per line; blank lines and
    lines starting with ``#`` are skipped."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]
