"""Pure helpers that turn :class:`~assistant.models.Answer` objects into safe display text.

The Streamlit chat (``ui/app.py``) only lays things out; everything that decides
*what* is shown lives here so that it is unit-tested without a browser.

Security rule: every string that comes from a bulletin (titles, quotes, answer
sentences, file names) goes through :func:`escape_markdown` before it reaches
``st.markdown`` or any other Markdown-rendering element. Escaping *every* ASCII
punctuation character with a backslash is what CommonMark guarantees to render
literally, so no HTML tag, link, image, autolink, LaTeX formula or Streamlit
directive (``:red[...]``) can be produced by corpus text.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import AssistantError
from .models import Answer, BulletinFailure, BulletinInfo, Citation, Filters, IngestReport, StoreStats
from .reading.answer import source_heading
from .reading.signals import MONTHS_FR, table_start

# --------------------------------------------------------------------------
# Markdown escaping
# --------------------------------------------------------------------------

_PUNCT_RE = re.compile("([" + re.escape(string.punctuation) + "])")
_UNESCAPE_RE = re.compile(r"\\([" + re.escape(string.punctuation) + "])")
# Line breaks and control characters (not NBSP / narrow NBSP, which French figures use: "150 000").
_BREAKS_RE = re.compile("[\t\n\v\f\r \x00-\x1f\x7f\x85\u2028\u2029]+")

HighlightStyle = Literal["figure", "quote", "bold"]


#: Invisible, zero-width: breaks GFM "literal autolinks" (``http://``, ``www.``, ``a@b.c``), which
#: Streamlit's renderer finds in plain text nodes *after* backslash escapes have been decoded.
WORD_JOINER = "\u2060"
_AUTOLINK_RE = re.compile(r"(?<=:)(?=//)|(?<=@)|(?<=www)(?=\.)", re.IGNORECASE)


def escape_markdown(text: str) -> str:
    """Return ``text`` as one line of Markdown that Streamlit displays literally.

    Every ASCII punctuation character is backslash-escaped (CommonMark renders
    any escaped punctuation as itself), so no HTML, link, image, LaTeX or
    ``:directive[...]`` can form. Escapes do not stop GFM literal autolinks
    (matched on the decoded text), so a word joiner is slipped into ``://``,
    after ``@`` and into ``www.``. Line breaks / control characters become
    single spaces so the result can sit inside a blockquote, a list item or a
    ``:color-background[...]`` label. Leading/trailing spaces are kept so that
    segments concatenate.
    """
    return _PUNCT_RE.sub(r"\\\1", _AUTOLINK_RE.sub(WORD_JOINER, _BREAKS_RE.sub(" ", text)))


def unescape_markdown(markdown: str) -> str:
    """The text a reader sees for :func:`escape_markdown` output (for tests and plain-text checks)."""
    return _UNESCAPE_RE.sub(r"\1", markdown).replace(WORD_JOINER, "")


def plain_markdown(text: str) -> str:
    """Escaped, stripped single line: safe as a whole Markdown body."""
    return escape_markdown(text).strip()


def shorten(text: str, limit: int = 600) -> str:
    """Cut very long user input for display (a 100 000-char paste must not flood the page)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + f"… ({len(text)} caractères)"


# --------------------------------------------------------------------------
# Highlighting
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of text, either plain or to be highlighted."""

    text: str
    highlighted: bool = False


def _needle_pattern(needle: str) -> str:
    # Any whitespace (incl. NBSP) inside a figure matches any whitespace: "150 000" vs "150\u202f000".
    parts = [re.escape(p) for p in needle.split()]
    body = r"\s+".join(parts)
    before = r"(?<![\w,.])" if needle[:1].isalnum() else ""
    after = r"(?![\w])" if needle[-1:].isalnum() else ""
    return before + body + after


def highlight_spans(text: str, needles: Iterable[str]) -> list[tuple[int, int]]:
    """Sorted, merged ``(start, end)`` spans where any of ``needles`` occurs as a whole figure.

    Whole-figure matching avoids lighting up "24 millions" inside "124 millions".
    """
    spans: list[tuple[int, int]] = []
    for needle in {n.strip() for n in needles if n and n.strip()}:
        spans.extend(m.span() for m in re.finditer(_needle_pattern(needle), text, flags=re.IGNORECASE))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def split_segments(text: str, spans: Sequence[tuple[int, int]]) -> list[Segment]:
    """Cut ``text`` into plain/highlighted segments along sorted, non-overlapping ``spans``."""
    out: list[Segment] = []
    pos = 0
    for start, end in spans:
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], True))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


def highlight_segments(text: str, needles: Iterable[str]) -> list[Segment]:
    """Split ``text`` into segments, highlighting every occurrence of the figure texts ``needles``."""
    return split_segments(text, highlight_spans(text, needles))


def _wrap(markdown: str, style: HighlightStyle) -> str:
    """Highlight an already-escaped, non-blank run; spaces stay outside the markers so ``**`` still applies."""
    core = markdown.strip()
    if not core:
        return markdown
    lead = markdown[: len(markdown) - len(markdown.lstrip())]
    trail = markdown[len(markdown.rstrip()) :]
    if style == "figure":
        core = f":yellow-background[**{core}**]"
    elif style == "quote":
        core = f":blue-background[{core}]"
    else:
        core = f"**{core}**"
    return lead + core + trail


def segments_markdown(segments: Iterable[Segment], style: HighlightStyle = "figure") -> str:
    """Escaped Markdown for ``segments``; highlighted ones get ``style``."""
    return "".join(
        _wrap(escape_markdown(s.text), style) if s.highlighted else escape_markdown(s.text) for s in segments
    )


def highlight_markdown(text: str, needles: Iterable[str], style: HighlightStyle = "figure") -> str:
    """``text`` as safe Markdown with each figure in ``needles`` highlighted."""
    return segments_markdown(highlight_segments(text, needles), style).strip()


# --------------------------------------------------------------------------
# Surrounding paragraph
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Excerpt:
    """A paragraph of a bulletin with the cited span at ``text[start:end]``."""

    text: str
    start: int
    end: int
    cut_before: bool = False
    cut_after: bool = False
    #: When the cited span is a table row: the table's column headers (to read the row as prose).
    header: tuple[str, ...] = ()


def surrounding_paragraph(text: str, start: int, end: int, *, max_chars: int = 1500) -> Excerpt:
    """The paragraph(s) of ``text`` containing ``[start, end)``, so staff can check the context.

    Paragraphs are separated by line breaks (bulletins use both single and blank
    lines). A huge paragraph is cut around the quote at word boundaries, keeping
    at most about ``max_chars`` characters.
    """
    n = len(text)
    start = min(max(start, 0), n)
    end = min(max(end, start), n)
    p_start = text.rfind("\n", 0, start) + 1
    p_end = text.find("\n", end)
    if p_end == -1:
        p_end = n
    cut_before = cut_after = False
    budget = max(max_chars - (end - start), 0)
    if p_end - p_start > max_chars:
        left = budget // 2
        right = budget - left
        if start - p_start > left:
            cut = start - left
            space = text.find(" ", cut, start)
            p_start = space + 1 if space != -1 else cut
            cut_before = True
        if p_end - end > right:
            cut = end + right
            space = text.rfind(" ", end, cut)
            p_end = space if space != -1 else cut
            cut_after = True
    # Trim surrounding whitespace without losing the quote offsets.
    while p_start < start and text[p_start].isspace():
        p_start += 1
    while p_end > end and text[p_end - 1].isspace():
        p_end -= 1
    return Excerpt(text[p_start:p_end], start - p_start, end - p_start, cut_before, cut_after)


def excerpt_markdown(excerpt: Excerpt, figures: Iterable[str] = ()) -> str:
    """The paragraph as safe Markdown: the cited passage on a blue background, its figures in orange bold."""
    t = excerpt.text
    quote = t[excerpt.start : excerpt.end]
    parts = [escape_markdown(t[: excerpt.start])]
    for seg in highlight_segments(quote, figures):
        parts.append(_wrap(escape_markdown(seg.text), "figure" if seg.highlighted else "quote"))
    parts.append(escape_markdown(t[excerpt.end :]))
    body = "".join(parts).strip()
    if excerpt.cut_before:
        body = "… " + body
    if excerpt.cut_after:
        body += " …"
    return body


# --------------------------------------------------------------------------
# Answers and citations
# --------------------------------------------------------------------------

_KIND_LABELS = {
    "count": "nombre",
    "percent": "pourcentage",
    "money": "montant",
    "date": "date",
    "duration": "durée",
    "other": "valeur",
}


def format_date_fr(value: str | date | None) -> str:
    """'2026-01-29' -> '29 janvier 2026' (staff read French dates); unknown -> 'date inconnue'."""
    if value is None or value == "":
        return "date inconnue"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS_FR[value.month - 1]} {value.year}"


def local_datetime(value: str, zone: str | tzinfo | None = None) -> datetime:
    """A stored timestamp (UTC when naive) in ``zone`` (an IANA name such as the browser's), else server local time."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    tz: tzinfo | None
    if isinstance(zone, str):
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
    else:
        tz = zone
    return moment.astimezone(tz)


def format_datetime_fr(value: str | None, zone: str | tzinfo | None = None) -> str:
    """ISO timestamp -> '29 novembre 2026 à 06:14' in ``zone`` (the browser's): staff read their own clock."""
    if not value:
        return "jamais"
    try:
        moment = local_datetime(value, zone)
    except ValueError:
        return value
    return f"{format_date_fr(moment.date())} à {moment:%H:%M}"


def figure_texts(answer: Answer, citation_id: int | None = None) -> list[str]:
    """The verbatim figure texts of the answer (optionally only those backed by one citation)."""
    return [f.text for f in answer.figures if citation_id is None or f.citation == citation_id]


@dataclass(frozen=True, slots=True)
class FigureCard:
    """What ``st.metric`` shows (plus an optional caption under it): every field is already escaped Markdown."""

    label: str
    value: str
    caption: str | None = None


_OPERATION_LABELS = {
    "difference": "écart",
    "growth": "évolution",
    "ratio": "rapport",
    "share": "part",
    "excluding": "hors exclusion",
}

_AS_OF_PREFIXED_RE = re.compile(r"^(au|aux|en|à|le|depuis|d['’]ici|avant|après)\b", re.IGNORECASE)
_AS_OF_DAY_RE = re.compile(r"^(1er|\d{1,2})\s")
_AS_OF_BOUND_RE = re.compile(r"^(fin|début|mi)\b", re.IGNORECASE)


def as_of_text(answer: Answer) -> str | None:
    """When the stated figure holds, as plain French: 'au 31 décembre 2024', 'à fin 2024', 'en mars 2025'.

    A date taken from the bulletin itself (no period next to the figure) says so:
    'au 29 janvier 2026 (date du bulletin)'.
    """
    as_of = answer.as_of
    if as_of is None:
        return None
    label = " ".join(as_of.label.split()) or (format_date_fr(as_of.date) if as_of.date else "")
    if not label:
        return None
    if _AS_OF_PREFIXED_RE.match(label):
        text = label
    elif _AS_OF_DAY_RE.match(label):
        text = f"au {label}"
    elif _AS_OF_BOUND_RE.match(label):
        text = f"à {label}"
    else:
        text = f"en {label}"
    if as_of.origin == "bulletin":
        text += " (date du bulletin)"
    return text


def _sources_label(ids: Iterable[int]) -> str:
    unique = list(dict.fromkeys(ids))
    refs = ", ".join(f"[{i}]" for i in unique)
    return f"source {refs}" if len(unique) == 1 else f"sources {refs}"


def _computation_card(answer: Answer) -> FigureCard | None:
    comp = answer.computation
    if comp is None:
        return None
    parts = [_OPERATION_LABELS.get(comp.operation, "calcul")]
    if comp.unit and comp.unit != "%":
        parts.append(comp.unit)
    parts.append(_sources_label(o.citation for o in comp.operands))
    when = as_of_text(answer)
    return FigureCard(
        label=plain_markdown(" · ".join(parts)),
        value=plain_markdown(comp.result_text),
        caption=plain_markdown(when) if when else None,
    )


def figure_cards(answer: Answer, limit: int = 3) -> list[FigureCard]:
    """The prominent figures of the answer.

    A computed answer shows its result ('+7 millions (+41 %)'), the operands being
    listed in the calculation block. Otherwise the answer's figures, first first,
    duplicates dropped, without the other bulletins' divergent values (those are
    in the :func:`conflicts_markdown` warning). The "as of" date is the caption of
    the first card.
    """
    card = _computation_card(answer)
    if card is not None:
        return [card]
    conflicting = {(c.figure.text, c.citation) for c in answer.conflicts}
    when = as_of_text(answer)
    cards: list[FigureCard] = []
    seen: set[str] = set()
    for f in answer.figures:
        if f.text in seen or (f.text, f.citation) in conflicting:
            continue
        seen.add(f.text)
        what = f.unit if f.unit and f.unit != "%" else _KIND_LABELS.get(f.kind, "valeur")
        caption = plain_markdown(when) if when and not cards else None
        cards.append(
            FigureCard(
                label=plain_markdown(f"{what} · source [{f.citation}]"), value=plain_markdown(f.text), caption=caption
            )
        )
        if len(cards) == limit:
            break
    return cards


def _same_question(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def understood_question_caption(answer: Answer, typed: str | None = None) -> str | None:
    """'Question comprise : …' (escaped) when the follow-up was completed from the history, else None.

    ``typed`` is the question as the user wrote it (defaults to ``answer.question``);
    differences of spacing or case alone do not count.
    """
    understood = answer.standalone_question
    if not understood or not understood.strip():
        return None
    if _same_question(understood, typed if typed is not None else answer.question):
        return None
    return plain_markdown(f"Question comprise : {shorten(understood)}")


def _citation_by_id(answer: Answer) -> dict[int, Citation]:
    return {c.id: c for c in answer.citations}


_MULTIPLIER_WORDS = {"million", "millions", "milliard", "milliards", "millier", "milliers"}


def _figure_with_unit(text: str, unit: str | None) -> str:
    """'2 900' + 'établissements' -> '2 900 établissements'; '17 millions' + 'assurés' -> '17 millions d’assurés'."""
    if not unit or unit == "%" or unit.casefold() in text.casefold():
        return text
    words = text.split()
    if words and words[-1].casefold() in _MULTIPLIER_WORDS:
        return f"{text} d’{unit}" if unit[:1].casefold() in "aeiouyhàâéèêîôû" else f"{text} de {unit}"
    return f"{text} {unit}"


def _source_suffix(citation: Citation | None) -> str:
    """' — « Titre » (31 janvier 2025, p. 3)' as escaped Markdown, or '' when the citation is missing."""
    if citation is None:
        return ""
    heading = plain_markdown(source_heading(citation.title, citation.source))
    return f" — « {heading} » ({plain_markdown(citation_where(citation))})"


def conflicts_markdown(answer: Answer) -> str | None:
    """Body of the 'Les bulletins divergent' warning (escaped Markdown), or None without conflicts.

    First the figure the answer keeps, then one list item per other bulletin's value:
    figure in bold, its [n] citation, the source's title and date.
    """
    if not answer.conflicts:
        return None
    sources = _citation_by_id(answer)
    conflicting = {(c.figure.text, c.citation) for c in answer.conflicts}
    kept = next((f for f in answer.figures if (f.text, f.citation) not in conflicting), None)
    lines = ["**Les bulletins divergent**"]
    if kept is not None:
        lines.append(
            f"La réponse retient **{plain_markdown(_figure_with_unit(kept.text, kept.unit))}** \\[{kept.citation}\\]"
            f"{_source_suffix(sources.get(kept.citation))}, mais d'autres bulletins donnent :"
        )
    else:
        lines.append("Les bulletins donnent des valeurs différentes :")
    body = "  \n".join(lines) + "\n"
    for c in answer.conflicts:
        figure = plain_markdown(_figure_with_unit(c.figure.text, c.figure.unit))
        body += f"\n- **{figure}** \\[{c.citation}\\]{_source_suffix(sources.get(c.citation))}"
    return body


@dataclass(frozen=True, slots=True)
class ComputationView:
    """The 'Calcul' block: ``expression`` is raw text for ``st.code``; the other fields are escaped Markdown."""

    heading: str
    expression: str
    operands: list[str]
    result: str


def computation_view(answer: Answer) -> ComputationView | None:
    """How the computed figure was obtained: formula, cited operands, result; None without computation."""
    comp = answer.computation
    if comp is None:
        return None
    sources = _citation_by_id(answer)
    operands = [
        f"\\[{o.citation}\\] **{plain_markdown(_figure_with_unit(o.figure.text, o.figure.unit))}**"
        f"{_source_suffix(sources.get(o.citation))}"
        for o in comp.operands
    ]
    what = _OPERATION_LABELS.get(comp.operation, "calcul")
    unit = f" — unité : {comp.unit}" if comp.unit and comp.unit != "%" else ""
    return ComputationView(
        heading=f"**Calcul** · {plain_markdown(what)}",
        expression=comp.expression,
        operands=operands,
        result=plain_markdown(f"Résultat : {comp.result_text}{unit}"),
    )


def answer_markdown(answer: Answer) -> str:
    """The answer sentence (with its [n] markers) as safe Markdown, figures in bold; a key-figures
    answer (a heading line, then « - clause [n] » lines) as a Markdown list."""
    figures = figure_texts(answer)
    if answer.kind != "key_figures":
        return highlight_markdown(answer.answer, figures, style="bold")
    head, *items = answer.answer.split("\n")
    lines = [highlight_markdown(head, figures, style="bold"), ""]
    lines += [f"- {highlight_markdown(item.removeprefix('- '), figures, style='bold')}" for item in items]
    return "\n".join(lines)


def citation_where(citation: Citation) -> str:
    """'29 janvier 2026', or '8 mars 2020, p. 1' when the source is paged (PDF): where to look."""
    when = format_date_fr(citation.date)
    return f"{when}, p. {citation.page}" if citation.page else when


def citation_label(citation: Citation) -> str:
    """Plain-text source line: '[1] Titre — 29 janvier 2026 — corpus/x.txt' ('…, p. 3' for a PDF)."""
    return f"[{citation.id}] {citation.title} — {citation_where(citation)} — {citation.source}"


def citation_markdown(citation: Citation) -> str:
    """The source line as safe Markdown, compact: « [1] Titre · 29 janvier 2026 · p. 3 » (no server path)."""
    page = f" · {plain_markdown(f'p. {citation.page}')}" if citation.page else ""
    when = plain_markdown(format_date_fr(citation.date))
    return f"**\\[{citation.id}\\] {plain_markdown(source_heading(citation.title, citation.source))}** · {when}{page}"


def quote_markdown(citation: Citation, figures: Iterable[str] = (), header: Sequence[str] = ()) -> str:
    """The quoted passage as a safe Markdown blockquote with ``figures`` highlighted, read as prose
    (:func:`readable_quote`: no Markdown heading marks, a table row with its column headers)."""
    body = highlight_markdown(readable_quote(citation.quote, header), figures, style="figure")
    return f"> « {body} »"


_HEADING_MARK = re.compile(r"^\s*#{1,6}\s+|^\s*[-*•]\s+", re.M)


def readable_quote(quote: str, header: Sequence[str] = ()) -> str:
    """A quote as staff read it: « # DMP et télésanté » -> « DMP et télésanté »; a table row
    « | Cabines et bornes | 2 100 | 3 400 | » -> « Cabines et bornes : 2 100 (Fin 2024) ; 3 400 (Fin 2025) »
    given the column headers (cells kept verbatim, so the figures stay highlightable)."""
    row = quote.strip()
    if not (row.startswith("|") and row.endswith("|") and row.count("|") >= 3):
        return _HEADING_MARK.sub("", quote)
    cells = [c.strip() for c in row.strip("|").split("|")]
    heads = list(header) if len(header) == len(cells) else []
    parts = [f"{v} ({heads[i + 1]})" if heads and heads[i + 1] else v for i, v in enumerate(cells[1:]) if v]
    return f"{cells[0]} : {' ; '.join(parts)}" if cells[0] else " ; ".join(parts)


def table_header(text: str, start: int) -> tuple[str, ...]:
    """Column headers of the pipe table whose row starts at ``text[start]`` (empty if not a table body row)."""
    first = table_start(text, start)
    if first is None or first == text.rfind("\n", 0, start) + 1:
        return ()
    end = text.find("\n", first)
    return tuple(c.strip() for c in text[first : end if end != -1 else len(text)].strip().strip("|").split("|"))


def cited_context(text: str, citation: Citation) -> Excerpt:
    """What a source block needs from the bulletin: the paragraph around the quote, and the table's
    header when the quote is a table row."""
    excerpt = surrounding_paragraph(text, citation.start, citation.end)
    return replace(excerpt, header=table_header(text, citation.start))


def generation_caption(answer: Answer) -> str | None:
    """Who wrote the answer text when an LLM is configured: the model (every figure checked), or the bulletin
    because the model's text was set aside (the guard's rule, in French)."""
    gen = answer.generation
    if gen is None or answer.abstained:
        return None
    if gen.used:
        return plain_markdown(f"Rédigé par le modèle {gen.model} ; chaque chiffre vérifié dans sa source.")
    if gen.model is None:  # not sent to the model (a list, several figures)
        return None
    rule = (gen.reason or "").split(":", 1)[0]
    why = _GENERATION_RULES.get(rule, "texte non vérifiable")
    return plain_markdown(f"Texte du modèle écarté ({why}) : réponse reprise du bulletin.")


#: The guard's rules (``generation.reason`` is « rule: detail »), as staff read them.
_GENERATION_RULES = {
    "llm_unreachable": "modèle injoignable",
    "llm_timeout": "modèle trop lent",
    "llm_http_error": "erreur du modèle",
    "llm_error": "erreur du modèle",
    "empty": "texte vide",
    "not_french": "texte pas en français",
    "too_long": "texte trop long",
    "truncated": "texte coupé",
    "no_citation": "aucune source citée",
    "unknown_citation": "source inexistante citée",
    "figure_not_in_citation": "un chiffre absent de sa source",
    "figure_without_citation": "un chiffre sans source",
    "main_figure_missing": "le chiffre demandé manque",
    "conflict_missing": "la divergence entre bulletins manque",
}


def confidence_caption(answer: Answer) -> str:
    """'Confiance : fiable · 0,47 s' — in words, never a percentage (timings come from the answer itself)."""
    words = confidence_words(answer)
    parts = [f"Confiance : {words}"] if words else []
    total = answer.timings_ms.get("total_ms")
    if total is not None:
        parts.append(f"{total / 1000:.2f} s".replace(".", ","))
    return plain_markdown(" · ".join(parts))


#: ``Answer.confidence`` is the reader's calibrated probability that the answer is right (a logistic
#: calibrator fitted on out-of-fold decisions, docs/reader.md § « Calibration »). Bands read off the
#: gold set (`assistant eval corpus/gold.jsonl`, shipped model, 2026-12): answers at ≥ 0.7 were right
#: 113 times out of 114, between 0.5 and 0.7 6 out of 8, below 0.5 0 out of 1. An answer with a
#: conflict has its confidence × 0.7, so it is never « fiable ». Caveat (docs/reader.md): on PIAF the
#: wrong answers can score as high as the right ones — « fiable » means « the source is cited, the
#: reader is sure », not « checked ».
CONFIDENCE_RELIABLE = 0.7
#: Below this, « peu sûr » (the reader's own abstention threshold is 0.109, so answers down to it exist).
CONFIDENCE_DOUBTFUL = 0.5


def confidence_label(confidence: float) -> str:
    """« fiable », « à vérifier » or « peu sûr » for a calibrated probability; never a percentage."""
    if confidence >= CONFIDENCE_RELIABLE:
        return "fiable"
    if confidence >= CONFIDENCE_DOUBTFUL:
        return "à vérifier"
    return "peu sûr"


def confidence_words(answer: Answer) -> str | None:
    """The confidence of an answer in words (« fiable », « à vérifier », « peu sûr »); None for an
    abstention or a refused computation (its ``confidence`` is that abstaining is right: nothing to trust)."""
    if answer.abstained or answer.kind == "key_figures":  # a listing picks no answer: nothing to be sure of
        return None
    return confidence_label(answer.confidence)


# --------------------------------------------------------------------------
# Conversation
# --------------------------------------------------------------------------


@dataclass
class Turn:
    """One exchange as kept in the browser session: the question and either an answer or an error."""

    id: str
    question: str
    answer: Answer | None = None
    error: str | None = None
    hint: str | None = None
    #: Paragraph around each cited passage, by :func:`citation_key`.
    contexts: dict[str, Excerpt] = field(default_factory=dict)


def citation_key(citation: Citation) -> str:
    """Identifies a cited span (citation ids restart at 1 for suggestions, so they are not unique)."""
    return f"{citation.source}:{citation.start}:{citation.end}"


def history_from_turns(turns: Iterable[Turn]) -> list[dict[str, str]]:
    """Previous answered turns as ``ask(history=...)`` expects; failed turns are not context."""
    history: list[dict[str, str]] = []
    for t in turns:
        if t.answer is None:
            continue
        history.append({"role": "user", "content": t.question})
        history.append({"role": "assistant", "content": t.answer.answer})
    return history


def error_parts(exc: BaseException) -> tuple[str, str | None]:
    """(message, hint) for the error banner; unexpected errors get a generic French text."""
    if isinstance(exc, AssistantError):
        return exc.message, exc.hint
    return (
        f"Erreur inattendue ({exc.__class__.__name__}).",
        "Réessayez ; si cela persiste, signalez-le à l'équipe technique.",
    )


def error_markdown(message: str, hint: str | None = None) -> str:
    """The error banner body: message in bold, then the hint, all escaped."""
    body = f"**{plain_markdown(message)}**"
    if hint:
        body += f"  \n{plain_markdown(hint)}"
    return body


# --------------------------------------------------------------------------
# Sidebar: stats, filters, ingest
# --------------------------------------------------------------------------


def stats_rows(stats: StoreStats, zone: str | tzinfo | None = None) -> list[tuple[str, str]]:
    """Label/value pairs describing the corpus (plain text); times in ``zone`` (the browser's)."""
    if stats.date_min or stats.date_max:
        period = f"{format_date_fr(stats.date_min)} → {format_date_fr(stats.date_max)}"
    else:
        period = "—"
    return [
        ("Bulletins", str(stats.bulletins)),
        ("Passages indexés", str(stats.chunks)),
        ("Période", period),
        ("Dernière indexation", format_datetime_fr(stats.last_ingest, zone)),
    ]


def bulletin_option_label(title: str, bulletin_id: str, when: date | None, limit: int = 70) -> str:
    """A bulletin as the source filter lists it: « Télésanté : 13,1 millions de téléconsultations… · février 2026 »."""
    month = f"{MONTHS_FR[when.month - 1]} {when.year}" if when else "date inconnue"
    title = source_heading(title, bulletin_id)
    short = title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
    return f"{short} · {month}"


def bulletin_labels(records: Iterable[Any]) -> dict[str, str]:
    """Bulletin id -> :func:`bulletin_option_label`, for stored bulletin records (``id``, ``title``, ``date``)."""
    return {r.id: bulletin_option_label(r.title, r.id, r.date) for r in records}


def date_bounds(stats: StoreStats) -> tuple[date | None, date | None]:
    """The corpus date range as dates (None when unknown)."""

    def parse(v: str | None) -> date | None:
        try:
            return date.fromisoformat(v[:10]) if v else None
        except ValueError:
            return None

    return parse(stats.date_min), parse(stats.date_max)


def build_filters(
    selected: Sequence[date] | date | None,
    bounds: tuple[date | None, date | None],
    sources: Sequence[str] = (),
) -> Filters | None:
    """Sidebar choices -> :class:`Filters`, or None when nothing restricts the search.

    A date bound equal to the corpus bound is dropped: filtering on it would
    only exclude undated bulletins, which the user did not ask for. A half
    selected range (one date picked so far) filters from that day on.
    """
    if isinstance(selected, date):
        selected = (selected,)
    picked = list(selected or ())
    lo, hi = bounds
    date_from = picked[0] if picked else None
    date_to = picked[1] if len(picked) > 1 else None
    if date_from is not None and lo is not None and date_from <= lo:
        date_from = None
    if date_to is not None and hi is not None and date_to >= hi:
        date_to = None
    filters = Filters(date_from=date_from, date_to=date_to, sources=tuple(sources))
    return None if filters.empty else filters


def progress_state(stage: str, done: int, total: int) -> tuple[float, str]:
    """An ingest progress callback's arguments -> (fraction for st.progress, French label).

    Embedding dominates the time, so it maps to 0-90 %, writing to 90-100 %.
    """
    frac = min(max(done / total, 0.0), 1.0) if total > 0 else 1.0
    if stage == "reading":  # uploads are parsed before any embedding: the bar starts there
        return 0.0, f"Lecture des fichiers : {done}/{total}"
    if stage == "embedding":
        return 0.9 * frac, f"Calcul des vecteurs : {done}/{total} passages"
    if stage == "writing":
        return 0.9 + 0.1 * frac, f"Enregistrement : {done}/{total} bulletins"
    return frac, f"{stage} : {done}/{total}"


def ingest_summary(report: IngestReport) -> str:
    """The ingest report in plain French, one line: « 1 bulletin ajouté, 11 inchangés (3,2 s) »."""
    parts = [
        _count(len(report.added), "bulletin ajouté", "bulletins ajoutés"),
        _count(len(report.updated), "bulletin mis à jour", "bulletins mis à jour"),
        _count(len(report.removed), "bulletin retiré", "bulletins retirés"),
    ]
    changed = [part for n, part in zip((report.added, report.updated, report.removed), parts, strict=True) if n]
    unchanged = len(report.unchanged)
    if changed:
        text = ", ".join(changed) + (f", {_count(unchanged, 'inchangé', 'inchangés')}" if unchanged else "")
    else:
        text = "Aucun changement : " + _count(unchanged, "bulletin déjà à jour", "bulletins déjà à jour")
    if report.failed:
        text += " ; " + _count(len(report.failed), "fichier illisible", "fichiers illisibles")
    return text + f" ({report.seconds:.1f} s)".replace(".", ",")


def ingest_failures(report: IngestReport) -> list[str]:
    """One plain-text line per unreadable bulletin."""
    return [f"{f.path} : {f.reason}" for f in report.failed]


# --------------------------------------------------------------------------
# Uploads (admin section of the chat)
# --------------------------------------------------------------------------

UploadLineKind = Literal["added", "updated", "unchanged", "refused"]


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def bulletin_line(info: BulletinInfo, verb: str = "Ajouté") -> str:
    """'Ajouté : Titre — 8 mars 2020, 2 pages, 14 chiffres repérés (pages sans texte : 3, 7)' (plain text).

    Says what was actually read, so staff notice a scan (pages without text) or a
    file where no figure was found before relying on it.
    """
    parts = [format_date_fr(info.date)]
    if info.pages:
        parts.append(_count(info.pages, "page", "pages"))
    parts.append(_count(info.figures, "chiffre repéré", "chiffres repérés"))
    line = f"{verb} : {info.title} — {', '.join(parts)}"
    if info.blank_pages:
        line += f" (pages sans texte : {', '.join(str(n) for n in info.blank_pages)})"
    return line


def failure_line(failure: BulletinFailure) -> str:
    """'Refusé : rapport.xlsx — type de fichier refusé. Formats acceptés : …' (plain text)."""
    reason = failure.reason
    if reason.startswith(f"{failure.path}: "):  # ingest failures repeat the id in the reason
        reason = reason[len(failure.path) + 2 :]
    return f"Refusé : {failure.path} — {reason}"


def upload_lines(report: IngestReport) -> list[tuple[UploadLineKind, str]]:
    """What an upload did, one plain-text line per file: added, updated, already there, refused."""
    info = {b.id: b for b in report.bulletins}
    lines: list[tuple[UploadLineKind, str]] = []
    changed: tuple[tuple[UploadLineKind, str, list[str]], ...] = (
        ("added", "Ajouté", report.added),
        ("updated", "Mis à jour", report.updated),
    )
    for kind, verb, ids in changed:
        for bid in ids:
            b = info.get(bid)
            lines.append((kind, bulletin_line(b, verb) if b else f"{verb} : {bid}"))
    lines += [("unchanged", f"Déjà à jour : {bid.rsplit('/', 1)[-1]}") for bid in report.unchanged]
    lines += [("refused", failure_line(f)) for f in report.failed]
    return lines
