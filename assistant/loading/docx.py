"""Word bulletins (``.docx``): body text in document order, headings and lists written the way
our Markdown bulletins write them, tables as pipe tables.

A ``.docx`` is a zip of XML parts. The archive is checked with :mod:`zipfile` before python-docx
sees it, so that a zip bomb, an old ``.doc`` or a renamed zip is refused with a clear reason
instead of an exception from deep inside the library. Word has no fixed pages: ``page_starts``
stays empty and citations carry no page.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import docx as python_docx  # the python-docx package (absolute import, not this module)
from docx.oxml.ns import nsmap, qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from ..errors import BulletinError
from ..models import Bulletin
from .metadata import clean_title, date_from_name, date_from_text
from .text import normalise

#: The main part's size once uncompressed: a 20 MB file can inflate to gigabytes (zip bomb).
MAX_DOCUMENT_XML = 50_000_000
#: All parts together: python-docx reads every related part (images too) into memory.
MAX_UNCOMPRESSED = 200_000_000
#: First paragraph longer than this is a sentence, not a title: the file name says more.
MAX_TITLE_SENTENCE = 120

_MAIN_PART = "word/document.xml"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # compound file: Word 97-2003 .doc, or an encrypted .docx
_WORD_HINT = "Ouvrez-le dans Word ou LibreOffice et enregistrez-le au format .docx."

# Visible text of a paragraph: runs anywhere inside it (hyperlinks, tracked insertions, content
# controls, simple fields), except text boxes (python-docx skips them too) and the fallback copy
# of drawings (mc:Fallback repeats mc:Choice). Deleted text is w:delText, so never matched.
_RUN_TEXT = etree.XPath(
    ".//w:r[not(ancestor::w:txbxContent) and not(ancestor::mc:Fallback)]"
    "/*[self::w:t or self::w:tab or self::w:br or self::w:cr or self::w:noBreakHyphen]",
    namespaces={"w": nsmap["w"], "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006"},
)
_NUM_ID = etree.XPath("./w:pPr/w:numPr/w:numId/@w:val", namespaces={"w": nsmap["w"]})
_HEADING_RE = re.compile(r"^(?:heading|titre)\s*(\d)?|^title$", re.I)
_LIST_RE = re.compile(r"^list[e]?\b", re.I)
# Titles left by templates and converters rather than written by someone.
_JUNK_TITLE_RE = re.compile(
    r"^(?:\W*|microsoft word\b.*|word document|document\s*\d*|doc\d+|untitled.*|sans titre.*|titre|title"
    r"|.*\.(?:docx?|dotx?|odt|rtf|pdf))$",
    re.I,
)
# Authors left by templates and generators, not a bulletin's source.
_JUNK_AUTHORS = {
    "python-docx", "user", "utilisateur", "author", "auteur", "admin", "administrateur",
    "windows user", "utilisateur windows", "microsoft office user", "utilisateur de microsoft office",
}  # fmt: skip
# python-docx's default template was created at this instant: it says nothing about a bulletin.
_TEMPLATE_CREATED = datetime(2013, 12, 23, 23, 15)


def parse_docx(raw: bytes, bulletin_id: str, *, path: str | None = None) -> Bulletin:
    """Parse the bytes of a ``.docx`` bulletin.

    Whatever the bytes, the only exception raised is :class:`BulletinError`, with the reason in
    French: the ingest reports it and goes on with the other files.
    """
    _check_archive(raw, bulletin_id)
    try:
        document = python_docx.Document(io.BytesIO(raw))
        blocks = _body_blocks(document)
    except etree.XMLSyntaxError as exc:
        raise BulletinError(
            bulletin_id,
            f"XML du document Word invalide (ligne {exc.lineno})",
            hint="Le fichier est sans doute endommagé. " + _WORD_HINT,
        ) from None
    except Exception as exc:  # python-docx and lxml raise many types on damaged packages
        raise BulletinError(
            bulletin_id, f"document Word illisible ({exc.__class__.__name__})", hint=_WORD_HINT
        ) from None
    text = normalise("\n\n".join(b for _, b in blocks) + "\n")
    if not text.strip():
        raise BulletinError(
            bulletin_id,
            "aucun texte lisible",
            hint="Le document ne contient sans doute que des images ou des zones de texte, qui ne sont pas lues.",
        )
    meta_title, author, created = _core_properties(document)
    stem = Path(bulletin_id).stem
    return Bulletin(
        id=bulletin_id,
        title=_title(normalise(meta_title), blocks, stem),
        text=text,
        date=date_from_text(text) or date_from_name(bulletin_id) or _created(created),
        path=path or bulletin_id,
        source=_source(author),
        content_hash=hashlib.sha256(raw).hexdigest(),
        tables=sum(kind == "table" for kind, _ in blocks),
    )


def _check_archive(raw: bytes, bulletin_id: str) -> None:
    """Refuse what python-docx should never be given, each with its own reason."""
    if not raw.strip():
        raise BulletinError(bulletin_id, "fichier vide")
    if raw.startswith(_OLE_MAGIC):
        raise BulletinError(
            bulletin_id,
            "document protégé par mot de passe ou ancien format .doc",
            hint="Retirez le mot de passe, ou enregistrez-le au format .docx depuis Word ou LibreOffice.",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except Exception:  # BadZipFile mostly; damaged headers raise others too
        raise BulletinError(bulletin_id, "fichier .docx illisible (pas une archive Office)", hint=_WORD_HINT) from None
    main = next((i for i in infos if i.filename == _MAIN_PART), None)
    if main is None:
        raise BulletinError(
            bulletin_id, "archive sans document Word", hint="Ce n'est pas un document Word : vérifiez son extension."
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise BulletinError(bulletin_id, "archive .docx chiffrée", hint="Retirez le mot de passe. " + _WORD_HINT)
    if main.file_size > MAX_DOCUMENT_XML:
        raise BulletinError(
            bulletin_id,
            f"document Word trop volumineux une fois décompressé ({main.file_size} octets, limite {MAX_DOCUMENT_XML})",
            hint="Découpez le document.",
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED:
        raise BulletinError(
            bulletin_id,
            f"archive .docx trop volumineuse une fois décompressée ({total} octets, limite {MAX_UNCOMPRESSED})",
            hint="Réduisez les images du document ou découpez-le.",
        )


def _body_blocks(document: Any) -> list[tuple[str, str]]:
    """The body's non-empty blocks in document order, as (kind, text): kind is "heading",
    "list", "paragraph" or "table" (the title is looked for by kind)."""
    body = document._body  # python-docx's block container: paragraph styles resolve through it
    blocks: list[tuple[str, str]] = []
    for element in _block_elements(body._element):
        if element.tag == qn("w:p"):
            kind, block = _paragraph_block(Paragraph(element, body))
        else:
            kind, block = "table", _table_block(Table(element, body))
        if block:
            blocks.append((kind, block))
    return blocks


def _block_elements(container: Any) -> Iterator[Any]:
    """``w:p`` and ``w:tbl`` children in order, looking inside content controls (``w:sdt``) and
    custom XML wrappers, whose text python-docx's own iteration skips."""
    for child in container.iterchildren():
        if child.tag in (qn("w:p"), qn("w:tbl")):
            yield child
        elif child.tag == qn("w:sdt"):
            for content in child.iterchildren(qn("w:sdtContent")):
                yield from _block_elements(content)
        elif child.tag == qn("w:customXml"):
            yield from _block_elements(child)


def _lines(p_element: Any) -> list[str]:
    """A paragraph's text, one entry per line (soft line breaks kept), whitespace collapsed."""
    parts: list[str] = []
    for node in _RUN_TEXT(p_element):
        tag = etree.QName(node).localname
        if tag == "t":
            parts.append(node.text or "")
        elif tag == "tab":
            parts.append("\t")
        elif tag == "noBreakHyphen":
            parts.append("-")
        else:  # br, cr
            parts.append("\n")
    text = normalise("".join(parts))
    return [line for line in (" ".join(raw.split()) for raw in text.split("\n")) if line]


def _paragraph_block(paragraph: Paragraph) -> tuple[str, str]:
    """(kind, text): headings as "# ..." by level, list items as "- ..." (as in our Markdown)."""
    lines = _lines(paragraph._p)
    if not lines:
        return "paragraph", ""
    style = _style_name(paragraph)
    heading = _HEADING_RE.match(style)
    if heading:
        level = min(int(heading.group(1) or 1) or 1, 6)
        return "heading", "#" * level + " " + " ".join(lines)
    if _LIST_RE.match(style) or any(v != "0" for v in _NUM_ID(paragraph._p)):
        return "list", "- " + " ".join(lines)
    return "paragraph", "\n".join(lines)


def _style_name(paragraph: Paragraph) -> str:
    """Style name in English for built-in styles ("Heading 1" even in a French Word)."""
    try:
        return (paragraph.style.name or "") if paragraph.style is not None else ""
    except Exception:  # a broken styles part: the text still counts, as a plain paragraph
        return ""


def _table_block(table: Table) -> str:
    """A pipe table, first row as header; empty rows and empty tables are dropped."""
    rows = [cells for cells in (_row_cells(table, row) for row in table.rows) if any(cells)]
    if not rows:
        return ""
    header, *body = rows
    lines = [_pipe(header), _pipe(["---"] * len(header))] + [_pipe(cells) for cells in body]
    return "\n".join(lines)


def _pipe(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _row_cells(table: Table, row: Any) -> list[str]:
    """Cell texts of one row, a cell spanning several columns written once."""
    try:
        cells: list[_Cell] = list(row.cells)
    except Exception:  # inconsistent merges (e.g. a vertical merge in the first row)
        cells = [_Cell(tc, table) for tc in row._tr.tc_lst]
    seen: list[Any] = []
    texts: list[str] = []
    for cell in cells:
        if any(cell._tc is tc for tc in seen):
            continue
        seen.append(cell._tc)
        texts.append(_cell_text(cell._tc))
    return texts


def _cell_text(tc: Any) -> str:
    """All text of a cell on one line, nested tables flattened into it; ``|`` would break the row."""
    words: list[str] = []
    for element in _block_elements(tc):
        if element.tag == qn("w:p"):
            words += _lines(element)
        else:
            for tr in element.iterchildren(qn("w:tr")):
                words += [_cell_text(inner) for inner in tr.iterchildren(qn("w:tc"))]
    return " ".join(" ".join(words).split()).replace("|", "/")


def _core_properties(document: Any) -> tuple[str, str | None, datetime | None]:
    """Title, author and creation time from ``docProps/core.xml``; a damaged one costs only them."""
    try:
        props = document.core_properties
        return props.title or "", props.author, props.created
    except Exception:  # metadata are optional: the body was read, keep it
        return "", None, None


def _title(meta_title: str, blocks: list[tuple[str, str]], stem: str) -> str:
    """Document property if someone wrote it, else the first heading, else a short first
    paragraph, else the file name."""
    meta_title = " ".join(meta_title.split())
    if meta_title and not _JUNK_TITLE_RE.match(meta_title):
        return clean_title(meta_title)
    heading = next((b for kind, b in blocks if kind == "heading"), None)
    if heading:
        return clean_title(heading.lstrip("#").strip())
    first = next((b for kind, b in blocks if kind == "paragraph"), "").split("\n")[0]
    if first and len(first) <= MAX_TITLE_SENTENCE:
        return clean_title(first)
    return clean_title(stem)


def _source(author: str | None) -> str | None:
    author = " ".join(normalise(author or "").split())
    return author if author and author.lower() not in _JUNK_AUTHORS else None


def _created(created: datetime | None) -> date | None:
    """Creation date, last resort: copies of a template keep the template's date."""
    if created is None or created.replace(tzinfo=None) == _TEMPLATE_CREATED:
        return None
    return created.date()
