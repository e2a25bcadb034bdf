"""assistant.history: conversations in a real SQLite file under tmp_path."""

from __future__ import annotations

import csv
import io
import sqlite3
import threading
from pathlib import Path

import pytest

from assistant.errors import AssistantError, HistoryError
from assistant.history import (
    CSV_COLUMNS,
    FILENAME,
    HistoryStore,
    export_filename,
    local_label,
    short_title,
    valid_id,
)
from assistant.models import Answer, Citation, Computation, FigureOut, Operand

Q1 = "Combien d'assurés ont activé Mon Espace Santé ?"
Q2 = "Et en janvier 2025 ?"
TITLE = "Mon Espace Santé : 24 millions d'assurés"


def _answer(question: str, text: str, figure: str, value: float, source: str, page: int | None = None) -> Answer:
    quote = f"Au total, {figure} d'assurés ont activé leur profil.\nUne deuxième ligne."
    return Answer(
        question=question,
        answer=f"{figure} d'assurés ont activé Mon Espace Santé [1].",
        abstained=False,
        confidence=0.9,
        figures=[FigureOut(text=figure, value=value, unit="assurés", kind="count", citation=1)],
        citations=[
            Citation(
                id=1,
                source=source,
                title=TITLE if text == "a" else "Bulletin 2025",
                date="2026-01-29" if text == "a" else "2025-01-15",
                chunk_id="c1",
                quote=quote,
                start=10,
                end=10 + len(quote),
                page=page,
            )
        ],
    )


A1 = _answer(Q1, "a", "24 millions", 24_000_000, "corpus/mes-2026.txt")
A2 = _answer(Q2, "b", "17 millions", 17_000_000, "corpus/mes-2025.pdf", page=3)
ABSTAIN = Answer(
    question="Combien de licornes ?",
    answer="Je ne trouve pas ce chiffre dans les bulletins.",
    abstained=True,
    confidence=0.1,
    suggestions=A1.citations,
)


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore.in_data_dir(tmp_path / "data")


def test_file_in_data_dir_in_wal_mode(tmp_path: Path) -> None:
    HistoryStore.in_data_dir(tmp_path / "data")
    path = tmp_path / "data" / FILENAME
    assert path.is_file()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_create_add_get_round_trip(store: HistoryStore) -> None:
    cid = store.create(Q1)
    assert valid_id(cid) and len(cid) >= 16
    assert store.add_turn(cid, Q1, A1, turn_id="t1") == 0
    assert store.add_turn(cid, Q2, A2) == 1
    conv = store.get(cid)
    assert conv is not None
    assert conv.info.title == Q1
    assert conv.info.turns == 2
    assert [t.question for t in conv.turns] == [Q1, Q2]
    assert conv.turns[0].turn_id == "t1" and conv.turns[1].turn_id
    assert conv.turns[0].answer == A1 and conv.turns[1].answer == A2  # full Answer objects back
    assert conv.info.created.endswith("+00:00")  # UTC ISO


def test_unknown_or_malformed_ids(store: HistoryStore) -> None:
    assert store.get("x" * 16) is None
    assert store.get("../../etc/passwd") is None
    assert store.info("nope") is None
    assert store.delete("'; DROP TABLE turns; --") is False
    with pytest.raises(HistoryError, match="introuvable"):
        store.add_turn("y" * 16, Q1, A1)


def test_list_newest_first_with_counts(store: HistoryStore) -> None:
    first = store.create(Q1)
    second = store.create("Deuxième conversation")
    store.add_turn(second, "q", A1)
    store.add_turn(first, Q1, A1)  # used last: comes first
    store.add_turn(first, Q2, A2)
    items = store.list_conversations()
    assert [(c.id, c.title, c.turns) for c in items] == [(first, Q1, 2), (second, "Deuxième conversation", 1)]
    assert store.list_conversations(limit=1)[0].id == first


def test_rename_and_delete(store: HistoryStore) -> None:
    cid = store.create(Q1)
    store.add_turn(cid, Q1, A1)
    assert store.rename(cid, "  Assurés\nMES  ") == "Assurés MES"
    assert store.info(cid).title == "Assurés MES"  # type: ignore[union-attr]
    with pytest.raises(HistoryError, match="vide"):
        store.rename(cid, "   ")
    with pytest.raises(HistoryError):
        store.rename("z" * 16, "x")
    other = store.create("autre")
    assert store.delete(cid) is True
    assert store.get(cid) is None
    assert store.delete(cid) is False
    assert [c.id for c in store.list_conversations()] == [other]
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT COUNT(*) FROM turns").fetchone()[0] == 0  # turns went with it


def test_long_first_question_is_shortened_as_title(store: HistoryStore) -> None:
    long = "Combien " + "de très longues questions " * 20 + "?"
    cid = store.create(long)
    title = store.info(cid).title  # type: ignore[union-attr]
    assert len(title) <= 120 and title.endswith("…") and title.startswith("Combien de très")
    assert short_title("a\n b") == "a b"


def test_export_markdown(store: HistoryStore) -> None:
    cid = store.create(Q1)
    store.add_turn(cid, Q1, A1)
    store.add_turn(cid, Q2, A2)
    store.add_turn(cid, ABSTAIN.question, ABSTAIN)
    md = store.export_markdown(cid, "Europe/Paris")
    assert md.startswith(f"# {Q1}\n")
    assert f"## 1. {Q1}" in md and f"## 2. {Q2}" in md
    assert A1.answer in md and A2.answer in md
    assert f"[1] {TITLE} · 29 janvier 2026 — corpus/mes-2026.txt" in md
    assert "[1] Bulletin 2025 · 15 janvier 2025 · p. 3 — corpus/mes-2025.pdf" in md
    assert "> « Au total, 24 millions d'assurés ont activé leur profil.\n> Une deuxième ligne. »" in md
    assert "Je ne trouve pas ce chiffre" in md and "**Peut-être utile**" in md


def test_export_markdown_shows_computation(store: HistoryStore) -> None:
    fig = A1.figures[0]
    computed = A1.model_copy(
        update={
            "computation": Computation(
                operation="difference",
                expression="24000000 - 17000000",
                operands=[Operand(figure=fig, citation=1)],
                result=7_000_000,
                result_text="7 millions",
            )
        }
    )
    cid = store.create(Q1)
    store.add_turn(cid, Q1, computed)
    assert "Calcul : 24000000 - 17000000 = 7 millions" in store.export_markdown(cid)


def test_export_csv(store: HistoryStore) -> None:
    cid = store.create(Q1)
    store.add_turn(cid, Q1, A1)
    store.add_turn(cid, Q2, A2)
    store.add_turn(cid, ABSTAIN.question, ABSTAIN)  # no figure: no row
    rows = list(csv.reader(io.StringIO(store.export_csv(cid))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[1] == [
        Q1, "24 millions", "24000000", "assurés", "count", "corpus/mes-2026.txt", TITLE, "2026-01-29", "",
        A1.citations[0].quote,
    ]  # fmt: skip
    assert rows[2][:2] == [Q2, "17 millions"] and rows[2][7:9] == ["2025-01-15", "3"]
    assert len(rows) == 3


def test_export_of_unknown_conversation_is_an_error(store: HistoryStore) -> None:
    with pytest.raises(HistoryError):
        store.export_markdown("q" * 16)
    assert issubclass(HistoryError, AssistantError)


def test_concurrent_add_turn_from_threads(store: HistoryStore) -> None:
    cid = store.create(Q1)
    errors: list[BaseException] = []
    per_thread, threads = 10, 8

    def work(n: int) -> None:
        try:
            other = HistoryStore(store.path)  # each session builds its own handle on the same file
            for i in range(per_thread):
                other.add_turn(cid, f"q{n}-{i}", A1)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    conv = store.get(cid)
    assert conv is not None
    assert [t.position for t in conv.turns] == list(range(per_thread * threads))
    assert sorted(t.question for t in conv.turns) == sorted(
        f"q{n}-{i}" for n in range(threads) for i in range(per_thread)
    )


def test_unwritable_data_dir_is_a_history_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HistoryError) as err:
        HistoryStore.in_data_dir(blocker / "data")
    assert err.value.hint and "ASSISTANT_DATA_DIR" in err.value.hint


def test_local_label_and_filename() -> None:
    assert local_label("2026-01-29T23:30:00+00:00", "Europe/Paris") == "30 janvier 2026 à 00:30"
    assert local_label("2026-07-01T10:00:00+00:00", "Not/AZone").startswith("1er juillet 2026")
    from assistant.history import ConversationInfo

    info = ConversationInfo("abcdefgh", "Combien d'assurés ? É/è", "2026-01-29T10:00:00+00:00", "", 1)
    assert export_filename(info, "md") == "conversation-2026-01-29-combien-d-assures-e-e.md"
