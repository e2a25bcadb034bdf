"""What the corpus covers, for the chat's start page and its « Bulletins » page.

* :func:`corpus_overview` — number of bulletins, period, topics (from the titles) and 4–6 example
  questions built from the corpus itself: a counted figure (« 3 050 établissements alimentaient le
  DMP … ») becomes « Combien d'établissements alimentaient le DMP … ? », a share (« 34,2 % des
  personnes âgées … ont réalisé … ») « Quelle part des personnes âgées … ? ». Each example is asked
  and kept only if the assistant answers it with that same figure, so an example never leads to an
  abstention. The result is cached per store stamp (any write to the store builds it again).
* :func:`bulletin_summaries` — every bulletin with title, date, source, pages, key figures (each
  with its clause) and full text; :func:`filter_summaries` searches them (case- and
  accent-insensitive).

No UI code here: the Streamlit pages only lay these out.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from .figures import Figure, FigureKind, extract_figures
from .lexical import STOPWORDS, fold
from .reading.listing import clause, is_key_figure
from .reading.signals import MONTHS_FR

if TYPE_CHECKING:  # pragma: no cover
    from .core import Assistant
    from .models import Bulletin

__all__ = [
    "BulletinSummary",
    "Example",
    "KeyFigure",
    "Overview",
    "bulletin_summaries",
    "clear_cache",
    "corpus_overview",
    "filter_summaries",
    "month_label",
    "period_label",
]

log = logging.getLogger(__name__)

MAX_EXAMPLES = 6
MAX_TOPICS = 8
KEY_FIGURES = 4
_CANDIDATES_PER_BULLETIN = 3


@dataclass(frozen=True, slots=True)
class Example:
    """A question that the assistant answers with ``figure`` (checked when the overview is built)."""

    question: str
    figure: str
    bulletin_id: str
    title: str
    date: date | None


@dataclass(frozen=True, slots=True)
class Overview:
    bulletins: int
    date_min: date | None
    date_max: date | None
    period: str  # « janvier 2025 – mars 2026 », or « période inconnue »
    topics: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KeyFigure:
    figure: str  # as written, e.g. « 3 050 »
    clause: str  # the clause holding it, plain text


@dataclass(frozen=True, slots=True)
class BulletinSummary:
    id: str
    title: str
    date: date | None
    source: str | None
    url: str | None
    pages: int | None  # paged formats (PDF) only
    key_figures: list[KeyFigure]
    text: str


# --------------------------------------------------------------------------- labels


def month_label(d: date | None) -> str:
    return f"{MONTHS_FR[d.month - 1]} {d.year}" if d else "date inconnue"


def period_label(lo: date | None, hi: date | None) -> str:
    """« janvier 2025 – mars 2026 »; one month when both fall in it."""
    if lo is None and hi is None:
        return "période inconnue"
    lo, hi = lo or hi, hi or lo
    a, b = month_label(lo), month_label(hi)
    return a if a == b else f"{a} – {b}"


# --------------------------------------------------------------------------- cache

_LOCK = threading.Lock()
_CACHE: OrderedDict[tuple[str, str], Any] = OrderedDict()
_CACHE_SIZE = 8


class _Incomplete(Exception):
    """A build that met a failure (an example question that raised): shown once, not cached."""

    def __init__(self, value: Any) -> None:
        super().__init__("incomplete build")
        self.value = value


def _cached(kind: str, assistant: Assistant, build: Any) -> Any:
    """``build()`` once per store stamp (the stamp changes on every write to the store).

    Not kept when the store changed during the build (an upload or re-index in another session: the
    questions were asked of a half-written store) or when the build says it is incomplete.
    """
    stamp = f"{id(assistant.store)}:{assistant.store.stamp}"
    key = (kind, stamp)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    try:
        value = build()
    except _Incomplete as partial:
        return partial.value
    if f"{id(assistant.store)}:{assistant.store.stamp}" != stamp:
        return value
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()


# --------------------------------------------------------------------------- overview


def corpus_overview(assistant: Assistant, *, max_examples: int = MAX_EXAMPLES) -> Overview:
    """Count, period, topics and verified example questions of the indexed bulletins (cached per stamp)."""
    return _cached(f"overview-{max_examples}", assistant, lambda: _build_overview(assistant, max_examples))


def _build_overview(assistant: Assistant, max_examples: int) -> Overview:
    records = assistant.store.records()
    dates = [r.date for r in records.values() if r.date is not None]
    lo, hi = (min(dates), max(dates)) if dates else (None, None)
    topics = title_topics([r.title for r in records.values()])
    newest_first = sorted(records.values(), key=lambda r: (r.date or date.min, r.id), reverse=True)
    examples: list[Example] = []
    seen: set[str] = set()
    failed = False
    for rec in newest_first:
        if len(examples) >= max_examples:
            break
        bulletin = assistant.bulletin(rec.id)
        if bulletin is None:
            continue
        for question, fig in example_candidates(bulletin.text)[:_CANDIDATES_PER_BULLETIN]:
            if fold(question) in seen:
                continue
            answered = _answered_with(assistant, question, fig)
            failed = failed or answered is None
            if answered:
                seen.add(fold(question))
                examples.append(Example(question, fig.text, rec.id, rec.title, rec.date))
                break
    overview = Overview(len(records), lo, hi, period_label(lo, hi), topics, examples)
    if failed:
        raise _Incomplete(overview)
    return overview


def _answered_with(assistant: Assistant, question: str, fig: Figure) -> bool | None:
    """Whether ``question`` is answered with ``fig``; None if asking it failed (the overview is then not cached)."""
    try:
        answer = assistant.ask(question)
    except Exception as exc:  # an example that cannot be asked is just not shown
        log.warning("example question %r could not be asked: %s", question, exc)
        return None
    if answer.abstained or not answer.figures or fig.value is None:
        return False
    got = answer.figures[0].value
    return got is not None and abs(got - fig.value) <= 1e-6 * max(1.0, abs(fig.value))


# --------------------------------------------------------------------------- topics

_TOPIC_SKIP_WORDS = (
    "million millions milliard milliards millier milliers plus moins désormais encore pris charge "
    "après avant chiffres clés selon publié bulletin lettre hausse baisse ans mois année années "
    "reste loin mais toujours dotée dotés ont été sont leur leurs près objectif"
)
_TOPIC_SKIP = frozenset(fold(w) for w in _TOPIC_SKIP_WORDS.split())
_WORD = re.compile(r"[^\W\d_][\w’'-]*", re.UNICODE)


def title_topics(titles: list[str], limit: int = MAX_TOPICS) -> list[str]:
    """A handful of topics: the heads of « Topic : headline » titles, then content words found in several titles."""
    heads: list[str] = []
    keys: set[str] = set()
    for title in titles:
        head, sep, _ = title.partition(" : ")
        head = head.strip(" #*")
        if sep and 1 <= len(head.split()) <= 5 and fold(head) not in keys:
            keys.add(fold(head))
            heads.append(head)
    counts: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for title in titles:
        for w in {m.group(0).strip("’'-") for m in _WORD.finditer(title)}:
            k = fold(w)
            if len(k) < 3 or k in STOPWORDS or k in _TOPIC_SKIP:
                continue
            counts[k] += 1
            spelling.setdefault(k, w if w.isupper() else w.lower())
    words = [
        spelling[k] for k, n in counts.most_common() if n >= 2 and not any(k in h.split() for h in map(fold, heads))
    ]
    # Heads that share a word with a frequent word come first: they are what the corpus is mostly about.
    heads.sort(key=lambda h: -max((counts[fold(w)] for w in h.split()), default=0))
    return (heads + words)[:limit]


# --------------------------------------------------------------------------- example questions

_CLAUSE_END = re.compile(r"[,;:()\[\]!?\n|]|\.(?!\d)|\s[-–—]\s|\s(?:et|dont|soit|contre|mais|selon|alors|tandis)\s")
_ELISION = re.compile(r"^(?:de\s+|d['’]\s*)", re.IGNORECASE)
_PART_OF = re.compile(r"\s*(des|du|de la|de l['’]|de|d['’])\s*", re.IGNORECASE)
_VOWEL = tuple("aeiouyhâàéèêîïôûAEIOUYHÉÈÊÂÎÔÛ")
_QUOTES = str.maketrans({"«": "", "»": "", "“": "", "”": "", '"': "", "*": "", "_": " "})


_DANGLING_WORDS = (
    "à au aux de des du d’ en par pour sur dans chez avec sans que qui dont le la les l’ un une leur leurs son sa ses "
    "cette ce ces chaque quelque"
)
#: A tail starting with these lacks its verb or its antecedent (« … par an », « … de leurs charges »).
_DANGLING = frozenset(_DANGLING_WORDS.split())


def _tail(text: str, pos: int, max_words: int = 12) -> str | None:
    """Words from ``pos`` to the end of the clause, quotes dropped; None if unusable (cut, dangling, other figure)."""
    rest = text[pos : pos + 300]
    m = _CLAUSE_END.search(rest)
    clause = (rest[: m.start()] if m else rest).translate(_QUOTES)
    if re.search(r"[<>{}=/\\`#@]", clause):
        return None  # markup or code, not prose (a hostile or badly converted bulletin)
    words = clause.replace("'", "’").split()
    tail = " ".join(words).strip(" ’")
    other = any(f.kind in (FigureKind.COUNT, FigureKind.PERCENT, FigureKind.MONEY) for f in extract_figures(tail))
    if not 2 <= len(words) <= max_words or other or "%" in tail:
        return None
    first = words[0].lower()
    if first in _DANGLING or first.startswith(("l’", "d’", "qu’")) or words[-1].lower() in _DANGLING:
        return None
    return tail


def _count_question(text: str, f: Figure) -> str | None:
    if not f.noun:
        return None
    window = text[f.end : f.end + 40]
    m = re.search(rf"\b{re.escape(f.noun)}\b", window)
    if m is None:
        return None
    raw = " ".join(window[: m.end()].split())
    phrase = _ELISION.sub("", raw)
    if not phrase or re.search(r"\d", phrase):
        return None
    if phrase == raw and f.noun.endswith(("é", "és", "ée", "ées")):
        return None  # « 640 000 commandés en ligne »: a participle, not a counted noun
    tail = _tail(text, f.end + m.end())
    if tail is None:
        return None
    article = "d’" if phrase.startswith(_VOWEL) else "de "
    return f"Combien {article}{phrase} {tail} ?"


def _share_question(text: str, f: Figure) -> str | None:
    if "%" not in f.text:
        return None
    m = _PART_OF.match(text, f.end)
    if m is None:
        return None
    tail = _tail(text, m.end())
    if tail is None or len(tail.split()) < 4:
        return None
    det = m.group(1).lower().replace("'", "’")
    sep = "" if det.endswith("’") else " "
    return f"Quelle part {det}{sep}{tail} ?"


def example_candidates(text: str) -> list[tuple[str, Figure]]:
    """Questions built from the bulletin's own sentences, one per figure, in text order (not yet verified)."""
    out: list[tuple[str, Figure]] = []
    for f in extract_figures(text):
        line_start = text.rfind("\n", 0, f.start) + 1
        if text[line_start : f.start].lstrip().startswith(("|", "#", ">")):
            continue  # tables, headings, notes: no sentence to reuse
        if f.kind == FigureKind.COUNT:
            q = _count_question(text, f)
        elif f.kind == FigureKind.PERCENT:
            q = _share_question(text, f)
        else:
            q = None
        if q and all(q != o for o, _ in out):
            out.append((q, f))
    # A tail that starts with a verb (« ont activé … », « sont vacants ») reads as a real question: those first.
    return sorted(out, key=lambda qf: not _verbish(qf[0]))


_VERB_START = re.compile(
    r"^(?:Combien d[e’]\s?|Quelle part (?:des|du|de la|de l’|de|d’)\s?)\S+(?:\s\S+){0,3}?\s"
    r"(?:ont|sont|a|est|se|s’\S+|\S+(?:aient|ait|ent|és|ées))\b"
)


def _verbish(question: str) -> bool:
    return bool(_VERB_START.match(question))


# --------------------------------------------------------------------------- bulletins page

def key_figures(text: str, limit: int = KEY_FIGURES) -> list[KeyFigure]:
    """The first few figures of a bulletin (counts, shares, amounts, durations) with their clause; repeats skipped."""
    out: list[KeyFigure] = []
    seen: set[str] = set()
    for f in extract_figures(text):
        if not is_key_figure(f):
            continue
        k = " ".join(fold(f.text).split())
        if k in seen:
            continue
        seen.add(k)
        out.append(KeyFigure(" ".join(f.text.split()), clause(text, f)))
        if len(out) >= limit:
            break
    return out


def _summary(b: Bulletin) -> BulletinSummary:
    return BulletinSummary(
        id=b.id,
        title=b.title,
        date=b.date,
        source=b.source,
        url=b.url,
        pages=b.pages or None,
        key_figures=key_figures(b.text),
        text=b.text,
    )


def bulletin_summaries(assistant: Assistant) -> list[BulletinSummary]:
    """Every indexed bulletin, newest first (cached per store stamp)."""

    def build() -> list[BulletinSummary]:
        records = assistant.store.records()
        order = sorted(records.values(), key=lambda r: (r.date or date.min, r.id), reverse=True)
        out = []
        for rec in order:
            b = assistant.bulletin(rec.id)
            if b is not None:
                out.append(_summary(b))
        return out

    return list(_cached("summaries", assistant, build))


def filter_summaries(summaries: list[BulletinSummary], query: str) -> list[BulletinSummary]:
    """Bulletins whose title, source, date or text hold every word of ``query`` (case and accents ignored)."""
    terms = fold(query).split()
    if not terms:
        return list(summaries)
    out = []
    for s in summaries:
        hay = fold(
            " ".join([s.title, s.id, s.source or "", s.url or "", month_label(s.date) if s.date else "", s.text])
        )
        hay = hay.replace("’", "'")
        if all(t.replace("’", "'") in hay for t in terms):
            out.append(s)
    return out
