"""Text bulletins: ``.txt`` (title = first non-empty line), ``.md`` with optional YAML
front matter (title, date, source, url) and ``.html`` (title and date from its meta tags)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import frontmatter
from bs4 import BeautifulSoup

from ..errors import BulletinError
from ..models import Bulletin
from .metadata import as_date, clean_title, date_from_name, date_from_text, first_line

# Control characters other than tab / newline have no place in a bulletin, nor lone
# surrogates (parsing can create them): they cannot be encoded, so Chroma would fail.
_UNSAFE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _safe(text: str) -> str:
    """Parsed text without control characters, same length (offsets stay valid).

    The raw file is cleaned by :func:`decode`, but parsing can create them again:
    YAML escapes (``title: "a\\0b"`` is a NUL) and HTML references (``&#1;``).
    """
    return _UNSAFE_RE.sub(" ", text)


def normalise(text: str) -> str:
    """Text as every format stores it: NFC, ``\\n`` line ends, no control characters.

    Shared so that a bulletin reads the same whichever format it came in (a figure
    typed with a decomposed accent or a ``\\r\\n`` still matches the question's words).
    """
    return _safe(unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")))


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
    text = normalise(text)
    if not text.strip():
        raise BulletinError(path, "fichier vide")
    return text


def parse_text(raw: bytes, bulletin_id: str, *, fmt: str = "txt", path: str | None = None) -> Bulletin:
    """Parse bytes of a text bulletin in format ``fmt`` (txt, md, html)."""
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
    title = _safe(str(meta.get("title") or "")).strip() or first_line(text) or Path(bulletin_id).stem
    when = as_date(meta.get("date")) or date_from_text(text) or date_from_name(bulletin_id)
    return Bulletin(
        id=bulletin_id,
        title=clean_title(title),
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
