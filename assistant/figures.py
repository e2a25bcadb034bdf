"""Find and normalise the figures of French health bulletins.

Answers must quote a figure exactly as the source wrote it ("24 millions", "+58 %",
"fin 2027") while the rest of the pipeline compares figures numerically.  Each
:class:`Figure` therefore keeps its verbatim span (offsets into the input) next to a
normalised value, a kind and the noun it counts.

Design: a few regexes (compiled once) are tried only where a figure can start (digit
runs and a short list of keywords), each proposing candidate spans; the earliest, then
longest, candidate wins, so a richer reading ("31 décembre 2024") always beats a poorer
one starting at the same place ("31").  "Blocker" candidates (phone numbers, legal
references, labels such as "vague 2", URLs) win the same way but yield no figure.
Ranges ("entre 10 et 15 %") are joined afterwards from two adjacent figures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

__all__ = ["Figure", "FigureKind", "extract_figures", "parse_figure"]


class FigureKind(str, Enum):  # noqa: UP042 - public API fixed as (str, Enum); values compare equal to str
    """What a figure measures."""

    COUNT = "count"
    PERCENT = "percent"
    MONEY = "money"
    DATE = "date"
    DURATION = "duration"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: verbatim span ``text == source[start:end]`` plus its normalised reading."""

    text: str
    start: int
    end: int
    value: float | None
    kind: FigureKind
    unit: str | None
    noun: str | None = None
    high: float | None = None
    signed: bool = False
    date_iso: str | None = None


# --------------------------------------------------------------------------- lexicon

_NUMBER_WORDS: dict[str, int] = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40,
    "cinquante": 50, "soixante": 60, "cent": 100, "cents": 100,
}  # fmt: skip

_SCALES: dict[str, float] = {
    "mille": 1e3, "millier": 1e3, "milliers": 1e3, "k": 1e3,
    "million": 1e6, "millions": 1e6, "m": 1e6,
    "milliard": 1e9, "milliards": 1e9, "md": 1e9, "mds": 1e9, "mrd": 1e9, "mrds": 1e9,
}  # fmt: skip

_MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "fév": 2,
    "mars": 3, "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7,
    "août": 8, "aout": 8, "septembre": 9, "sept": 9, "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11, "décembre": 12, "decembre": 12, "déc": 12, "dec": 12,
}  # fmt: skip

# Duration unit -> (normalised unit, multiplier).  Hours and seconds become minutes so
# that "2 h 45" and "165 minutes" compare equal.
_DURATIONS: dict[str, tuple[str, float]] = {
    "h": ("min", 60.0), "heure": ("min", 60.0), "heures": ("min", 60.0),
    "min": ("min", 1.0), "mn": ("min", 1.0), "minute": ("min", 1.0), "minutes": ("min", 1.0),
    "sec": ("min", 1 / 60), "seconde": ("min", 1 / 60), "secondes": ("min", 1 / 60),
    "jour": ("jours", 1.0), "jours": ("jours", 1.0),
    "semaine": ("semaines", 1.0), "semaines": ("semaines", 1.0),
    "mois": ("mois", 1.0), "trimestre": ("mois", 3.0), "trimestres": ("mois", 3.0),
    "semestre": ("mois", 6.0), "semestres": ("mois", 6.0),
    "an": ("ans", 1.0), "ans": ("ans", 1.0), "année": ("ans", 1.0), "années": ("ans", 1.0),
    "décennie": ("ans", 10.0), "décennies": ("ans", 10.0),
}  # fmt: skip


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that can follow a number without being the counted noun.
_STOPWORDS: frozenset[str] = (
    _wordset(
        """
    le la les l un une des du de d au aux à a en et ou où sur sous dans par pour avec sans chez entre vers
    contre selon depuis pendant avant après dès lors jusqu jusque ce cet cette ces son sa ses leur leurs
    notre nos votre vos mon ma mes ton ta tes qui que qu quoi dont ne n pas plus moins très trop tout tous
    toute toutes même mêmes chaque chacun chacune il ils elle elles on nous vous je tu se s c ça cela ceci
    celui celle ceux celles y soit soient sont est était étaient été être sera seront serait seraient ont
    ai as avons avez avait avaient aura auront fait font peut peuvent pourra pourront doit doivent va vont
    environ près presque seulement déjà encore aussi ainsi alors donc mais or ni car si comme quand
    lorsque puis enfin également notamment via hors parmi afin tandis ici là voire puisque quelque
    quelques plusieurs certains certaines aucun aucune fin début mi contre fois sept
    """
    )
    | frozenset(_MONTHS)
    | frozenset(_NUMBER_WORDS)
    | frozenset(_SCALES)
    | frozenset(_DURATIONS)
)

# Pre-nominal adjectives skipped to reach the counted noun ("3 nouveaux centres").
_PRE_ADJECTIVES: frozenset[str] = _wordset(
    """
    nouveaux nouvelles nouveau nouvel nouvelle autres premiers premières derniers dernières prochains
    prochaines grands grandes petits petites principaux principales seuls seules anciens anciennes
    différents différentes divers diverses
    """
)

#: A lone four-digit number in this range reads as a year (history texts date from 1000 on).
_YEARS = (1000, 2100)

# A lone year after these words is a date even when a noun follows ("en 2025 patients").
_DATE_CONTEXT: frozenset[str] = _wordset(
    """
    en depuis dès année années an avant après fin début debut mi courant ici jusqu jusque à au vers
    entre et ou été hiver printemps automne horizon exercice campagne rentrée
    """
) | frozenset(_MONTHS)

# "tiers" in these compounds is a third party, not a third.
_TIERS_COMPOUNDS: frozenset[str] = _wordset(
    "payant payants monde lieu lieux personne personnes partie parties secteur état états"
)

# --------------------------------------------------------------------------- regex parts

# HTML non-breaking-space entities count as spaces so raw HTML bulletins parse too.
_NBSP_ENTITY = r"&nbsp;|&#160;|&#8239;|&#8201;|&thinsp;|&#[xX](?:a0|A0|202[fF]);"
_SEP = rf"(?:[ \u00a0\u202f\u2009\u2007\u2008\u200a]|{_NBSP_ENTITY})"  # thousands separators
_WS = rf"(?:[^\S\r\n]|{_NBSP_ENTITY})"  # horizontal whitespace, NBSP variants included
_APOS = "['\u2019\u02bc]"
_LETTER = r"(?:[^\W\d_][\u0300-\u036f]*)"  # a letter, with combining accents if decomposed
_WORD = rf"{_LETTER}+(?:-{_LETTER}+)*"
_NO_LETTER = r"(?![^\W\d_])"

# Digits with French grouping; atomic so "2 000e" cannot shrink to "2" and "1.2.3" is no number.
_NUM = (
    rf"(?>[0-9]{{1,3}}(?:{_SEP}[0-9]{{3}})+(?![0-9])(?:,[0-9]+)?"
    r"|[0-9]{1,3}(?:\.[0-9]{3})+(?![0-9]|\.[0-9])(?:,[0-9]+)?"
    r"|[0-9]+(?:[,.][0-9]+)?)"
    r"(?![.,]?[0-9])"
)
# Start of a number: an optional attached sign, never glued to a word ("COVID-19", "H1N1").
_LEAD = (
    r"(?:(?<![\w.,/])(?P<sign>[+\-\u2212\u2013])"
    r"|(?<![\w.,/+\u2212])(?<![^\W\d_][-\u2013]))"
)
_NW_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_NWSEQ = (
    rf"(?<![\w'\u2019\-])(?i:(?>(?:{_NW_ALT})\b"
    rf"(?:(?:-|{_WS}+)(?:et(?:-|{_WS}+)(?:une|un)|(?:{_NW_ALT}))\b){{0,5}}))"
)
_SCALE_WORDS = r"milliards?|millions?|milliers?|mille"
_SCALE_WORD = rf"(?:{_SCALE_WORDS})\b"
_COUNT_SCALE = r"(?:milliards?|millions?|milliers?|mille|Mds?|Mrds?)"
_DUR_ALT = "|".join(sorted(_DURATIONS, key=len, reverse=True))
_DUR_ADJ = r"derni[eè]re?s|premi[eè]re?s|prochaine?s"
# Number words count only before a scale ("deux millions"), a duration ("quinze jours") or
# "pour cent"; alone they are too common ("un", "une").
_AMOUNT = (
    rf"(?:{_LEAD}(?P<num>{_NUM})|(?P<nw>{_NWSEQ})(?={_WS}+(?:{_SCALE_WORD}|pour{_WS}?cent{_NO_LETTER}"
    rf"|(?:(?:{_DUR_ADJ}){_WS}+)?(?:{_DUR_ALT}){_NO_LETTER}"
    rf"|(?P<nwrange>(?:à|et|-){_WS}+{_LETTER}+(?:[-\s]{_LETTER}+)?{_WS}+(?:{_SCALE_WORD}|{_DUR_ALT}|pour)))))"
)
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))

# Digit or number-word amount, optional scale, then an optional unit.  One regex for
# money, percent, duration, measures and plain counts keeps matching at a digit cheap.
_QUANTITY_RE = re.compile(
    rf"{_AMOUNT}"
    rf"(?:{_WS}*(?P<scale>{_COUNT_SCALE}){_NO_LETTER}(?P<half>{_WS}+et{_WS}+demie?{_NO_LETTER})?"
    rf"|{_WS}*(?P<mscale>M(?={_WS}*(?:d{_APOS}|de{_WS}))|[MkK](?={_WS}*(?:€|euros?\b|EUR\b))))?"
    rf"(?:{_WS}*(?:"
    rf"(?P<cur>€|\$|(?:d{_APOS}{_WS}*|de{_WS}+)?(?:euros?|dollars?){_NO_LETTER}|EUR\b|USD\b)"
    rf"|(?P<pct>%|‰|pour{_WS}?cent{_NO_LETTER}|pourcents?{_NO_LETTER}|pour{_WS}+mille{_NO_LETTER})"
    rf"|(?:(?P<adj>{_DUR_ADJ}){_WS}+)?(?P<dur>{_DUR_ALT}){_NO_LETTER}"
    rf"(?:{_WS}*(?P<mm>[0-5][0-9])(?![0-9])(?:{_WS}*(?:minutes?|min|mn){_NO_LETTER})?)?"
    rf"|(?P<oth>points?{_WS}+de{_WS}+pourcentage|points?|pts?|fois|kWh|km|kg|mg|µg|μg|ml|mL|cl|cm|mm|m²|m2|°C"
    r"|Go|Mo|To|ko|g|l|m)(?![\w'\u2019²])"
    rf")|{_NO_LETTER})"
)
_RATIO_RE = re.compile(
    rf"(?:{_LEAD}(?P<a>{_NUM})|(?P<anw>{_NWSEQ}))"
    rf"(?:{_WS}+(?P<mid>(?!sur\b){_WORD}(?:{_WS}+(?!sur\b){_WORD})?))?"
    rf"{_WS}+sur{_WS}+(?:(?P<b>[0-9]+(?:{_SEP}[0-9]{{3}})*)(?![0-9]|[.,][0-9])|(?P<bnw>{_NWSEQ}))"
)
_RATIO_BAD_TAIL = re.compile(rf"{_WS}*(?:[%€$‰]|(?:{_SCALE_WORDS}|Mds?|{_DUR_ALT}){_NO_LETTER})")
_FRACTION_RE = re.compile(
    rf"(?:(?P<a>{_NWSEQ})|(?<![\w.,])(?P<ad>[0-9]{{1,2}})){_WS}+"
    rf"(?P<f>(?i:tiers|quarts?|cinquièmes?|dixièmes?))(?![\w\-])"
    rf"|(?<!\w)(?P<art>(?i:la|le|du)){_WS}+(?P<f2>moitié|tiers|quart)(?![\w\-])"
    rf"|(?<!\w)(?P<demi>(?i:une){_WS}+demi-heure)(?!\w)"
)
_DATE_TEXT_RE = re.compile(
    rf"(?<!\w)(?:(?P<pre>(?i:fin|début|debut|courant|mi))(?:{_WS}+|-))?"
    rf"(?:(?P<day>(?i:1er|1ᵉʳ|premier)|[0-9]{{1,2}})(?![0-9]){_WS}+)?"
    rf"(?P<mon>(?i:{_MONTH_ALT}))(?:\.|{_NO_LETTER})"
    rf"(?:{_WS}+(?P<year>[0-9]{{4}})(?![0-9]))?"
)
_DATE_PREFIX_YEAR_RE = re.compile(
    rf"(?<!\w)(?P<pre>(?i:fin|début|debut|courant|mi))(?:{_WS}+|-)(?P<year>[0-9]{{4}})(?![0-9]|[.,][0-9])"
)
_DATE_NUMERIC_RE = re.compile(
    r"(?<![\w./-])(?:(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})"
    r"|(?P<d2>[0-9]{1,2})(?P<s>[/.\-])(?P<m2>[0-9]{1,2})(?P=s)(?P<y2>[0-9]{4})"
    r"|(?P<d3>[0-9]{1,2})/(?P<m3>[0-9]{1,2})/(?P<y3>[0-9]{2})"
    r"|(?P<m4>[0-9]{1,2})/(?P<y4>[0-9]{4}))(?![0-9]|[/.\-][0-9])"
)
_YEAR_PAIR_RE = re.compile(r"(?<![\w./])(?P<y1>(?:1[0-9]|20)[0-9]{2})[/\-\u2013](?P<y2>(?:1[0-9]|20)[0-9]{2})(?![\w/])")
_LABELS = (
    "vague", "vagues", "phase", "étape", "page", "chapitre", "niveau", "type", "tome", "annexe", "version",
    "catégorie", "stade", "grade", "secteur", "titre", "volet", "axe",
)  # fmt: skip
_LABEL_ALT = "|".join(_LABELS)
_BLOCKER_RE = re.compile(
    # phone numbers, incl. +33 and 0 800 numbers
    rf"(?<![\w+])(?:\+33{_WS}?(?:\(0\))?{_WS}?[1-9]|0[1-9])(?:[ .\-\u00a0\u202f]?[0-9]{{2}}){{4}}(?![0-9])"
    rf"|(?<![\w+])0{_WS}?8[0-9]{{2}}(?:{_WS}?[0-9]{{2,3}}){{2,3}}(?![0-9])"
    # legal references: "article L. 1111-8", "L. 162-5", "n° 3", "numéro 12"
    rf"|(?<!\w)(?i:articles?|art\.)(?:{_WS}+(?:[LRDA]\.?{_WS}*)?[0-9]+(?:[-.][0-9]+)*(?:{_WS}*(?:bis|ter)\b)?"
    rf"(?:{_WS}*(?:,|et|à){_WS}*(?:[LRDA]\.?{_WS}*)?[0-9]+(?:[-.][0-9]+)*)*)"
    rf"|(?<![\w.])[LRD]\.?{_WS}?[0-9]+(?:-[0-9]+)+"
    rf"|(?<!\w)(?:[nN][°º]|(?i:numéros?)){_WS}*[0-9]+(?:[-/.][0-9]+)*"
    # labels, not quantities: "la vague 2", "diabète de type 2", "secteur 1", "page 12"
    rf"|(?<!\w)(?i:{_LABEL_ALT}){_WS}+[0-9]{{1,3}}(?![0-9]|[.,][0-9]|{_SEP}[0-9]{{3}})"
    # URLs and e-mail addresses
    r"|https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+"
)

_NOUN_RE = re.compile(
    rf"{_WS}*(?:(?P<de>de{_WS}+la{_WS}+|de{_WS}+l{_APOS}{_WS}*|des{_WS}+|du{_WS}+|de{_WS}+|d{_APOS}{_WS}*))?"
    rf"(?(de)(?:(?:ces|leurs|leur|ses|nos|vos|mes|cette|cet|ce){_WS}+)?)"
    rf"(?P<w>{_WORD})"
)
_INTEGER_RE = re.compile(rf"[0-9]+(?:{_SEP}[0-9]{{3}})*")
_DOT_THOUSANDS_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_SEP_RE = re.compile(_SEP)
_CONFIANCE_RE = re.compile(rf"{_WS}+de{_WS}+confiance{_NO_LETTER}")
_NEXT_WORD_RE = re.compile(rf"{_WS}+(?P<w>{_WORD})")
_PREV_WORD_RE = re.compile(rf"(?P<w>{_LETTER}+)(?:{_APOS}|{_WS}|-)*$")
_RANGE_GAP_RE = re.compile(rf"{_WS}*(?P<sep>à|et|-|\u2013|\u2014){_WS}*")
_RANGE_PRE_RE = re.compile(rf"(?<!\w)(?P<pre>(?i:entre|de){_WS}+|d{_APOS}{_WS}*)$")
_DE_FOLLOWS_RE = re.compile(rf"{_WS}+(?:de|des|du){_WS}|{_WS}+d{_APOS}")
_HEURE_FOLLOWS_RE = re.compile(rf"{_WS}+d{_APOS}{_WS}*heure{_NO_LETTER}")


# --------------------------------------------------------------------------- helpers


@dataclass(slots=True)
class _Cand:
    """A proposed span; ``kind is None`` marks a blocker that suppresses figures."""

    start: int
    end: int
    kind: FigureKind | None
    value: float | None = None
    unit: str | None = None
    noun: str | None = None
    signed: bool = False
    date_iso: str | None = None
    raw: float | None = None  # number as written, before scale/unit conversion
    factor: float = 1.0  # value == raw * factor, lets a range's lower bound inherit it
    bare: bool = False  # plain number with no scale/unit/noun: usable as a range's lower bound
    prio: int = 5  # tie-break for identical spans; lower wins
    needs_range: bool = False  # a number word only valid as the lower bound of a range


def _norm(word: str) -> str:
    return unicodedata.normalize("NFC", word).lower()


def _parse_number(s: str) -> float:
    """'150 000' -> 150000, '2,5' -> 2.5, '1.234.567' -> 1234567."""
    s = _SEP_RE.sub("", s)
    if _DOT_THOUSANDS_RE.fullmatch(s):
        s = s.replace(".", "")
    return float(s.replace(",", "."))


def _words_value(s: str) -> int | None:
    """'deux' -> 2, 'quatre-vingt-dix' -> 90, 'deux cent' -> 200."""
    cur = 0
    for tok in re.split(r"[-\s]+", s.lower()):
        if tok in ("", "et"):
            continue
        if tok in ("cent", "cents"):
            cur = (cur or 1) * 100
        elif tok in ("vingt", "vingts") and cur % 100 == 4:
            cur += 76  # quatre-vingt(s)
        elif tok in _NUMBER_WORDS:
            cur += _NUMBER_WORDS[tok]
        else:
            return None
    return cur or None


def _is_plural_noun(word: str) -> bool:
    """After a number >= 2 the counted noun is plural; this rejects verbs ('consultent')."""
    return word[-1:] in ("s", "x", "z") or (len(word) > 1 and word.isupper())


def _noun_after(text: str, pos: int, *, via_de: bool, direct: bool, plural: bool = False) -> str | None:
    """The head noun right after ``pos``, reached directly and/or through 'de/des/d’'."""
    m = _NOUN_RE.match(text, pos)
    if m is None or (m.group("w") is None):
        return None
    if (m.group("de") and not via_de) or (not m.group("de") and not direct):
        return None
    if not m.group("de") and m.start("w") == pos and pos > 0 and not text[pos - 1].isspace():
        return None  # glued to the figure: "3D", handled elsewhere
    word = m.group("w")
    if _norm(word) in _PRE_ADJECTIVES:
        nxt = _NEXT_WORD_RE.match(text, m.end("w"))
        if nxt is None:
            return None
        word = nxt.group("w")
    low = _norm(word)
    if len(low) < 2 or low in _STOPWORDS:
        return None
    if plural and not _is_plural_noun(word):
        return None
    return low


def _prev_word(text: str, pos: int) -> str | None:
    m = _PREV_WORD_RE.search(text, max(0, pos - 40), pos)
    return _norm(m.group("w")) if m else None


# --------------------------------------------------------------------------- candidate builders


def _count_or_date(text: str, m: re.Match[str], end: int, raw: float, factor: float, signed: bool) -> _Cand:
    """A plain number: a COUNT of the noun that follows, or a DATE if it is a lone year."""
    num = m.group("num") or ""
    scaled = factor != 1.0
    if not scaled and not signed and len(num) == 4 and num.isdigit() and _YEARS[0] <= raw <= _YEARS[1]:
        # A lone year is a date unless a plural noun makes it an amount ("2025 patients").
        noun = _noun_after(text, end, via_de=False, direct=True, plural=True)
        nxt = _NEXT_WORD_RE.match(text, end)
        lower_initial = nxt is not None and nxt.group("w")[0].islower()
        if noun is None or not lower_initial or _prev_word(text, m.start()) in _DATE_CONTEXT:
            return _Cand(m.start(), end, FigureKind.DATE, raw, None, date_iso=num, raw=raw, bare=True)
    value = raw * factor
    noun = _noun_after(text, end, via_de=scaled, direct=True, plural=abs(value) >= 2)
    return _Cand(m.start(), end, FigureKind.COUNT, value, noun, noun, signed, raw=raw, factor=factor,
                 bare=not scaled and noun is None, prio=6)  # fmt: skip


def _build_quantity(text: str, m: re.Match[str]) -> list[_Cand]:
    if m.group("num") is not None:
        raw = _parse_number(m.group("num"))
        signed = m.group("sign") is not None
        if signed and m.group("sign") != "+":
            raw = -raw
    else:
        words = _words_value(m.group("nw"))
        if words is None or (words == 1 and not m.group("scale")):
            return []  # "un an", "une semaine": the article, not a figure
        if m.group("nwrange") is not None:  # "deux" of "deux à trois jours": kept only if the range joins
            return [_Cand(m.start(), m.end("nw"), FigureKind.COUNT, float(words), raw=float(words), bare=True,
                          needs_range=True)]  # fmt: skip
        raw, signed = float(words), False
    scale = m.group("scale") or m.group("mscale")
    factor = _SCALES[scale.lower()] if scale else 1.0
    if m.group("half"):  # "un million et demi"
        raw += 0.5
    start, end = m.start(), m.end()
    if m.group("cur"):
        cur = m.group("cur")
        unit = "USD" if cur in ("$", "USD") or cur.endswith(("dollar", "dollars")) else "EUR"
        noun = _noun_after(text, end, via_de=True, direct=False)
        return [_Cand(start, end, FigureKind.MONEY, raw * factor, unit, noun, signed, raw=raw, factor=factor)]
    if scale:  # a scale word with a percent/duration/measure after it is not one of those
        return [
            _count_or_date(
                text,
                m,
                m.end("half") if m.group("half") else m.end("scale") if m.group("scale") else m.end("mscale"),
                raw,
                factor,
                signed,
            )
        ]
    if m.group("pct"):
        noun = _noun_after(text, end, via_de=True, direct=False)
        if m.group("pct") == "‰" or "mille" in m.group("pct"):
            return [_Cand(start, end, FigureKind.OTHER, raw, "‰", noun, signed, raw=raw)]
        return [_Cand(start, end, FigureKind.PERCENT, raw, "%", noun, signed, raw=raw)]
    if m.group("dur"):
        unit, dfactor = _DURATIONS[m.group("dur")]
        value = raw * dfactor
        if m.group("mm") is not None:
            if m.group("dur") in ("h", "heure", "heures") and m.group("adj") is None:
                value += float(m.group("mm"))
            else:
                end = m.end("dur")
        noun = _noun_after(text, end, via_de=True, direct=False)
        return [_Cand(start, end, FigureKind.DURATION, value, unit, noun, signed, raw=raw, factor=dfactor)]
    if m.group("oth"):
        unit = m.group("oth")
        if unit.startswith("p"):
            if unit.startswith("point") and "pourcentage" not in unit and not signed and raw.is_integer():
                return [_count_or_date(text, m, m.end("num"), raw, 1.0, signed)]  # "3 points de vente"
            unit = "points"
        noun = _noun_after(text, end, via_de=True, direct=False)
        return [_Cand(start, end, FigureKind.OTHER, raw, unit, noun, signed, raw=raw)]
    return [_count_or_date(text, m, end, raw, 1.0, signed)]


def _build_ratio(text: str, m: re.Match[str]) -> list[_Cand]:
    a_txt, b_txt = m.group("a"), m.group("b")
    if a_txt is not None and (m.group("sign") or not _INTEGER_RE.fullmatch(a_txt)):
        return []
    a = _parse_number(a_txt) if a_txt is not None else _words_value(m.group("anw"))
    b = _parse_number(b_txt) if b_txt is not None else _words_value(m.group("bnw"))
    if a is None or b is None or b < 2 or a > b or _RATIO_BAD_TAIL.match(text, m.end()):
        return []
    if (
        m.group("anw")
        and m.group("anw").lower() in ("un", "une")
        and _noun_after(text, m.end(), via_de=False, direct=True, plural=True)
    ):
        return []  # "un effet sur trois indicateurs": "un" is an article, "sur" means "on"
    noun = None
    if m.group("mid"):
        words = [_norm(w) for w in m.group("mid").split()]
        if any(w in _STOPWORDS and w not in _DURATIONS for w in words):
            return []  # durations stay allowed: "24 heures sur 24"
        noun = words[0]
    return [_Cand(m.start(), m.end(), FigureKind.PERCENT, 100.0 * a / b, "%", noun, prio=4)]


_FRACTIONS = {"tiers": 3, "quart": 4, "quarts": 4, "moitié": 2, "cinquième": 5, "cinquièmes": 5,
              "dixième": 10, "dixièmes": 10}  # fmt: skip


def _build_fraction(text: str, m: re.Match[str]) -> list[_Cand]:
    if m.group("demi"):
        return [_Cand(m.start(), m.end(), FigureKind.DURATION, 30.0, "min", raw=30.0)]
    if m.group("f2"):
        part, count = m.group("f2").lower(), 1
        article = m.group("art").lower()
        if (part == "moitié") != (article == "la"):  # "la moitié", "le/du tiers", "le/du quart"
            return []
        if part != "moitié" and not _DE_FOLLOWS_RE.match(text, m.end()) and not _HEURE_FOLLOWS_RE.match(text, m.end()):
            return []  # "le tiers payant", "le quart" alone
    else:
        part = m.group("f").lower()
        count = _words_value(m.group("a")) if m.group("a") else int(m.group("ad"))
        if not count:
            return []
        if part.startswith(("cinqui", "dixi")) and not _DE_FOLLOWS_RE.match(text, m.end()):
            return []  # "le cinquième plan" is an ordinal
    # "du tiers" is "de" + "le tiers": the figure is the fraction word alone.
    start = m.start("f2") if m.group("art") and m.group("art").lower() == "du" else m.start()
    nxt = _NEXT_WORD_RE.match(text, m.end())
    if part == "tiers" and ((nxt and _norm(nxt.group("w")) in _TIERS_COMPOUNDS) or _CONFIANCE_RE.match(text, m.end())):
        return []
    if part.startswith("quart"):
        heure = _HEURE_FOLLOWS_RE.match(text, m.end())
        if heure:  # "trois quarts d'heure"
            return [_Cand(start, heure.end(), FigureKind.DURATION, 15.0 * count, "min", raw=15.0 * count)]
    value = 100.0 * count / _FRACTIONS[part]
    noun = _noun_after(text, m.end(), via_de=True, direct=False)
    return [_Cand(start, m.end(), FigureKind.PERCENT, value, "%", noun, prio=4)]


def _valid_date(year: int, month: int, day: int | None = None) -> bool:
    days = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    return 1 <= month <= 12 and (day is None or 1 <= day <= days[month - 1]) and 1000 <= year <= 2999


def _build_date_text(text: str, m: re.Match[str]) -> list[_Cand]:
    month = _MONTHS[_norm(m.group("mon")).rstrip(".")]
    day_txt, year_txt = m.group("day"), m.group("year")
    day = None
    if day_txt:
        day = 1 if not day_txt[0].isdigit() or day_txt.startswith("1e") else int(day_txt)
    if year_txt is None:
        if day is None or not _valid_date(2000, month, day):
            return []  # a month name alone is not a figure
        return [_Cand(m.start(), m.end(), FigureKind.DATE, None, None, date_iso=f"--{month:02d}-{day:02d}")]
    year = int(year_txt)
    if not _valid_date(year, month, day):
        return []
    iso = f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
    return [_Cand(m.start(), m.end(), FigureKind.DATE, float(year), None, date_iso=iso, prio=3)]


def _build_date_prefix(text: str, m: re.Match[str]) -> list[_Cand]:
    year = int(m.group("year"))
    if not _YEARS[0] <= year <= _YEARS[1]:
        return []
    return [_Cand(m.start(), m.end(), FigureKind.DATE, float(year), None, date_iso=m.group("year"), prio=3)]


def _build_date_numeric(text: str, m: re.Match[str]) -> list[_Cand]:
    g = m.groupdict()
    if g["y"]:
        y, mo, d = int(g["y"]), int(g["m"]), int(g["d"])
    elif g["y2"]:
        y, mo, d = int(g["y2"]), int(g["m2"]), int(g["d2"])
    elif g["y3"]:
        y, mo, d = 2000 + int(g["y3"]), int(g["m3"]), int(g["d3"])
    else:
        y, mo, d = int(g["y4"]), int(g["m4"]), 0
        if not _YEARS[0] <= y <= _YEARS[1]:
            return []
    if not _valid_date(y, mo, d or None):
        return []
    iso = f"{y:04d}-{mo:02d}" + (f"-{d:02d}" if d else "")
    return [_Cand(m.start(), m.end(), FigureKind.DATE, float(y), None, date_iso=iso, prio=3)]


def _build_year_pair(text: str, m: re.Match[str]) -> list[_Cand]:
    return [
        _Cand(m.start(g), m.end(g), FigureKind.DATE, float(m.group(g)), None, date_iso=m.group(g), prio=3)
        for g in ("y1", "y2")
    ]


def _build_blocker(text: str, m: re.Match[str]) -> list[_Cand]:
    return [_Cand(m.start(), m.end(), None, prio=0)]


_Builder = Callable[[str, re.Match[str]], list[_Cand]]
_Matcher = tuple[re.Pattern[str], _Builder]

# Patterns are matched only where a figure can start (digit runs and a few keywords)
# rather than scanned over the whole text: this keeps a 1 MB document well under a second.
_QUANTITY: _Matcher = (_QUANTITY_RE, _build_quantity)
_RATIO: _Matcher = (_RATIO_RE, _build_ratio)
_FRACTION: _Matcher = (_FRACTION_RE, _build_fraction)
_DATE_TEXT: _Matcher = (_DATE_TEXT_RE, _build_date_text)
_BLOCKER: _Matcher = (_BLOCKER_RE, _build_blocker)
# Tried at a digit run only when the next character is a date/phone separator.
_AT_DIGIT_PUNCT: tuple[_Matcher, ...] = (
    (_DATE_NUMERIC_RE, _build_date_numeric),
    (_YEAR_PAIR_RE, _build_year_pair),
    _BLOCKER,
)
_KEYWORD_MATCHERS: dict[str, tuple[_Matcher, ...]] = {}
for _words, _matchers in (
    (_MONTHS, (_DATE_TEXT,)),
    (("fin", "début", "debut", "courant", "mi", "premier"), (_DATE_TEXT, (_DATE_PREFIX_YEAR_RE, _build_date_prefix))),
    (("article", "articles", "art", "numéro", "numéros", *_LABELS), (_BLOCKER,)),
):
    for _w in _words:
        _KEYWORD_MATCHERS[_w] = _KEYWORD_MATCHERS.get(_w, ()) + _matchers
_FRACTION_WORDS = frozenset(("moitié", "tiers", "quart", "quarts"))


def _keyword_regex(words: list[str]) -> re.Pattern[str]:
    """Case-sensitive alternation grouped by first letter: far faster than a flat (?i:...) list."""
    forms = sorted({f for w in words for f in (w, w.capitalize())}, key=len, reverse=True)
    by_first: dict[str, list[str]] = {}
    for f in forms:
        by_first.setdefault(f[0], []).append(re.escape(f[1:]))
    alts = "|".join(f"{re.escape(c)}(?:{'|'.join(rest)})" for c, rest in by_first.items())
    return re.compile(rf"\b(?:{alts})\b")


_DIGIT_RUN_RE = re.compile(r"[0-9]+")
_KEYWORD_RE = _keyword_regex([*_KEYWORD_MATCHERS, *_NUMBER_WORDS, *_FRACTION_WORDS])
_REFERENCE_TRIGGER_RE = re.compile(r"[LRD](?=\.?[^\S\r\n]?[0-9])|[nN][°º]|https?://|www\.|@")
_EMAIL_LOCAL_RE = re.compile(r"[\w.+-]+$")
_SIGNS = "+-\u2212\u2013"
_SEP_CHARS = frozenset(" \u00a0\u202f\u2009\u2007\u2008\u200a")


# --------------------------------------------------------------------------- assembly


def _run(text: str, pos: int, matchers: tuple[_Matcher, ...], out: list[_Cand]) -> None:
    for pattern, build in matchers:
        m = pattern.match(text, pos)
        if m is not None:
            out.extend(build(text, m))


def _candidates(text: str) -> list[_Cand]:
    out: list[_Cand] = []
    prev_end, prev_len = -2, 0
    for m in _DIGIT_RUN_RE.finditer(text):
        pos, end = m.span()
        before = text[pos - 1] if pos else " "
        grouped = end - pos == 3 and prev_end == pos - 1 and prev_len <= 3 and before in _SEP_CHARS
        prev_end, prev_len = end, end - pos
        if grouped or before.isalnum() or before in "_.,/":
            continue  # "000" of "150 000", or glued to a word/decimal: no figure can start here
        matchers: tuple[_Matcher, ...] = (_QUANTITY,)
        if text[end : end + 1] in ("/", ".", "-", "\u2013") or text[pos] == "0" or before == "+":
            matchers += _AT_DIGIT_PUNCT
        if end - pos <= 2:
            matchers += (_DATE_TEXT, _FRACTION)
        if "sur" in text[end : end + 60]:
            matchers += (_RATIO,)
        if pos and before in _SIGNS:
            _run(text, pos - 1, matchers, out)
        _run(text, pos, matchers, out)
    for m in _KEYWORD_RE.finditer(text):
        word = m.group().lower()
        if word in _FRACTION_WORDS:  # "la moitié", "le quart des": the figure starts a word earlier
            for f in _FRACTION_RE.finditer(text, max(0, m.start() - 30), m.end() + 1):
                out.extend(_build_fraction(text, f))
        elif word in _NUMBER_WORDS:  # frequent ("un", "une"): try ratio/fraction only if their word is near
            window = text[m.end() : m.end() + 60]
            matchers = (_QUANTITY,)
            if "sur" in window:
                matchers += (_RATIO,)
            if any(w in window[:30] for w in ("tiers", "quart", "cinqui", "dixi", "demi")):
                matchers += (_FRACTION,)
            _run(text, m.start(), matchers + _KEYWORD_MATCHERS.get(word, ()), out)  # "sept" is a month too
        else:
            _run(text, m.start(), _KEYWORD_MATCHERS[word], out)
    for m in _REFERENCE_TRIGGER_RE.finditer(text):
        pos = m.start()
        if m.group() == "@":
            local = _EMAIL_LOCAL_RE.search(text, max(0, pos - 64), pos)
            if local is None:
                continue
            pos = local.start()
        _run(text, pos, (_BLOCKER,), out)
    return out


def _select(cands: list[_Cand]) -> list[_Cand]:
    """Earliest start first, then longest span, then priority; drop anything overlapping."""
    cands.sort(key=lambda c: (c.start, -c.end, c.prio))
    chosen: list[_Cand] = []
    last_end = -1
    for c in cands:
        if c.start >= last_end:
            chosen.append(c)
            last_end = c.end
    return [c for c in chosen if c.kind is not None]


def _join_range(text: str, lo: _Cand, hi: _Cand) -> _Cand | None:
    """Join "entre 10 et 15 %", "de 3 à 5 millions", "10 à 15 jours", "10-15 %" into one figure."""
    gap = _RANGE_GAP_RE.fullmatch(text, lo.end, hi.start)
    if gap is None or hi.kind in (None, FigureKind.DATE) or hi.value is None or lo.value is None:
        return None
    pre = _RANGE_PRE_RE.search(text, max(0, lo.start - 12), lo.start)
    pre_word = _norm(pre.group("pre").strip()) if pre else None
    if gap.group("sep") == "et" and pre_word != "entre":
        return None
    if lo.bare and lo.raw is not None:  # "10" in "10 à 15 %": inherits the upper bound's unit and scale
        if pre is None and hi.kind is FigureKind.COUNT and hi.noun is None and hi.factor == 1.0:
            return None  # "10-15" with nothing around it is too ambiguous
        low = lo.raw * hi.factor if lo.raw <= (hi.raw if hi.raw is not None else hi.value) else lo.raw
    elif lo.kind is hi.kind and lo.unit == hi.unit and lo.kind is not FigureKind.DATE:
        low = lo.value
    else:
        return None
    if low > hi.value:
        return None  # "de 15 % à 10 %" is an evolution, not a range
    start = pre.start("pre") if pre else lo.start
    return _Cand(start, hi.end, hi.kind, low, hi.unit, hi.noun, lo.signed or hi.signed, raw=lo.raw,
                 factor=hi.factor)  # fmt: skip


def _to_figure(text: str, c: _Cand, high: float | None = None) -> Figure:
    assert c.kind is not None
    return Figure(text[c.start : c.end], c.start, c.end, c.value, c.kind, c.unit, c.noun, high, c.signed, c.date_iso)


def extract_figures(text: str) -> list[Figure]:
    """All figures of ``text`` in order, non-overlapping, with offsets into ``text``."""
    chosen = _select(_candidates(text))
    figures: list[Figure] = []
    i = 0
    while i < len(chosen):
        cur = chosen[i]
        if i + 1 < len(chosen):
            nxt = chosen[i + 1]
            joined = _join_range(text, cur, nxt)
            if joined is not None:
                figures.append(_to_figure(text, joined, high=nxt.value))
                i += 2
                continue
        if not cur.needs_range:
            figures.append(_to_figure(text, cur))
        i += 1
    return figures


def parse_figure(text: str) -> Figure | None:
    """Parse a string holding one figure expression; the first figure found, or None if there is none.

    Surrounding words are tolerated ("près de 150 000 professionnels" -> "150 000", unit
    "professionnels"), so callers can pass a quoted answer as is.
    """
    figures = extract_figures(text)
    return figures[0] if figures else None
