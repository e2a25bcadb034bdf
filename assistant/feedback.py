"""Thumbs up/down from staff, appended to a JSONL file under the data dir.

One line per verdict: ``{time, turn_id, question, answer, verdict, comment}``
where ``answer`` is the full :class:`~assistant.models.Answer` JSON, so a bad
answer can be replayed and analysed later. Appends are serialised by a thread
lock *and* a file lock: several Streamlit sessions (threads) and other
processes (API, CLI) may write the same file without interleaving lines.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from .errors import AssistantError
from .models import Answer

Verdict = Literal["up", "down"]

#: Comments are free text typed by staff; keep the file readable.
MAX_COMMENT_CHARS = 4000

_THREAD_LOCK = threading.Lock()


class FeedbackError(AssistantError):
    """The feedback file cannot be written (permissions, disk full, lock held too long)."""

    http_status = 503


def verdict_from_thumbs(value: int | None) -> Verdict | None:
    """``st.feedback("thumbs")`` gives 0 (down) / 1 (up) / None (no choice)."""
    if value is None:
        return None
    return "up" if int(value) == 1 else "down"


def feedback_record(
    question: str,
    answer: Answer,
    verdict: Verdict,
    comment: str | None = None,
    *,
    turn_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON object stored for one verdict (pure: the time can be given for tests)."""
    if verdict not in ("up", "down"):
        raise ValueError(f"verdict must be 'up' or 'down', not {verdict!r}")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    text = (comment or "").strip()[:MAX_COMMENT_CHARS]
    return {
        "time": moment.isoformat(timespec="seconds"),
        "turn_id": turn_id,
        "question": question,
        "answer": answer.to_dict(),
        "verdict": verdict,
        "comment": text,
    }


def _line(record: Mapping[str, Any]) -> bytes:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    # U+2028/2029 are valid in JSON but split lines for some readers (str.splitlines): escape them.
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return (text + "\n").encode("utf-8")


def append_feedback(path: str | Path, record: Mapping[str, Any], *, timeout: float = 10.0) -> None:
    """Append ``record`` as one JSONL line; safe across threads and processes."""
    path = Path(path)
    data = _line(record)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _THREAD_LOCK, FileLock(str(path) + ".lock", timeout=timeout):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
    except Timeout:
        raise FeedbackError(
            f"Le fichier d'avis {path} est verrouillé.", hint="Réessayez dans quelques secondes."
        ) from None
    except OSError as exc:
        raise FeedbackError(
            f"Impossible d'enregistrer l'avis dans {path} : {exc.strerror or exc}.",
            hint="Vérifiez les droits d'écriture sur ASSISTANT_DATA_DIR.",
        ) from None


def record_feedback(
    path: str | Path,
    question: str,
    answer: Answer,
    verdict: Verdict,
    comment: str | None = None,
    *,
    turn_id: str | None = None,
) -> dict[str, Any]:
    """Build and append one record; returns it (the UI shows a confirmation).

    Idempotent per turn: when the turn's latest record already says the same verdict and comment
    (a button clicked twice, a rerun), nothing is written and that record is returned.
    """
    record = feedback_record(question, answer, verdict, comment, turn_id=turn_id)
    if turn_id is not None:
        last = latest_for_turn(path, turn_id)
        if last is not None and (last.get("verdict"), last.get("comment")) == (record["verdict"], record["comment"]):
            return last
    append_feedback(path, record)
    return record


def latest_for_turn(path: str | Path, turn_id: str) -> dict[str, Any] | None:
    """The last record written for ``turn_id`` (None if there is none)."""
    found = None
    for rec in read_feedback(path):
        if rec.get("turn_id") == turn_id:
            found = rec
    return found


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """What the admin review view shows: counts per verdict, the latest comments."""

    up: int
    down: int
    turns: int
    comments: list[dict[str, Any]]


def summarise_feedback(path: str | Path, *, last: int = 10) -> FeedbackSummary:
    """Counts over each turn's latest verdict (a changed mind counts once), and the last comments."""
    latest: dict[str, dict[str, Any]] = {}
    records = read_feedback(path)
    for i, rec in enumerate(records):
        latest[str(rec.get("turn_id") or f"#{i}")] = rec
    verdicts = [r.get("verdict") for r in latest.values()]
    comments = [
        {"time": r.get("time"), "verdict": r.get("verdict"), "question": r.get("question"), "comment": r["comment"]}
        for r in records
        if r.get("comment")
    ][-last:][::-1]
    return FeedbackSummary(verdicts.count("up"), verdicts.count("down"), len(latest), comments)


def read_feedback(path: str | Path) -> list[dict[str, Any]]:
    """All records of a feedback file (missing file -> empty list); a torn last line is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    out: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out
