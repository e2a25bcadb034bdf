"""Uploaded bulletin files into the corpus folder: confined names, a size cap, a parse check, atomic writes.

The HTTP API and the chat both take files from people (browsers, scripts), so both
go through here: the same names are refused for the same reasons, and a bad file
never stops the rest of a batch. Each refusal is a :class:`BulletinFailure`
(``path`` = the name as sent, ``reason`` in French); each accepted file is written
under the corpus root only, in one atomic rename, and only after it parsed. The
other way, :func:`original_file` hands back a bulletin's file only from inside that root.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import BulletinError
from .loading import SUFFIXES, parse_bulletin
from .models import Bulletin, BulletinFailure

#: Extensions accepted for upload: every format the loader reads.
UPLOAD_SUFFIXES: tuple[str, ...] = tuple(SUFFIXES)
#: Longest accepted file name, in UTF-8 bytes (file systems allow 255; room for the temporary prefix).
MAX_NAME_BYTES = 200

#: ``(stage, done, total)``, as :data:`assistant.ingest.ProgressFn`; uploads report the stage ``"reading"``.
ProgressFn = Callable[[str, int, int], None]

_NAME_HINT = (
    "Un nom simple, sans dossier, sans « .. » ni caractère de contrôle, ne commençant pas par un point "
    "(ex. bulletin-2026-01.pdf) : les fichiers vont à la racine du corpus."
)


def safe_filename(raw: str | None) -> str:
    """``raw`` if it is a plain basename with an allowed extension, else :class:`BulletinError`.

    Anything that could name another place or hide a file (separators, ``..``, NUL,
    control characters, a leading dot) is refused rather than rewritten, so the
    name in the report is exactly the name written.
    """
    name = raw or ""
    if (
        not name
        or name.startswith(".")
        or name != name.strip()
        or any(c in name for c in "/\\\x00")
        or any(unicodedata.category(c) in ("Cc", "Cs") for c in name)
        or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES
    ):
        raise BulletinError(name[:120], "nom de fichier refusé", hint=_NAME_HINT)
    if PurePosixPath(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise BulletinError(
            name, "type de fichier refusé", hint="Formats acceptés : " + ", ".join(UPLOAD_SUFFIXES) + "."
        )
    return name


def check_size(name: str, size: int, max_bytes: int) -> None:
    """Refuse a file over ``max_bytes`` before reading it (PDF parsing of a huge file is slow)."""
    if size > max_bytes:
        raise BulletinError(
            name,
            f"fichier trop volumineux ({size} octets, limite {max_bytes})",
            hint="Découpez-le, ou relevez ASSISTANT_MAX_FILE_BYTES.",
        )


def failure_reason(exc: BulletinError) -> str:
    """The reason and its hint as one French sentence (what the report and the chat show)."""
    return f"{exc.reason}. {exc.hint}" if exc.hint else exc.reason


def store_uploads(
    root: Path,
    files: Sequence[tuple[str, bytes]],
    *,
    max_bytes: int,
    max_pages: int,
    on_progress: ProgressFn | None = None,
) -> tuple[list[Path], list[BulletinFailure]]:
    """:func:`stage_uploads` without the parsed bulletins: (paths written, failures)."""
    staged = stage_uploads(root, files, max_bytes=max_bytes, max_pages=max_pages, on_progress=on_progress)
    return staged.written, staged.failures


@dataclass(frozen=True, slots=True)
class Staged:
    """What :func:`stage_uploads` did: files written, files refused, and the bulletins parsed to check them
    (handed to the ingest so that a PDF is not parsed a second time)."""

    written: list[Path]
    failures: list[BulletinFailure]
    parsed: dict[Path, Bulletin]


def stage_uploads(
    root: Path,
    files: Sequence[tuple[str, bytes]],
    *,
    max_bytes: int,
    max_pages: int,
    on_progress: ProgressFn | None = None,
) -> Staged:
    """Check every file, then write each good one atomically under ``root``.

    Returns the paths to ingest and one failure per refused file (bad name, same
    name twice, too big, unreadable); a refused file writes nothing, the others
    still go in. A file whose bytes are already on disk is not rewritten (its
    ingest reports it unchanged); another version under the same name replaces it.
    """
    root = Path(root)
    prefix = root.resolve().name if root.exists() else root.name
    good: list[tuple[str, bytes, Bulletin]] = []
    failures: list[BulletinFailure] = []
    seen: set[str] = set()
    for i, (raw, data) in enumerate(files, start=1):
        try:
            name = safe_filename(raw)
            if name in seen:
                raise BulletinError(name, "fichier envoyé deux fois", hint="Seul le premier exemplaire est pris.")
            seen.add(name)
            check_size(name, len(data), max_bytes)
            fmt = SUFFIXES[PurePosixPath(name).suffix.lower()]
            bulletin = parse_bulletin(data, f"{prefix}/{name}", fmt=fmt, max_pages=max_pages)
        except BulletinError as exc:
            failures.append(BulletinFailure(path=raw or "", reason=failure_reason(exc)))
        else:
            good.append((name, data, bulletin))
        if on_progress:
            on_progress("reading", i, len(files))
    written: list[Path] = []
    parsed: dict[Path, Bulletin] = {}
    for name, data, bulletin in good:
        try:
            dest = _write(root, name, data)
            written.append(dest)
            parsed[dest.resolve()] = bulletin
        except BulletinError as exc:
            failures.append(BulletinFailure(path=name, reason=failure_reason(exc)))
        except OSError as exc:
            reason = f"écriture impossible dans le corpus ({exc.strerror or type(exc).__name__})"
            failures.append(BulletinFailure(path=name, reason=reason))
    return Staged(written, failures, parsed)


def _write(root: Path, name: str, data: bytes) -> Path:
    """``root/name`` holding ``data``, replaced in one rename (a reader never sees half a file)."""
    root.mkdir(parents=True, exist_ok=True)
    dest = root / name
    if dest.parent != root or dest.name != name:  # belt and braces: safe_filename already refused it
        raise BulletinError(name, "nom de fichier refusé", hint=_NAME_HINT)
    if dest.is_file() and not dest.is_symlink() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
        return dest  # same bytes: nothing to change
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-", suffix=".part")  # hidden: never ingested
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return dest


def original_file(bulletin: Bulletin, root: Path) -> Path | None:
    """The bulletin's original file, only if it resolves (symlinks included) to a file inside ``root``.

    The stored ``path`` is whatever was ingested, from anywhere (CLI, Python API):
    serving it as is could hand out any readable file on the server.
    """
    if not bulletin.path:
        return None
    try:
        real = Path(bulletin.path).resolve(strict=True)
        inside = real.is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError, ValueError):
        return None
    return real if inside and real.is_file() else None


def admin_unlocked(given: str | None, admin_key: str | None) -> bool:
    """Whether ``given`` is the configured admin key; never true when no key is configured.

    Both sides are hashed first so that :func:`hmac.compare_digest` compares equal
    lengths and accepts any text (it refuses non-ASCII ``str``).
    """
    if not admin_key or not given:
        return False
    digest = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(digest, hashlib.sha256(admin_key.encode("utf-8", "surrogatepass")).digest())


__all__ = [
    "MAX_NAME_BYTES",
    "UPLOAD_SUFFIXES",
    "admin_unlocked",
    "check_size",
    "failure_reason",
    "safe_filename",
    "store_uploads",
]
