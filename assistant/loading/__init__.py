"""Bulletin loading: files on disk -> :class:`~assistant.models.Bulletin`, one module per format.

``text`` reads ``.txt``, ``.md`` and ``.html``; ``pdf`` and ``docx`` read office formats into the
same model (PDFs keep their page starts, so citations can give a page). ``metadata`` holds what
every format shares: dates and titles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import BulletinError, MissingPathError
from ..models import Bulletin
from .metadata import MONTHS, date_from_name, date_from_text
from .text import decode, parse_text

#: File suffix -> format name.
SUFFIXES = {
    ".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx",
}  # fmt: skip

__all__ = [
    "MONTHS",
    "SUFFIXES",
    "SourceFile",
    "date_from_name",
    "date_from_text",
    "decode",
    "discover",
    "iter_bulletins",
    "load_file",
    "parse_bulletin",
]


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


def load_file(source: SourceFile, *, max_bytes: int = 20_000_000, max_pages: int = 150) -> Bulletin:
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
    fmt = SUFFIXES.get(path.suffix.lower(), "txt")
    return parse_bulletin(raw, source.bulletin_id, fmt=fmt, path=str(path), max_pages=max_pages)


def parse_bulletin(
    raw: bytes, bulletin_id: str, *, fmt: str = "txt", path: str | None = None, max_pages: int = 150
) -> Bulletin:
    """Parse the bytes of a bulletin in format ``fmt`` (a value of :data:`SUFFIXES`).

    Any file that cannot be read raises :class:`BulletinError` with the reason, never
    anything else: callers report it and go on with the other files.
    """
    if fmt == "pdf":
        from .pdf import parse_pdf  # pdfminer is imported only when a PDF comes

        return parse_pdf(raw, bulletin_id, path=path, max_pages=max_pages)
    if fmt == "docx":
        from .docx import parse_docx

        return parse_docx(raw, bulletin_id, path=path)
    return parse_text(raw, bulletin_id, fmt=fmt, path=path)


def iter_bulletins(
    files: Iterable[SourceFile],
    *,
    max_bytes: int,
    max_pages: int = 150,
    parsed: Mapping[Path, Bulletin] | None = None,
) -> Iterator[Bulletin | BulletinError]:
    """Load each file; a failure is yielded, not raised, so one bad file stops nothing.

    ``parsed`` holds bulletins already read from these exact bytes (an upload is parsed to be
    checked before it is written): they are used as they are, under the file's own id and path.
    """
    for sf in files:
        known = parsed.get(sf.path) if parsed else None
        if known is not None:
            yield dataclasses.replace(known, id=sf.bulletin_id, path=str(sf.path))
            continue
        try:
            yield load_file(sf, max_bytes=max_bytes, max_pages=max_pages)
        except BulletinError as exc:
            yield exc
