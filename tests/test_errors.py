"""Bad input gets a clear error, a non-zero exit code at the CLI, and the store stays intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.cli import app
from assistant.errors import InvalidQuestionError

runner = CliRunner()


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "vide"), ("   \n\t ", "vide"), ("x" * 100_000, "trop longue"), ("\x00\x01", "vide")],
)
def test_bad_questions_are_refused_clearly(corpus_assistant: Assistant, question: str, message: str) -> None:
    before = corpus_assistant.store.count()
    with pytest.raises(InvalidQuestionError, match=message):
        corpus_assistant.ask(question)
    assert corpus_assistant.store.count() == before


def test_bad_history_is_refused(corpus_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError, match="Historique"):
        corpus_assistant.ask("Combien ?", history=[{"role": "robot", "content": "x"}])


def test_odd_but_valid_questions_get_a_contract_answer(corpus_assistant: Assistant) -> None:
    for q in ["12345", "?!?", "\u202eCombien d'assurés ?", "Combien\ud800 d'assurés ?", "é" * 1999]:
        answer = corpus_assistant.ask(q)
        assert answer.answer


def _env(store: Path) -> dict[str, str]:
    return {"ASSISTANT_DATA_DIR": str(store), "ASSISTANT_CORPUS_DIR": str(store / "no-corpus")}


def test_cli_ingest_ask_stats_and_errors(tmp_path: Path, corpus_copy: Path) -> None:
    store = tmp_path / "cli-store"
    env = _env(store)
    r = runner.invoke(app, ["ingest", str(corpus_copy)], env=env)
    assert r.exit_code == 0, r.output
    assert "added" in r.output and "unchanged" in r.output

    r = runner.invoke(app, ["ask", "Combien d'établissements alimentent le DMP ?", "--json"], env=env)
    assert r.exit_code == 0, r.output
    assert '"abstained": false' in r.output and "3 800" in r.output

    r = runner.invoke(app, ["stats", "--json"], env=env)
    assert r.exit_code == 0 and '"bulletins":' in r.output

    # A file of questions (scripts): one JSON answer per line, in order; "#" lines and blank lines skipped.
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "\ufeff# support\nCombien d'assurés ont activé Mon Espace Santé ?\n\nQuel est le prix du métro ?\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["ask", "--file", str(questions), "--json"], env=env)
    assert r.exit_code == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["question"] for row in rows] == [
        "Combien d'assurés ont activé Mon Espace Santé ?",
        "Quel est le prix du métro ?",
    ]
    assert rows[0]["figures"][0]["value"] == 24_000_000 and rows[1]["abstained"]
    r = runner.invoke(app, ["ask", "-f", "-"], input="Combien d'assurés ont activé Mon Espace Santé ?\n", env=env)
    assert r.exit_code == 0 and r.stdout.startswith("? Combien d'assurés") and "24 millions" in r.stdout
    (tmp_path / "latin1.txt").write_bytes("Combien d'assurés ?".encode("latin-1"))
    (tmp_path / "one-bad.txt").write_text("Combien d'assurés ?\n" + "x" * 100_000 + "\n", encoding="utf-8")
    chunks_before = Assistant(store_dir=store, auto_ingest=False).stats().chunks

    bad = [
        (["ask", ""], "vide"),
        (["ask", "x" * 100_000], "trop longue"),
        (["ingest", str(tmp_path / "missing")], "introuvable"),
        (["ask", "Combien ?", "--date-from", "hier"], "Date invalide"),
        (["ask"], "donnez une question"),
        (["ask", "Combien ?", "--file", str(questions)], "donnez une question"),
        (["ask", "--file", str(tmp_path / "absent.txt")], "illisible"),
        (["ask", "--file", str(tmp_path / "latin1.txt")], "non UTF-8"),
        (["ask", "--file", str(tmp_path / "one-bad.txt")], "Question 2 : La question est trop longue"),
    ]
    for args, message in bad:
        r = runner.invoke(app, args, env=env)
        assert r.exit_code != 0, args
        assert message in r.output, r.output
        assert "Traceback" not in r.output
        assert "24 millions" not in r.output  # nothing answered before the refusal

    empty_dir = tmp_path / "only-bad"
    empty_dir.mkdir()
    (empty_dir / "vide.txt").write_bytes(b"")
    (empty_dir / "bin.md").write_bytes(b"\x00\xff\x00")
    r = runner.invoke(app, ["ingest", str(empty_dir)], env=env)
    assert r.exit_code == 2 and "vide" in r.output and "binaire" in r.output
    assert Assistant(store_dir=store, auto_ingest=False).stats().chunks == chunks_before
