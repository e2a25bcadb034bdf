"""Bulletin loading: files on disk -> :class:`~assistant.models.Bulletin`.

Formats: ``.txt`` (title = first non-empty line), ``.md`` with optional YAML
front matter (title, date, source, url) and ``.html``. The date comes from the
front matter / HTML meta, else from the text ("Publié le 3 octobre 2025",
"12 juin 2025 —"), else from the file name (``...-2025-06-12.txt``, ``...-2025-10.md``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup

from .errors import BulletinError, MissingPathError
from .models import Bulletin

SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}

MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = rf"(?P<d>1er|\d{{1,2}})\s+(?P<m>{_MONTH_RE})\s+(?P<y>(?:19|20)\d\d)"
# "Publié le 3 octobre 2025", "Mis à jour le ...", "Paris, le 3 octobre 2025"
_PUBLISHED_RE = re.compile(rf"(?:publi[ée]e?|mis[e]? à jour|diffus[ée]e?|paru)\s+le\s+{_DAY_MONTH_YEAR}", re.I)
# A dateline opening a line: "12 juin 2025 —", "12 juin 2025 -", "12 juin 2025 :"
_DATELINE_RE = re.compile(rf"^\s*(?:[A-ZÉ][\w\-]+,\s*(?:le\s+)?)?{_DAY_MONTH_YEAR}\s*[—–:\-]", re.I | re.M)
_FILENAME_DATE_RE = re.compile(r"((?:19|20)\d\d)[-_.](0[1-9]|1[0-2])(?:[-_.](0[1-9]|[12]\d|3[01]))?(?!\d)")

# Control characters other than tab / newline have no place in a bulletin. After parsing,
# lone surrogates are dropped too (_UNSAFE_RE): they cannot be encoded, so Chroma would fail.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UNSAFE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _safe(text: str) -> str:
    """Parsed text without control characters, same length (offsets stay valid).

    The raw file is cleaned by :func:`decode`, but parsing can create them again:
    YAML escapes (``title: "a\\0b"`` is a NUL) and HTML references (``&#1;``).
    """
    return _UNSAFE_RE.sub(" ", text)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file found under an ingested root, with its stable bulletin id."""

    path: Path
    bulletin_id: str
    root: str  # id prefix of the folder it was found in ("corpus")


def discover(paths: Iterable[str | Path]) -> tuple[list[SourceFile], list[str]]:
    """Files to ingest under ``paths`` and the id prefixes of the folders walked.

    A bulletin's id is its path relative to the *parent* of the ingested folder,
    so ingesting ``corpus/`` from anywhere yields ``corpus/<file>`` ids.
    """
    files: dict[str, SourceFile] = {}
    roots: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise MissingPathError(f"Chemin introuvable : {raw}", hint="Vérifiez le chemin du dossier ou du fichier.")
        path = path.resolve()
        if path.is_dir():
            roots.append(path.name)
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.suffix.lower() in SUFFIXES and not _hidden(file, path):
                    sf = SourceFile(file, file.relative_to(path.parent).as_posix(), path.name)
                    files[sf.bulletin_id] = sf
        else:
            sf = SourceFile(path, f"{path.parent.name}/{path.name}", path.parent.name)
            files[sf.bulletin_id] = sf
    return list(files.values()), roots


def _hidden(file: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in file.relative_to(root).parts)


def decode(raw: bytes, path: str) -> str:
    """Bytes -> normalised text, or a :class:`BulletinError` saying why not."""
    if not raw.strip():
        raise BulletinError(path, "fichier vide")
    if b"\x00" in raw:
        raise BulletinError(path, "fichier binaire (octets nuls)", hint="Seuls les fichiers texte UTF-8 sont acceptés.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BulletinError(
            path,
            f"encodage non UTF-8 (octet invalide en position {exc.start})",
            hint="Réenregistrez le fichier en UTF-8.",
        ) from None
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL_RE.sub(" ", text)
    if not text.strip():
        raise BulletinError(path, "fichier vide")
    return text


def load_file(source: SourceFile, *, max_bytes: int = 5_000_000) -> Bulletin:
    """Read and parse one bulletin file."""
    path = source.path
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise BulletinError(
                source.bulletin_id,
                f"fichier trop volumineux ({size} octets, limite {max_bytes})",
                hint="Découpez-le ou relevez ASSISTANT_MAX_FILE_BYTES.",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise BulletinError(source.bulletin_id, f"lecture impossible ({exc.strerror})") from None
    return parse_bulletin(raw, source.bulletin_id, fmt=SUFFIXES.get(path.suffix.lower(), "txt"), path=str(path))


def parse_bulletin(raw: bytes, bulletin_id: str, *, fmt: str = "txt", path: str | None = None) -> Bulletin:
    """Parse bytes of a bulletin in format ``fmt`` (txt, md, html)."""
    text = decode(raw, bulletin_id)
    meta: dict[str, object] = {}
    if fmt == "md":
        text, meta = _split_front_matter(text, bulletin_id)
    elif fmt == "html":
        text, meta = _html_text(text)
    text = _safe(text)
    meta = {k: _safe(v) if isinstance(v, str) else v for k, v in meta.items()}
    if not text.strip():
        raise BulletinError(bulletin_id, "aucun texte lisible")
    title = _safe(str(meta.get("title") or "")).strip() or _first_line(text) or Path(bulletin_id).stem
    when = _as_date(meta.get("date")) or date_from_text(text) or date_from_name(bulletin_id)
    return Bulletin(
        id=bulletin_id,
        title=_clean_title(title),
        text=text,
        date=when,
        path=path or bulletin_id,
        source=_safe(str(meta["source"])) if meta.get("source") else None,
        url=_safe(str(meta["url"])) if meta.get("url") else None,
        content_hash=hashlib.sha256(raw).hexdigest(),
    )


def _split_front_matter(text: str, bulletin_id: str) -> tuple[str, dict[str, object]]:
    if not text.startswith("---"):
        return text, {}
    try:
        post = frontmatter.loads(text)
    except Exception as exc:  # yaml errors come in several types
        raise BulletinError(bulletin_id, f"en-tête YAML invalide ({exc.__class__.__name__})") from None
    # Keep the body exactly as in the file (frontmatter strips it), so offsets stay meaningful.
    end = text.find("\n---", 3)
    body = text[text.find("\n", end + 4) + 1 :] if end != -1 else post.content
    return body, dict(post.metadata)


_BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "blockquote", "pre", "div", "section", "article")


def _html_text(html: str) -> tuple[str, dict[str, object]]:
    """Readable text of an HTML bulletin: one block per paragraph, scripts dropped."""
    soup = BeautifulSoup(html, "html.parser")
    meta: dict[str, object] = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    for name in ("date", "dc.date", "article:published_time", "pubdate"):
        tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
        if tag and tag.get("content"):
            meta["date"] = str(tag["content"])
            break
    if "date" not in meta:
        time_tag = soup.find("time", attrs={"datetime": True})
        if time_tag:
            meta["date"] = str(time_tag["datetime"])
    for name, key in (("source", "source"), ("author", "source")):
        tag = soup.find("meta", attrs={"name": name})
        if tag and tag.get("content") and key not in meta:
            meta[key] = str(tag["content"])
    for tag in soup(["script", "style", "noscript", "template", "head", "iframe", "object"]):
        tag.decompose()
    body = soup.body or soup
    blocks: list[str] = []
    for el in body.find_all(_BLOCKS):
        if el.find(_BLOCKS):
            continue  # only leaf blocks, so nothing is said twice
        line = " ".join(el.get_text(" ", strip=True).split())
        if el.name == "tr":
            line = (
                "| "
                + " | ".join(" ".join(c.get_text(" ", strip=True).split()) for c in el.find_all(["td", "th"]))
                + " |"
            )
        if line:
            blocks.append(line)
    if not blocks:
        blocks = [" ".join(body.get_text(" ", strip=True).split())]
    if "title" not in meta:
        h1 = soup.find("h1")
        if h1:
            meta["title"] = h1.get_text(" ", strip=True)
    return "\n\n".join(blocks) + "\n", meta


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()
    return ""


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= 200 else title[:199].rstrip() + "…"


def _as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            pass
    return date_from_text(text) or _month_only(text)


def _month_only(text: str) -> date | None:
    m = re.fullmatch(r"((?:19|20)\d\d)-(0[1-9]|1[0-2])", text)
    return date(int(m.group(1)), int(m.group(2)), 1) if m else None


def _make_date(d: str, m: str, y: str) -> date | None:
    try:
        return date(int(y), MONTHS[m.lower()], 1 if d.lower() == "1er" else int(d))
    except (ValueError, KeyError):
        return None


def date_from_text(text: str) -> date | None:
    """Publication date stated in the text ("Publié le 3 octobre 2025", "12 juin 2025 —")."""
    head = text[:3000]
    for rx in (_PUBLISHED_RE, _DATELINE_RE):
        m = rx.search(head)
        if m:
            found = _make_date(m.group("d"), m.group("m"), m.group("y"))
            if found:
                return found
    return None


def date_from_name(name: str) -> date | None:
    """Date in a file name: ``2025-06-12`` or ``2025-10`` (first of the month)."""
    found = list(_FILENAME_DATE_RE.finditer(Path(name).name))
    if not found:
        return None
    m = found[-1]  # the last date in the name is the bulletin's own
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        return None


def iter_bulletins(files: Iterable[SourceFile], *, max_bytes: int) -> Iterator[Bulletin | BulletinError]:
    """Load each file; a failure is yielded, not raised, so one bad file stops nothing."""
    for sf in files:
        try:
            yield load_file(sf, max_bytes=max_bytes)
        except BulletinError as exc:
            yield exc
