"""PDF bulletins: text in reading order, tables as pipe tables, where each page starts.

One parse serves both parts (docs/pdf-libraries.md has the measurements behind the choice):
pdfminer.six's layout analysis, reached through pdfplumber, gives text boxes in reading order
(columns followed, not lines read across them), and pdfplumber's ``find_tables`` gives tables
with their cells. What a PDF adds to plain text, and is undone here:

* running headers, footers and page numbers (the same text in the top or bottom band of
  several pages, or a lone number there) are dropped;
* chart debris (axis ticks, legends: short boxes in a smaller type than the body) is dropped;
* words hyphenated at a line end are joined, but only where the word was split: the joined
  form must be a word of the document, or the hyphenated one must not be (« Seine-et-Marne »
  and « coronavirus-Covid » keep their hyphen); a drop cap is rejoined to its word
  (« A près » -> « Après »);
* a paragraph that runs on in the next box, column or page (no end punctuation, next box in
  lower case) is joined;
* tables that hold figures are written as Markdown pipe tables (header row, separator, rows),
  the form the reader already reads, in place of the text boxes they cover.

Pages without a text layer (scans, pictures) are listed in ``Bulletin.blank_pages``; a PDF with
no text at all is refused (no OCR here). Every failure is a :class:`BulletinError`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import BulletinError
from ..models import Bulletin
from .metadata import clean_title, date_from_name, date_from_text, first_full_date
from .text import normalise

log = logging.getLogger(__name__)

#: pdfminer layout analysis settings. ``boxes_flow`` 0.5 (pdfminer's default) orders boxes by
#: columns first; ``all_texts`` also reads text drawn inside figures (slides exported as PDF);
#: ``char_margin`` 3 (default 2) keeps the widely spaced words of a justified line in one box
#: (12/12 quoted sentences of the samples in order, against 11/12).
LAPARAMS = {"line_margin": 0.5, "char_margin": 3.0, "word_margin": 0.1, "boxes_flow": 0.5, "all_texts": True}

#: Share of a page's height, at its top and bottom, where running headers and footers live.
BAND = 0.1
#: A page with fewer readable characters than this has no text layer (a scan or a picture).
MIN_PAGE_CHARS = 20
#: Chart and map debris: a box of fewer than ``DEBRIS_WORDS`` words, none a real word (axis ticks,
#: data labels, map counts without their place names), unless set this many times larger than the
#: page's body type (a key figure such as « 26 » above « cas confirmés »).
DEBRIS_WORDS = 6
KEY_FIGURE_SIZE = 1.5
#: A table is kept when it has at least 2 rows and 2 columns, this share of filled cells, and figures.
TABLE_FILLED = 0.6

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
#: A footnote call follows a word, a number (« entre 2013 et 2018⁵ ») or a closing bracket/quote.
_CALL_AFTER = set("abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ0123456789)»”")
_CID_RE = re.compile(r"\(cid:\d+\)")
_PRIVATE_RE = re.compile(r"[\ue000-\uf8ff]")
_SPACES_RE = re.compile(r"[ \t\u00a0]{2,}")
_PAGE_NUMBER_RE = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:/|sur)\s*\d{1,4})?$", re.I)
_WORD_RE = re.compile(r"[^\W\d_]+(?:[-’'][^\W\d_]+)*")
_END_PUNCT = tuple(".!?:;…»)]")
#: Metadata titles that are the authoring tool's placeholder, not the document's title.
_JUNK_TITLES = re.compile(
    r"^(?:microsoft\s|présentation powerpoint|untitled|sans titre|document\d*$)|\.(?:docx?|pptx?|indd|pdf|xlsx?)$", re.I
)


@dataclass(slots=True)
class _Line:
    text: str
    size: float
    bold: bool
    x0: float = 0.0
    x1: float = 0.0


@dataclass(slots=True)
class _Block:
    """A text box (its lines) or a table (its pipe text), with its place on the page."""

    lines: list[_Line]
    x0: float
    top: float
    x1: float
    bottom: float
    table: str | None = None

    @property
    def raw(self) -> str:
        return self.table if self.table is not None else " ".join(line.text for line in self.lines)

    @property
    def size(self) -> float:
        sizes = [line.size for line in self.lines]
        return statistics.median(sizes) if sizes else 0.0


@dataclass(slots=True)
class _Page:
    blocks: list[_Block]
    height: float
    chars: int
    tables: int = 0


@dataclass(slots=True)
class _Text:
    """The bulletin's text as it is built, with where each page starts."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    page_starts: list[int] = field(default_factory=list)
    _page_open: bool = False  # a page was started and nothing of it written yet

    def new_page(self) -> None:
        self.page_starts.append(self.length)
        self._page_open = True

    def add(self, glue: str, piece: str) -> None:
        """Write ``glue`` (a blank line, a space) then ``piece``; a page starts at its first character."""
        self.parts += [glue, piece]
        self.length += len(glue)
        if self._page_open:
            self.page_starts[-1] = self.length
            self._page_open = False
        self.length += len(piece)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def parse_pdf(raw: bytes, bulletin_id: str, *, path: str | None = None, max_pages: int = 150) -> Bulletin:
    """Read a PDF bulletin; any failure is a :class:`BulletinError` naming the reason."""
    if not raw.strip():
        raise BulletinError(bulletin_id, "fichier vide")
    if b"%PDF-" not in raw[:1024]:
        raise BulletinError(bulletin_id, "ce n'est pas un PDF (en-tête %PDF absent)", hint="Vérifiez le fichier.")
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        return _parse(raw, bulletin_id, path=path, max_pages=max_pages)
    except BulletinError:
        raise
    except Exception as exc:  # pdfminer raises many types (and plain ones: KeyError, struct.error...)
        cause = _cause(exc)
        if isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError):
            raise BulletinError(
                bulletin_id, "PDF protégé par un mot de passe", hint="Enregistrez-en une copie sans protection."
            ) from None
        if isinstance(cause, RecursionError):
            raise BulletinError(bulletin_id, "PDF endommagé (structure trop imbriquée)") from None
        log.info("PDF illisible %s : %s: %s", bulletin_id, type(cause).__name__, cause)
        raise BulletinError(
            bulletin_id,
            f"PDF illisible ou endommagé ({type(cause).__name__})",
            hint="Ouvrez-le et ré-enregistrez-le (Imprimer en PDF), puis réessayez.",
        ) from None


def _cause(exc: BaseException) -> BaseException:
    """The error under pdfplumber's wrapper (``PdfminerException(original)``)."""
    seen = 0
    while seen < 5:
        inner = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args else None)
        if not isinstance(inner, BaseException):
            return exc
        exc, seen = inner, seen + 1
    return exc


def _parse(raw: bytes, bulletin_id: str, *, path: str | None, max_pages: int) -> Bulletin:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(raw), laparams=LAPARAMS) as pdf:
        count = len(pdf.pages)
        if count == 0:
            raise BulletinError(bulletin_id, "PDF sans aucune page")
        if count > max_pages:
            raise BulletinError(
                bulletin_id,
                f"PDF trop long ({count} pages, limite {max_pages})",
                hint="Découpez-le en parties, ou relevez ASSISTANT_MAX_PAGES.",
            )
        meta = {str(k): v for k, v in (pdf.metadata or {}).items()}
        pages = []
        for page in pdf.pages:
            pages.append(_read_page(page))
            page.close()  # drops pdfplumber's per-page caches: memory stays flat on long documents
    blank = tuple(i for i, p in enumerate(pages, start=1) if p.chars < MIN_PAGE_CHARS)
    if len(blank) == len(pages):
        raise BulletinError(
            bulletin_id,
            "aucun texte dans ce PDF (pages en images, document scanné ?)",
            hint="Il faut un PDF avec une couche texte : la reconnaissance de caractères (OCR) n'est pas faite ici.",
        )
    _drop_running(pages)
    for p in pages:
        size = _body_size([p])
        p.blocks = [b for b in p.blocks if b.table is not None or not _debris(b, size)]
    body = _body_size(pages)
    vocab = _vocabulary(pages)
    built = _assemble(pages, vocab)
    text = normalise(built.text)
    if not text.strip():
        raise BulletinError(bulletin_id, "aucun texte lisible dans ce PDF")
    first_page = text[: built.page_starts[1]] if len(built.page_starts) > 1 else text
    title = _title(meta, pages, vocab, body) or Path(bulletin_id).stem
    when = date_from_text(text) or first_full_date(first_page) or _pdf_date(meta) or date_from_name(bulletin_id)
    return Bulletin(
        id=bulletin_id,
        title=clean_title(normalise(title)),
        text=text,
        date=when,
        path=path or bulletin_id,
        content_hash=hashlib.sha256(raw).hexdigest(),
        page_starts=tuple(built.page_starts),
        blank_pages=blank,
        tables=sum(p.tables for p in pages),
    )


# -- one page -------------------------------------------------------------------


def _read_page(page: Any) -> _Page:
    from pdfminer.layout import LTTextBox

    layout = page.layout
    top_of = float(layout.y1)
    tables = _tables(page)
    blocks: list[_Block] = []
    placed: set[int] = set()
    chars = 0
    for box in _boxes(layout, LTTextBox):
        lines = [line for line in (_line(ln) for ln in box) if line is not None]
        if not lines:
            continue
        chars += sum(len(line.text.strip()) for line in lines)
        block = _Block(lines, float(box.x0), top_of - float(box.y1), float(box.x1), top_of - float(box.y0))
        inside = next((i for i, t in enumerate(tables) if _inside(block, t)), None)
        if inside is None:
            blocks.append(block)
        elif inside not in placed:  # the table takes the place of the first box it covers
            placed.add(inside)
            blocks.append(tables[inside])
    for i, t in enumerate(tables):
        if i not in placed:  # no box inside (cells drawn apart): after the boxes above it
            at = next((n for n, b in enumerate(blocks) if b.top > t.top), len(blocks))
            blocks.insert(at, t)
    return _Page(blocks, float(layout.height), chars, len(tables))


def _boxes(container: Any, kind: type) -> Iterator[Any]:
    """Text boxes in layout order, including those inside figures (``all_texts``)."""
    for el in container:
        if isinstance(el, kind):
            yield el
        elif hasattr(el, "__iter__") and not isinstance(el, str) and type(el).__name__ == "LTFigure":
            yield from _boxes(el, kind)


def _line(obj: Any) -> _Line | None:
    """One text line: its text (drop cap rejoined, ligatures undone), its type size and weight."""
    from pdfminer.layout import LTChar

    items = list(obj) if hasattr(obj, "__iter__") else []
    chars = [c for c in items if isinstance(c, LTChar)]
    if not chars:
        return None
    pieces = [c.get_text() for c in items]
    sizes = sorted(c.size for c in chars if c.get_text().strip())
    size = statistics.median(sizes) if sizes else chars[0].size
    for i in range(1, len(items)):
        c = items[i]
        after_word = pieces[i - 1][-1:].lower() in _CALL_AFTER
        if after_word and isinstance(c, LTChar) and c.get_text().isdigit() and c.size <= 0.8 * size:
            pieces[i] = ""  # a footnote call set in superscript ("années1"): not part of the text
            j = i + 1
            while j < len(items) and isinstance(items[j], LTChar) and items[j].get_text().isdigit():
                pieces[j] = ""
                j += 1
    first = next((i for i, c in enumerate(items) if isinstance(c, LTChar) and c.get_text().strip()), None)
    if first is not None and len(sizes) > 2:
        cap = items[first]
        rest = [c.size for c in chars if c is not cap and c.get_text().strip()]
        if cap.get_text().isupper() and rest and cap.size >= 1.8 * statistics.median(rest):
            # A drop cap: its letter is set apart from the rest of the word ("A près"). Mark the gap;
            # whether it was a space between words is decided with the document's vocabulary.
            j = first + 1
            while j < len(pieces) and pieces[j] == " ":
                pieces[j] = ""
                j += 1
            if j > first + 1:
                pieces[first] += "\u2060"  # word joiner: resolved in _resolve_drop_caps
            size = statistics.median(rest)
    text = "".join(pieces).translate(_LIGATURES)
    text = _CID_RE.sub("", text)
    text = _PRIVATE_RE.sub("•", text)  # symbol-font bullets (Wingdings) -> a bullet
    text = _SPACES_RE.sub(" ", text.replace("\n", " ")).strip()
    if not text:
        return None
    bold = sum("bold" in (c.fontname or "").lower() for c in chars) > len(chars) / 2
    return _Line(text, round(float(size) * 2) / 2, bold, float(chars[0].x0), float(chars[-1].x1))


def _tables(page: Any) -> list[_Block]:
    """Tables that hold figures, as pipe-table blocks (in pdfminer's coordinates)."""
    out: list[_Block] = []
    for found in page.find_tables():
        rows = _split_stacked([[_cell_lines(c) for c in row] for row in found.extract()])
        rows = [[" ".join(" ".join(lines).split()).replace("|", "/") for lines in row] for row in rows]
        rows = [r for r in rows if any(r)]
        if not rows:
            continue
        keep = [j for j in range(max(len(r) for r in rows)) if any(j < len(r) and r[j] for r in rows)]
        rows = [[r[j] if j < len(r) else "" for j in keep] for r in rows]
        cells = [c for r in rows for c in r]
        filled = sum(1 for c in cells if c)
        if len(rows) < 2 or len(keep) < 2 or filled < TABLE_FILLED * len(cells):
            continue
        if not any(re.search(r"\d", c) for c in cells) or max(len(c) for c in cells) > 300:
            continue  # a frame around prose, not a table of figures
        header, body = _header(rows)
        if sum(1 for r in body if re.search(r"[^\W\d_]", r[0])) * 2 < len(body):
            continue  # no row labels (they stayed outside the ruled frame): figures without their meaning
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(keep)]
        lines += ["| " + " | ".join(r) + " |" for r in body]
        x0, top, x1, bottom = (float(v) for v in found.bbox)
        out.append(_Block([], x0, top, x1, bottom, table="\n".join(lines)))
    return out


def _cell_lines(value: str | None) -> list[str]:
    text = _CID_RE.sub("", (value or "").translate(_LIGATURES))
    return [line.strip() for line in text.split("\n") if line.strip()]


def _split_stacked(rows: list[list[list[str]]]) -> list[list[list[str]]]:
    """Rows drawn without rules between them come out stacked in one row, each cell holding k
    lines (« 2008 / 2013 / 2014 », « 542,6 / 569,2 / 558,7 »): split them into k rows when every
    filled cell has the same k lines."""
    out = []
    for row in rows:
        counts = {len(c) for c in row if c}
        k = counts.pop() if len(counts) == 1 else 1
        if k > 1 and sum(1 for c in row if c) >= 2:
            out += [[[c[i]] if c else [] for c in row] for i in range(k)]
        else:
            out.append(row)
    return out


def _header(rows: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """The header row; header rows stacked over it (a first cell left empty) are merged into it, a
    spanning cell (« Hommes » over « 0 an | 1 an ») repeated over the columns it spans."""
    n = 1
    while n < min(len(rows) - 1, 3) and not rows[n][0]:
        n += 1
    if n == 1:
        return rows[0], rows[1:]
    merged = [""] * len(rows[0])
    for row in rows[:n]:
        filled = list(row)
        if row is not rows[n - 1]:
            for j in range(2, len(filled)):  # a spanning cell covers the empty cells after it
                if not filled[j] and rows[n - 1][j]:
                    filled[j] = filled[j - 1]
        merged = [f"{a} {b}".strip() for a, b in zip(merged, filled, strict=True)]
    return merged, rows[n:]


def _inside(block: _Block, table: _Block) -> bool:
    cx, cy = (block.x0 + block.x1) / 2, (block.top + block.bottom) / 2
    return table.x0 - 1 <= cx <= table.x1 + 1 and table.top - 1 <= cy <= table.bottom + 1


# -- across pages ---------------------------------------------------------------


def _key(block: _Block) -> str:
    return re.sub(r"\d+", "#", " ".join(block.raw.lower().split()))


def _in_band(block: _Block, height: float) -> bool:
    return block.bottom <= height * BAND or block.top >= height * (1 - BAND)


def _drop_running(pages: list[_Page]) -> None:
    """Remove running headers/footers (same text, digits aside, in the top/bottom band of 2+ pages)
    and lone page numbers in those bands."""
    seen: Counter[str] = Counter()
    for p in pages:
        seen.update({_key(b) for b in p.blocks if b.table is None and _in_band(b, p.height)})
    need = 2 if len(pages) <= 6 else max(2, round(len(pages) * 0.2))
    for p in pages:
        p.blocks = [
            b
            for b in p.blocks
            if b.table is not None
            or not _in_band(b, p.height)
            or (seen[_key(b)] < need and not _PAGE_NUMBER_RE.match(b.raw.strip()))
        ]


def _body_size(pages: Sequence[_Page]) -> float:
    """The body's type size: the median size over characters."""
    sizes = sorted((line.size, len(line.text)) for p in pages for b in p.blocks for line in b.lines)
    total = sum(n for _, n in sizes)
    seen = 0
    for size, n in sizes:
        seen += n
        if seen * 2 >= total:
            return size
    return 0.0


_REAL_WORD_RE = re.compile(r"[^\W\d_]{3,}")


def _debris(block: _Block, body: float) -> bool:
    text = block.raw
    return len(text.split()) < DEBRIS_WORDS and not _REAL_WORD_RE.search(text) and block.size < KEY_FIGURE_SIZE * body


def _vocabulary(pages: Sequence[_Page]) -> Counter[str]:
    """Words of the document (lower case), to decide line-end hyphens and drop caps."""
    words: Counter[str] = Counter()
    for p in pages:
        for b in p.blocks:
            words.update(w.lower() for w in _WORD_RE.findall(b.raw.replace("\u2060", "")))
    return words


# -- writing the text -----------------------------------------------------------


def _assemble(pages: Sequence[_Page], vocab: Counter[str]) -> _Text:
    out = _Text()
    previous = ""  # the last paragraph written, to know whether the next one continues it
    for page in pages:
        out.new_page()
        for block in page.blocks:
            if block.table is not None:
                out.add("\n\n" if out.length else "", block.table)
                previous = ""
                continue
            for para in _paragraphs(block, vocab):
                if previous and _continues(previous, para):
                    joined = _join(previous, para, vocab)
                    glue = joined[len(previous) : len(joined) - len(para)] if joined.endswith(para) else None
                    if glue is not None and joined.startswith(previous):
                        out.add(glue, para)
                        previous = joined
                        continue
                out.add("\n\n" if out.length else "", para)
                previous = para
    return out


def _paragraphs(block: _Block, vocab: Counter[str]) -> list[str]:
    """A box's lines as paragraphs: a change of type size or weight starts a new one (a heading)."""
    groups: list[list[_Line]] = []
    width = block.x1 - block.x0
    for line in block.lines:
        if groups and not _starts_paragraph(groups[-1][-1], line, block.x0, width):
            groups[-1].append(line)
        else:
            groups.append([line])
    out = []
    for group in groups:
        text = group[0].text
        for line in group[1:]:
            text = _join(text, line.text, vocab)
        text = _resolve_drop_caps(text, vocab)
        if text.strip("•-–−▪■●◦*► "):  # a bullet alone (its item went to another box) says nothing
            out.append(text)
    return out


def _starts_paragraph(prev: _Line, line: _Line, left: float, width: float) -> bool:
    """A new paragraph inside a box: another type (a heading), a bullet, or a sentence that ended
    on a short line or before an indented one."""
    if _bullet(line.text):
        return True
    open_sentence = not prev.text.endswith(_END_PUNCT)
    if line.size != prev.size:  # a heading, unless the sentence visibly runs on (« 26 cas CONFIRMÉS en » …)
        return not (open_sentence and (line.text[:1].islower() or _dangling(prev.text)))
    if line.bold != prev.bold and not open_sentence:
        return True  # a bold heading ends with no full stop, but the sentence before it did
    if open_sentence or width < 50:
        return False
    return prev.x1 < left + 0.85 * width or line.x0 > left + 6


def _bullet(text: str) -> bool:
    return text[:1] in "•-–−▪■●◦*" and len(text) > 2


def _continues(previous: str, para: str) -> bool:
    """Whether ``para`` goes on with the sentence ``previous`` left open (next box, column or page)."""
    if previous.endswith(_END_PUNCT) or previous.startswith("|"):
        return False
    return para[:1].islower() or (_dangling(previous) and para[:1].isalnum())


#: Words a sentence or a heading cannot end with: after them, the text goes on.
_FUNCTION_WORDS = {
    "à", "au", "aux", "de", "du", "des", "d’", "d'", "en", "et", "ou", "la", "le", "les", "l’", "l'", "un", "une",
    "dans", "pour", "par", "sur", "avec", "sans", "chez", "entre", "vers", "dont", "que", "qui",
}  # fmt: skip


def _dangling(text: str) -> bool:
    words = text.split()
    return bool(words) and words[-1].lower() in _FUNCTION_WORDS


def _join(left: str, right: str, vocab: Counter[str]) -> str:
    """Two lines of one paragraph; a line-end hyphen is kept only when it belongs to the word."""
    if left.endswith("-") and len(left) > 1 and left[-2].isalpha() and right[:1].isalpha():
        head = _WORD_RE.findall(left[:-1])
        tail = _WORD_RE.match(right)
        if head and tail and left[:-1].endswith(head[-1]):
            a, b = head[-1], tail.group(0)
            if _split_word(a, b, vocab):
                return left[:-1] + right
            return left + right
    return left + " " + right


def _split_word(a: str, b: str, vocab: Counter[str]) -> bool:
    """Whether ``a-`` / ``b`` is one word cut at the line end (True) or a hyphenated compound."""
    joined, hyphenated = (a + b).lower(), f"{a}-{b}".lower()
    if vocab[hyphenated] > vocab[joined]:
        return False
    if vocab[joined]:
        return True
    return not (b[:1].isupper() or "-" in b or b.lower() in _PARTICLES)


#: Words that follow a hyphen in compounds (« Seine-et-Marne », « peut-être », « dit-il »).
_PARTICLES = {
    "et", "sur", "en", "de", "du", "des", "la", "le", "les", "lès", "ci", "là", "il", "elle", "ils", "elles",
    "on", "t", "y", "être", "même", "mêmes", "dessus", "dessous", "delà", "saint", "sainte", "sous", "moi",
    "toi", "nous", "vous", "lui", "leur", "eux",
}  # fmt: skip


def _resolve_drop_caps(text: str, vocab: Counter[str]) -> str:
    """« A\u2060 près » -> « Après » when that is a word of the document (else the letter stays apart)."""
    if "\u2060" not in text:
        return text

    def fix(m: re.Match[str]) -> str:
        cap, rest = m.group(1), m.group(2)
        if vocab[(cap + rest).lower()] or not vocab[rest.lower()]:
            return cap + rest
        return f"{cap} {rest}"

    return re.sub(r"(\w)\u2060\s*(\w+)", fix, text).replace("\u2060", "")


# -- title and date -------------------------------------------------------------


def _meta_text(value: Any) -> str | None:
    if isinstance(value, bytes):
        for enc in ("utf-16", "latin-1"):
            try:
                value = value.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def _title(meta: dict[str, Any], pages: Sequence[_Page], vocab: Counter[str], body: float) -> str | None:
    """The metadata title when it is a real one, else the first page's largest type."""
    title = _meta_text(meta.get("Title"))
    if title and len(title.split()) >= 2 and not _JUNK_TITLES.search(title):
        return title
    for page in pages[:2]:
        boxes = [b for b in page.blocks if b.table is None and _REAL_WORD_RE.search(b.raw)]
        if not boxes:
            continue
        biggest = max(b.size for b in boxes)
        if biggest < 1.2 * body:
            continue
        top = next(b for b in boxes if b.size >= biggest - 0.5)  # the first box set in the largest type
        text = " ".join(" ".join(_paragraphs(top, vocab)).split())
        if 3 <= len(text) <= 250:
            return text
    return None


def _pdf_date(meta: dict[str, Any]) -> date | None:
    """The PDF's creation date (``D:20200211170950+01'00'``)."""
    raw = _meta_text(meta.get("CreationDate")) or ""
    m = re.match(r"(?:D:)?((?:19|20)\d\d)(\d\d)(\d\d)", raw)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
