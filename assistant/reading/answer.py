"""From a chosen candidate to the public answer: quote, citation, figure, « as of » date, wording."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from ..chunking import sentence_spans
from ..figures import Figure, FigureKind, extract_figures
from ..lexical import fold, tokenize
from ..models import AsOf, Citation, FigureOut, Passage
from ..questions import QuestionSpec
from .features import Candidate
from .signals import MONTHS_FR

K = FigureKind

ABSTAIN_TEXT = "Je ne trouve pas ce chiffre dans les bulletins."

_MAX_QUOTE = 420


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


def lead(as_of: AsOf, target: bool) -> str:
    label = as_of.label
    if target:
        return f"Objectif pour {label}"
    if label[:1].isdigit() and len(as_of.date or "") >= 10:
        return f"Au {label}"
    if label.lower().startswith(("fin", "début", "debut", "mi-")):
        return label[0].upper() + label[1:]
    return f"En {label}"


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
        out.append(passage_citation(p, i, s0, s1))
    return out


def passage_citation(p: Passage, n: int, start: int, end: int) -> Citation:
    """Citation [n] quoting ``p.text[start:end]`` (offsets within the passage), located in its bulletin."""
    return Citation(
        id=n,
        source=p.bulletin_id,
        title=p.title,
        date=p.date.isoformat() if p.date else None,
        chunk_id=p.chunk_id,
        quote=p.text[start:end],
        start=p.start + start,
        end=p.start + end,
    )


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


def same_period(a: str | None, b: str | None) -> bool:
    """'2024' and '2024-12-31' name the same period at different precisions."""
    return a is not None and b is not None and (a.startswith(b) or b.startswith(a))


# --------------------------------------------------------------------------
# Wording: the answer sentence a colleague would write
# --------------------------------------------------------------------------

#: A title longer than this is a whole sentence (a bulletin without a title line): a short
#: heading made from the file name is shown instead.
MAX_TITLE_CHARS = 80
#: A clause longer than this is no « short answer sentence »: the plain wording is used instead.
MAX_CLAUSE_CHARS = 220

_ACCENTS = {
    "sante": "santé",
    "telesante": "télésanté",
    "segur": "Ségur",
    "numerique": "numérique",
    "depistage": "dépistage",
    "cles": "clés",
    "teleconsultations": "téléconsultations",
    "teleconsultation": "téléconsultation",
    "donnees": "données",
    "medical": "médical",
    "medicale": "médicale",
    "hopital": "hôpital",
    "hopitaux": "hôpitaux",
    "etablissements": "établissements",
    "ete": "été",
    "epidemie": "épidémie",
}


def bulletin_heading(title: str | None, bulletin_id: str) -> str:
    """The bulletin's title, or, when it has none or it is a whole sentence, a short heading from its
    file name (« bulletin mon espace santé 2026-01 »); never a path."""
    title = " ".join((title or "").split())
    if title and len(title) <= MAX_TITLE_CHARS:
        return title
    stem = re.split(r"[\\/]", bulletin_id)[-1]
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", stem)
    words = [w for w in re.split(r"[_\s]+|(?<=\D)-|-(?=\D)", stem) if w]
    return " ".join(_ACCENTS.get(w.lower(), w) for w in words) or "bulletin"


def source_heading(title: str, bulletin_id: str, limit: int = 120) -> str:
    """A bulletin's title as a heading. A title that is a whole sentence (the bulletin has no title line and
    its first sentence stood in) becomes a short heading from the file name: « Bulletin mon espace santé 2026-01 »."""
    title = " ".join(title.split())
    if title and len(title) <= limit and not title.endswith((".", "!", "?")):
        return title
    heading = bulletin_heading(None, bulletin_id)
    return heading[:1].upper() + heading[1:]


def as_of_words(as_of: AsOf | None, target: bool) -> str | None:
    """« au 29 janvier 2026 », « en 2025 », « fin 2024 », « objectif pour fin 2027 »: for the parentheses."""
    if as_of is None:
        return None
    words = lead(as_of, target and as_of.origin == "sentence")
    if target and as_of.origin != "sentence":
        words = lead(as_of, False)
    return words[0].lower() + words[1:]


# A clause boundary: a comma, semicolon or colon followed by a space (not the decimal comma of
# « 2,5 »), a dash between spaces, or a parenthesis around the figure.
_SEPARATOR = re.compile(r"[,;:]\s|\s[—–]\s")
_LEADING_LINK = re.compile(
    r"^(?:et|mais|or|car|donc|puis|soit|dont|tandis que|alors que|même si|si|ainsi|enfin|surtout|"
    r"en outre|par ailleurs|de plus)\s+",
    re.IGNORECASE,
)
_MARKUP = re.compile(r"^[\s#>*\-–—•|]+")
_TRAILING = " \t\n.;:,!?…"


def _clause_bounds(sent: str, start: int, end: int) -> tuple[int, int]:
    """Sentence offsets of the clause holding ``sent[start:end]``: from the previous separator (or
    unclosed parenthesis, or the sentence start) to the next one (or the sentence end)."""
    lo, depth, i = 0, 0, start - 1
    while i >= 0:
        ch = sent[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                lo = i + 1
                break
            depth -= 1
        elif depth == 0 and (m := _SEPARATOR.match(sent, i)) and m.end() <= start:
            lo = m.end()
            break
        i -= 1
    hi, depth, i = len(sent), 0, end
    while i < len(sent):
        ch = sent[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                hi = i
                break
            depth -= 1
        elif depth == 0 and _SEPARATOR.match(sent, i):
            hi = i
            break
        i += 1
    return lo, hi


# Clause starts that depend on what precedes them: the clause alone would not be a sentence.
_DEPENDENT = re.compile(
    r"(?:ce qui|ce que|qui|que|qu'|avec|contre|pour|dote|a donne|a|ont|une hausse|un gain|en hausse|en baisse"
    r"|en recul|soit|dont)\b"
)
# After the clause: an incise (« , dont 38 000 médecins, consultent… ») whose verb comes later.
_INCISE = re.compile(r"[,;]\s+dont\b")


def clean_clause(text: str) -> str:
    """Markup, a leading link word (« Surtout, », « tandis que ») and end punctuation off."""
    clause = text.replace("**", "").replace("__", "")
    for _ in range(3):
        stripped = _LEADING_LINK.sub("", _MARKUP.sub("", clause))
        if stripped == clause:
            break
        clause = stripped
    return clause.rstrip(_TRAILING).strip()


def figure_clause(c: Candidate) -> str | None:
    """The clause of the source sentence stating the figure, verbatim, first letter capitalised
    (« 24 millions d’assurés ont activé «Mon Espace Santé» »); None when no clean clause can be cut
    (a table row, a clause that is only the figure, a very long one)."""
    sent = c.sentence
    if c.column or sent.lstrip().startswith("|"):
        return None
    start, end = c.figure.start - c.sent_start, c.figure.end - c.sent_start
    if not (0 <= start < end <= len(sent)):
        return None
    lo, hi = _clause_bounds(sent, start, end)
    incise = False  # an incise « , dont … , » was just taken: its verb comes after it
    for _ in range(3):  # a dependent or verbless piece (« contre 11 jours », « dont 38 000 ») takes its neighbours
        clause = clean_clause(sent[lo:hi])
        head = fold(sent[lo:hi].lstrip(" (—–")).replace("’", "'")
        rest = clause.replace(c.figure.text, " ", 1)
        back = bool(_DEPENDENT.match(head)) or len(re.findall(r"[^\W\d_]{2,}", rest)) < 3
        fwd = incise or bool(_INCISE.match(fold(sent[hi:]))) or len(re.findall(r"[^\W\d_]{2,}", rest)) < 3
        if not (back and lo > 0) and not (fwd and hi < len(sent)):
            break
        s0, e0 = lo, hi
        incise = bool(_INCISE.match(fold(sent[hi:])))
        if back and lo > 0:
            s0 = lo - 1
            while s0 > 0 and sent[s0] in " \u00a0\u202f":
                s0 -= 1
        if fwd and hi < len(sent):
            e0 = hi + 1
        lo2, hi2 = _clause_bounds(sent, s0, e0)
        lo, hi = min(lo, lo2), max(hi, hi2) if fwd else hi
    clause = clean_clause(sent[lo:hi])
    if c.figure.text not in clause or len(clause) > MAX_CLAUSE_CHARS:
        return None
    if _DEPENDENT.match(fold(clause).replace("’", "'")):
        return None
    rest = clause.replace(c.figure.text, " ", 1)
    if len(re.findall(r"[^\W\d_]{2,}", rest)) < 3:  # the figure alone, or nearly: no sentence
        return None
    if clause.count("«") != clause.count("»") or clause.count("(") != clause.count(")"):
        return None
    return clause[0].upper() + clause[1:]


def table_clause(c: Candidate, as_of: AsOf | None) -> str | None:
    """A table cell as a colleague writes it: « Cabines et bornes installées : 2 100 (fin 2024) »."""
    if not c.sentence.lstrip().startswith("|"):
        return None
    cells = [cell.strip() for cell in c.sentence.strip().strip("|").split("|")]
    label = next((cell for cell in cells if cell and c.figure.text not in cell), "")
    label = _MARKUP.sub("", label).strip(" *_")
    if not label or not any(ch.isalpha() for ch in label):
        return None
    when = (c.column or "").strip(" *_") or (as_of.label if as_of else "")
    when = when[:1].lower() + when[1:] if when[:1].isalpha() and not when[1:2].isupper() else when
    return f"{label[0].upper()}{label[1:]} : {c.figure.text}" + (f" ({when})" if when else "")


def answer_sentence(c: Candidate, as_of: AsOf | None, target: bool, marker: int = 1) -> str:
    """The answer as a colleague would write it, with its [n] marker and no file path:
    « 24 millions d’assurés ont activé «Mon Espace Santé» (au 29 janvier 2026) [1]. »"""
    table = table_clause(c, as_of)
    if table:
        return f"{table} [{marker}]."
    when = as_of_words(as_of, target)
    clause = figure_clause(c)
    if clause:
        said = fold(clause)
        if when and (as_of is None or fold(as_of.label) not in said):
            clause += f" ({when})"
        return f"{clause} [{marker}]."
    where = f"selon « {bulletin_heading(c.passage.title, c.passage.bulletin_id)} »"
    head = f"{when[0].upper()}{when[1:]}, {where}" if when else where[0].upper() + where[1:]
    return f"{head} : {figure_phrase(c)} [{marker}]."
