"""The evaluation kit: scoring on hand-made answers, and ``assistant eval`` end to end."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.embeddings import Embedder
from assistant.evaluation import (
    EvalResult,
    GoldFileError,
    GoldItem,
    ItemResult,
    abstention_scores,
    citation_correct,
    faithful,
    faithfulness_counts,
    figure_correct,
    load_gold,
    percentile,
)
from assistant.models import Answer, Citation, FigureOut

from .conftest import CORPUS

SOURCE = "corpus/bulletin-mon-espace-sante-2026-01.txt"
QUOTE = "Quatre ans après son lancement, 24 millions d’assurés ont activé leur profil."


def gold(expected: dict[str, Any] | None = None, *, source: str | None = SOURCE, category: str = "count") -> GoldItem:
    return GoldItem(
        id="t1",
        question="Combien d'assurés ont activé Mon Espace Santé ?",
        history=[],
        expected=expected,
        source=source if expected is not None else None,
        category=category,
        answerable=expected is not None,
    )


EXPECTED = {"value": 24_000_000, "unit": "assurés", "texts": ["24 millions"]}


def answer(
    figures: Sequence[tuple[str, float | None, int]] = (),
    *,
    abstained: bool = False,
    source: str = SOURCE,
    quote: str = QUOTE,
) -> Answer:
    citations = [] if abstained else [
        Citation(id=1, source=source, title="Mon Espace Santé", date="2026-01-29", chunk_id="c-0001", quote=quote,
                 start=0, end=len(quote))
    ]  # fmt: skip
    return Answer(
        question="q",
        answer="Je ne trouve pas ce chiffre dans les bulletins." if abstained else "… [1]",
        abstained=abstained,
        confidence=0.1 if abstained else 0.9,
        figures=[FigureOut(text=t, value=v, unit="assurés", kind="count", citation=c) for t, v, c in figures],
        citations=citations,
    )


# -- figure_correct ------------------------------------------------------------------


def test_correct_value_within_relative_tolerance() -> None:
    assert figure_correct(gold(EXPECTED), answer([("24 000 000", 24_000_000, 1)]))
    assert figure_correct(gold(EXPECTED), answer([("24 000 000", 24_000_000 * (1 + 5e-7), 1)]))
    assert not figure_correct(gold(EXPECTED), answer([("24,1 millions", 24_100_000, 1)]))


def test_accepted_spelling_counts_even_without_a_value() -> None:
    assert figure_correct(gold(EXPECTED), answer([("24 millions", None, 1)]))
    assert not figure_correct(gold(EXPECTED), answer([("vingt-quatre millions", None, 1)]))


def test_any_stated_figure_may_match() -> None:
    assert figure_correct(gold(EXPECTED), answer([("2026", 2026, 1), ("24 millions", 24_000_000, 1)]))


def test_abstaining_on_an_answerable_question_is_wrong() -> None:
    assert not figure_correct(gold(EXPECTED), answer(abstained=True))


def test_unanswerable_question_is_correct_only_when_abstained() -> None:
    assert figure_correct(gold(None), answer(abstained=True))
    assert not figure_correct(gold(None), answer([("24 millions", 24_000_000, 1)]))


def test_citation_correct() -> None:
    assert citation_correct(gold(EXPECTED), answer([("24 millions", 24e6, 1)]))
    assert not citation_correct(gold(EXPECTED), answer([("24 millions", 24e6, 1)], source="corpus/other.txt"))
    assert citation_correct(gold(None), answer(abstained=True))  # nothing expected: nothing to cite


# -- abstention precision / recall ---------------------------------------------------


def test_abstention_precision_and_recall() -> None:
    # (answerable, abstained): 2 right abstentions, 1 wrong abstention, 1 missed unanswerable.
    outcomes = [(False, True), (False, True), (True, True), (False, False), (True, False)]
    precision, recall = abstention_scores(outcomes)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)


def test_abstention_scores_undefined_denominators_are_none() -> None:
    assert abstention_scores([]) == (None, None)
    # Never abstained: precision undefined; recall 0 since an unanswerable question was missed.
    assert abstention_scores([(True, False), (False, False)]) == (None, 0.0)
    # No unanswerable question: recall undefined; every abstention was a mistake.
    assert abstention_scores([(True, True), (True, False)]) == (0.0, None)
    assert abstention_scores([(False, True)]) == (1.0, 1.0)


# -- faithfulness ----------------------------------------------------------------------


def test_faithfulness_counts_figures_verbatim_in_their_quote() -> None:
    good = answer([("24 millions", 24e6, 1)])
    assert faithful(good) and faithfulness_counts(good) == (1, 1)
    not_in_quote = answer([("25 millions", 25e6, 1)])
    assert not faithful(not_in_quote) and faithfulness_counts(not_in_quote) == (0, 1)
    wrong_citation = answer([("24 millions", 24e6, 2)])  # points to a citation that does not exist
    assert not faithful(wrong_citation) and faithfulness_counts(wrong_citation) == (0, 1)
    mixed = answer([("24 millions", 24e6, 1), ("Quatre ans", 4, 1), ("3 ans", 3, 1)])
    assert faithfulness_counts(mixed) == (2, 3)
    assert faithfulness_counts(answer(abstained=True)) == (0, 0) and faithful(answer(abstained=True))


# -- the result object ---------------------------------------------------------------------


def item(
    id_: str,
    category: str,
    *,
    correct: bool,
    answerable: bool = True,
    abstained: bool = False,
    rank: int | None = 1,
    cited_ok: bool | None = True,
    latency: float = 10.0,
    verbatim: tuple[int, int] = (1, 1),
) -> ItemResult:
    return ItemResult(
        id=id_, category=category, question=f"Question {id_} ?", standalone=f"Question {id_} ?",
        answerable=answerable, expected=EXPECTED if answerable else None,
        expected_source=SOURCE if answerable else None, correct=correct, abstained=abstained,
        answer="" if abstained else "… [1]", figures=[] if abstained else [{"text": "3", "value": 3.0, "unit": None}],
        cited=[] if abstained else ["corpus/x.txt"], citation_ok=cited_ok if correct and answerable else None,
        source_rank=rank if answerable else None, figures_verbatim=verbatim[0], figures_total=verbatim[1],
        latency_ms=latency,
    )  # fmt: skip


def test_eval_result_metrics() -> None:
    items = [
        item("a", "count", correct=True, rank=1, latency=10),
        item("b", "count", correct=False, rank=3, latency=20),
        item("c", "percent", correct=True, rank=None, cited_ok=False, latency=30),
        item("d", "abstain", correct=True, answerable=False, abstained=True, verbatim=(0, 0), latency=40),
        item("e", "percent", correct=False, abstained=True, rank=6, verbatim=(0, 0), latency=50),
    ]
    r = EvalResult(gold="g.jsonl", items=items)
    assert r.accuracy == pytest.approx(3 / 5)
    assert {c: (s.n, s.correct) for c, s in r.by_category.items()} == {
        "abstain": (1, 1), "count": (2, 1), "percent": (2, 1),
    }  # fmt: skip
    assert r.citation_accuracy == pytest.approx(1 / 2)  # a right source, c wrong; b, e not correct
    assert r.abstention_precision == pytest.approx(1 / 2)  # d right, e wrong
    assert r.abstention_recall == pytest.approx(1.0)
    assert r.recall_at(1) == pytest.approx(1 / 4) and r.recall_at(5) == pytest.approx(2 / 4)
    assert r.faithfulness == pytest.approx(1.0)
    assert r.latency_p50_ms == pytest.approx(30) and r.latency_p95_ms == pytest.approx(48)
    data = r.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["metrics"]["accuracy"] == pytest.approx(0.6) and data["failures"] == ["b", "e"]
    report = r.to_markdown()
    assert "## Failures (2)" in report and "Question b ?" in report and "Question e ?" in report
    assert "Got: abstained" in report and "Cited source: `corpus/x.txt`" in report
    assert "## Right figure, wrong source (1)" in report and "Question c ?" in report


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)


def test_load_gold_reports_bad_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(GoldFileError, match=r"bad\.jsonl:1"):
        load_gold(bad)
    with pytest.raises(GoldFileError):
        load_gold(tmp_path / "missing.jsonl")


# -- assistant eval, end to end (real model, real Chroma) ---------------------------------


@pytest.fixture
def small_gold(tmp_path: Path) -> Path:
    rows = [
        {"id": "ok", "question": "Combien d'assurés ont activé Mon Espace Santé ?", "history": [],
         "expected": EXPECTED, "source": SOURCE, "category": "latest", "answerable": True},
        # The same question with a value the bulletins never state: always a failure.
        {"id": "wrong", "question": "Combien d'assurés ont activé Mon Espace Santé ?", "history": [],
         "expected": {"value": 123456789, "unit": "assurés", "texts": ["123 456 789"]}, "source": SOURCE,
         "category": "count", "answerable": True},
        {"id": "none", "question": "Combien de dentistes exercent sur la planète Mars ?", "history": [],
         "expected": None, "source": None, "category": "abstain", "answerable": False},
    ]  # fmt: skip
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def shared_model(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    """The CLI builds its own Assistant; hand it the session's already loaded model."""
    monkeypatch.setattr("assistant.core.Embedder.from_settings", lambda settings: embedder)


@pytest.mark.usefixtures("shared_model")
def test_cli_eval_with_corpus_writes_report_and_json(small_gold: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.md"
    args = ["eval", str(small_gold), "--corpus", str(CORPUS), "--json", "--report", str(report), "--min-accuracy", "0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    m = data["metrics"]
    assert m["total"] == 3 and "wrong" in data["failures"] and "ok" not in data["failures"]
    assert set(data["by_category"]) == {"latest", "count", "abstain"}
    assert m["retrieval_recall_at_5"] == 1.0  # both answerable items name a bulletin retrieval finds
    assert m["faithfulness"] == 1.0 and m["latency_p50_ms"] > 0 and m["citation_accuracy"] == 1.0
    text = report.read_text(encoding="utf-8")
    assert "## Failures" in text and "### wrong [count]" in text and "123 456 789" in text
    assert f"Cited source: `{SOURCE}`" in text


@pytest.mark.usefixtures("shared_model")
def test_cli_eval_min_accuracy_exit_code(small_gold: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(small_gold), "--corpus", str(CORPUS), "--min-accuracy", "0.99"])
    assert result.exit_code == 1, result.output
    assert "Accuracy" in result.stdout and "By category" in result.stdout


def test_cli_eval_missing_gold_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "nope.jsonl"), "--corpus", str(CORPUS)])
    assert result.exit_code == 2
