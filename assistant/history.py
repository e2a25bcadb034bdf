"""Conversations kept server-side: a small SQLite file in the data dir.

The staff chat binds a browser tab to a conversation by a URL parameter (``?c=<id>``); this module
is everything behind it: create a conversation on its first question, append turns (the question and
the full :class:`~assistant.models.Answer` JSON), list past conversations, read one back as
``Answer`` objects, rename, delete, and export as Markdown (answers with their sources) or as CSV
(one row per cited figure).

One SQLite connection per call (WAL mode, busy timeout), so any number of Streamlit sessions
(threads) and other processes may use the same file. Every failure is a :class:`HistoryError`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from pydantic import ValidationError

from .errors import HistoryError
from .models import Answer
from .presentation import format_date_fr, format_datetime_fr

FILENAME = "conversations.sqlite3"
#: Titles are the first question, shortened; a rename is capped the same way.
MAX_TITLE_CHARS = 120
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_HINT = (
    "L'historique des conversations est dans le dossier de données (ASSISTANT_DATA_DIR) : "
    "vérifiez qu'il est accessible en écriture."
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    turn_id TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    time TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position)
);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated);
"""


def valid_id(value: object) -> bool:
    """Whether ``value`` looks like a conversation id (checked before any URL parameter is used)."""
    return isinstance(value, str) and bool(_ID_RE.match(value))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def short_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """One line, at most ``limit`` characters (cut on a word, with « … »)."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] or line[: limit - 1]
    return cut.rstrip(" ,;:") + "…"


def local_label(value: str, zone: str | tzinfo | None = None) -> str:
    """'29 janvier 2026 à 14:05' in the given time zone (no « UTC »: staff read their own clock)."""
    return format_datetime_fr(value, zone)


@dataclass(frozen=True, slots=True)
class ConversationInfo:
    """One line of the conversation list."""

    id: str
    title: str
    created: str
    updated: str
    turns: int


@dataclass(frozen=True, slots=True)
class StoredTurn:
    position: int
    turn_id: str
    question: str
    answer: Answer
    time: str


@dataclass(frozen=True, slots=True)
class Conversation:
    info: ConversationInfo
    turns: list[StoredTurn]


class HistoryStore:
    """The conversations file. Cheap to build; every method opens its own short connection."""

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"Historique des conversations inaccessible ({exc}).", hint=_HINT) from exc

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> HistoryStore:
        return cls(Path(data_dir) / FILENAME)

    # -- plumbing -----------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
            con.execute("PRAGMA foreign_keys=ON")
            yield con
        finally:
            con.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken up front (BEGIN IMMEDIATE): positions never collide."""
        try:
            with self._connect() as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
        except sqlite3.Error as exc:
            raise HistoryError(f"Historique des conversations : écriture impossible ({exc}).", hint=_HINT) from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._connect() as con:
                yield con
        except sqlite3.Error as exc:
            raise HistoryError(f"Historique des conversations : lecture impossible ({exc}).", hint=_HINT) from exc

    # -- operations ---------------------------------------------------------

    def create(self, title: str) -> str:
        """A new, empty conversation titled ``title`` (the first question); returns its id."""
        conversation_id = secrets.token_urlsafe(12)
        now = _now()
        with self._write() as con:
            con.execute(
                "INSERT INTO conversations (id, title, created, updated) VALUES (?, ?, ?, ?)",
                (conversation_id, short_title(title) or "Conversation", now, now),
            )
        return conversation_id

    def add_turn(self, conversation_id: str, question: str, answer: Answer, *, turn_id: str | None = None) -> int:
        """Append one turn; returns its position (0 for the first). Unknown conversation: HistoryError."""
        payload = json.dumps(answer.model_dump(mode="json"), ensure_ascii=False)
        now = _now()
        with self._write() as con:
            if con.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
                raise HistoryError(
                    "Conversation introuvable : elle a peut-être été supprimée.",
                    hint="Commencez une nouvelle conversation.",
                )
            (position,) = con.execute(
                "SELECT COALESCE(MAX(position) + 1, 0) FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
            con.execute(
                "INSERT INTO turns (conversation_id, position, turn_id, question, answer, time) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, position, turn_id or secrets.token_hex(16), question, payload, now),
            )
            con.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return int(position)

    def list_conversations(self, limit: int = 50) -> list[ConversationInfo]:
        """Conversations, most recently used first, with their turn counts."""
        with self._read() as con:
            rows = con.execute(
                "SELECT c.id, c.title, c.created, c.updated, "
                "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) "
                "FROM conversations c ORDER BY c.updated DESC, c.created DESC, c.rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [ConversationInfo(*row) for row in rows]

    def info(self, conversation_id: str) -> ConversationInfo | None:
        if not valid_id(conversation_id):
            return None
        with self._read() as con:
            row = con.execute(
                "SELECT c.id, c.title, c.created, c.updated, "
                "(SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id) FROM conversations c WHERE c.id = ?",
                (conversation_id,),
            ).fetchone()
        return ConversationInfo(*row) if row else None

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with its turns in order, answers as ``Answer`` objects; None if unknown."""
        if not valid_id(conversation_id):
            return None
        with self._read() as con:
            con.execute("BEGIN")  # one snapshot for both queries
            row = con.execute(
                "SELECT id, title, created, updated FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                return None
            rows = con.execute(
                "SELECT position, turn_id, question, answer, time FROM turns "
                "WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
            con.execute("COMMIT")
        turns: list[StoredTurn] = []
        for position, turn_id, question, payload, time in rows:
            try:
                answer = Answer.model_validate(json.loads(payload))
            except (ValueError, ValidationError):
                continue  # written by an incompatible version: skipped rather than breaking the whole list
            turns.append(StoredTurn(position, turn_id, question, answer, time))
        return Conversation(ConversationInfo(*row, turns=len(turns)), turns)

    def rename(self, conversation_id: str, title: str) -> str:
        """Give the conversation a new title (one line, shortened); returns it."""
        clean = short_title(title)
        if not clean:
            raise HistoryError("Le titre est vide.", hint="Tapez un titre, par exemple « Assurés MES 2026 ».")
        with self._write() as con:
            done = con.execute("UPDATE conversations SET title = ? WHERE id = ?", (clean, conversation_id)).rowcount
        if not done:
            raise HistoryError("Conversation introuvable : elle a peut-être été supprimée.")
        return clean

    def delete(self, conversation_id: str) -> bool:
        """Remove the conversation and its turns; False if it did not exist."""
        if not valid_id(conversation_id):
            return False
        with self._write() as con:
            con.execute("DELETE FROM turns WHERE conversation_id = ?", (conversation_id,))
            return bool(con.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount)

    # -- export -------------------------------------------------------------

    def _require(self, conversation_id: str) -> Conversation:
        conversation = self.get(conversation_id)
        if conversation is None:
            raise HistoryError("Conversation introuvable : elle a peut-être été supprimée.")
        return conversation

    def export_markdown(self, conversation_id: str, zone: str | tzinfo | None = None) -> str:
        return conversation_markdown(self._require(conversation_id), zone)

    def export_csv(self, conversation_id: str) -> str:
        return figures_csv(self._require(conversation_id))


# --------------------------------------------------------------------------
# Export formats (pure)
# --------------------------------------------------------------------------


def source_line(title: str, date: str | None, page: int | None) -> str:
    """'Titre · 29 janvier 2026 · p. 3' (date and page only when known)."""
    parts = [title]
    if date:
        parts.append(format_date_fr(date))
    if page:
        parts.append(f"p. {page}")
    return " · ".join(parts)


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in f"« {text.strip()} »".splitlines())


def conversation_markdown(conversation: Conversation, zone: str | tzinfo | None = None) -> str:
    """Each question, the answer text, then its numbered sources (title · date · p. N, file, quote)."""
    info = conversation.info
    lines = [f"# {info.title}", "", f"Conversation du {local_label(info.created, zone)}.", ""]
    for n, turn in enumerate(conversation.turns, 1):
        answer = turn.answer
        lines += [f"## {n}. {' '.join(turn.question.split())}", "", answer.answer.strip(), ""]
        if answer.computation is not None:
            lines += [f"Calcul : {answer.computation.expression} = {answer.computation.result_text}", ""]
        sources = answer.citations or (answer.suggestions if answer.abstained else [])
        if sources:
            lines += ["**Sources**" if answer.citations else "**Peut-être utile**", ""]
            for c in sources:
                lines.append(f"[{c.id}] {source_line(c.title, c.date, c.page)} — {c.source}")
                lines += ["", _quoted(c.quote), ""]
    return "\n".join(lines).rstrip() + "\n"


CSV_COLUMNS = ("question", "chiffre", "valeur", "unité", "type", "source", "titre", "date", "page", "citation")


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def figures_csv(conversation: Conversation) -> str:
    """One row per figure of every answer: question, figure text, value, unit, kind, its source and quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for turn in conversation.turns:
        cited = {c.id: c for c in turn.answer.citations}
        for figure in turn.answer.figures:
            c = cited.get(figure.citation)
            writer.writerow(
                [
                    turn.question,
                    figure.text,
                    _number(figure.value),
                    figure.unit or "",
                    figure.kind,
                    c.source if c else "",
                    c.title if c else "",
                    (c.date or "") if c else "",
                    (c.page or "") if c else "",
                    c.quote if c else "",
                ]
            )
    return out.getvalue()


def export_filename(info: ConversationInfo, suffix: str) -> str:
    """'conversation-2026-01-29-combien-d-assures.md': ASCII only, safe in any download folder."""
    ascii_title = unicodedata.normalize("NFKD", info.title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:40].rstrip("-") or "conversation"
    return f"conversation-{info.created[:10]}-{slug}.{suffix.lstrip('.')}"
