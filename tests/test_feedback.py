"""Unit tests for assistant.feedback: record shape and concurrent JSONL appends."""

from __future__ import annotations

import json
import multiprocessing
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.feedback import (
    MAX_COMMENT_CHARS,
    FeedbackError,
    append_feedback,
    feedback_record,
    read_feedback,
    record_feedback,
    verdict_from_thumbs,
)
from assistant.models import Answer


def answer() -> Answer:
    return Answer(question="Combien ?", answer="24 millions [1].", abstained=False, confidence=0.9)


def test_verdict_from_thumbs() -> None:
    assert verdict_from_thumbs(1) == "up"
    assert verdict_from_thumbs(0) == "down"
    assert verdict_from_thumbs(None) is None


def test_feedback_record_shape() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    rec = feedback_record("Combien ?", answer(), "up", "  très bien \u2028 ", turn_id="t1", now=now)
    assert rec == {
        "time": "2026-01-02T02:04:05+00:00",
        "turn_id": "t1",
        "question": "Combien ?",
        "answer": answer().to_dict(),
        "verdict": "up",
        "comment": "très bien",
    }
    assert feedback_record("q", answer(), "down", "x" * 10_000)["comment"] == "x" * MAX_COMMENT_CHARS
    assert feedback_record("q", answer(), "down")["comment"] == ""
    with pytest.raises(ValueError):
        feedback_record("q", answer(), "meh")  # type: ignore[arg-type]


def test_append_creates_dirs_and_writes_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "feedback.jsonl"
    rec = record_feedback(path, "Q\u2028?", answer(), "down", "ligne1\nligne2", turn_id="t")
    append_feedback(path, {"verdict": "up"})
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert "\u2028" not in lines[0]  # escaped so that str.splitlines() readers do not break the record
    assert json.loads(lines[0]) == rec
    assert read_feedback(path) == [rec, {"verdict": "up"}]
    assert read_feedback(tmp_path / "absent.jsonl") == []


def test_read_skips_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"a": 1}\n{"b": \n\n', encoding="utf-8")
    assert read_feedback(path) == [{"a": 1}]


def test_threads_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    big = "é" * 20_000  # larger than a pipe buffer / typical atomic write

    def worker(n: int) -> None:
        for i in range(15):
            append_feedback(path, {"n": n, "i": i, "pad": big})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = read_feedback(path)
    assert len(records) == 90
    assert sorted((r["n"], r["i"]) for r in records) == [(n, i) for n in range(6) for i in range(15)]


def _proc_worker(path: str, n: int) -> None:
    for i in range(10):
        append_feedback(path, {"proc": n, "i": i, "pad": "x" * 50_000})


def test_processes_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_proc_worker, args=(str(path), n)) for n in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    records = read_feedback(path)
    assert sorted((r["proc"], r["i"]) for r in records) == [(n, i) for n in range(3) for i in range(10)]


def test_unwritable_path_raises_feedback_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(FeedbackError) as info:
        append_feedback(blocker / "feedback.jsonl", {"a": 1})
    assert info.value.hint


def test_same_verdict_and_comment_twice_writes_one_record(tmp_path: Path) -> None:
    path = tmp_path / "fb.jsonl"
    first = record_feedback(path, "Q ?", answer(), "down", "faux", turn_id="t1")
    again = record_feedback(path, "Q ?", answer(), "down", " faux ", turn_id="t1")  # same once trimmed
    assert again == first and len(read_feedback(path)) == 1
    record_feedback(path, "Q ?", answer(), "down", "faux, c'est 25 millions", turn_id="t1")  # a new comment
    record_feedback(path, "Q ?", answer(), "up", None, turn_id="t2")
    assert len(read_feedback(path)) == 3


def test_summary_counts_each_turn_once(tmp_path: Path) -> None:
    from assistant.feedback import summarise_feedback

    path = tmp_path / "fb.jsonl"
    record_feedback(path, "Q1 ?", answer(), "down", None, turn_id="t1")
    record_feedback(path, "Q1 ?", answer(), "up", "finalement juste", turn_id="t1")  # changed mind
    record_feedback(path, "Q2 ?", answer(), "down", "mauvais bulletin", turn_id="t2")
    summary = summarise_feedback(path)
    assert (summary.up, summary.down, summary.turns) == (1, 1, 2)
    assert [c["comment"] for c in summary.comments] == ["mauvais bulletin", "finalement juste"]
    assert summarise_feedback(tmp_path / "none.jsonl").turns == 0
