"""The gold set answered by the real pipeline (real model, real Chroma)."""

from __future__ import annotations

import re
from collections import Counter

from assistant import Assistant
from assistant.evaluation import citation_correct, faithful, figure_correct, load_gold

from .conftest import GOLD

MIN_ACCURACY = 0.95
_PATH = re.compile(r"\.(?:txt|pdf|md|html|docx)\b|corpus/|pdf-samples/|\w/\w+[-_]", re.IGNORECASE)


def test_gold_set_shape() -> None:
    items = load_gold(GOLD)
    cats = Counter(i.category for i in items)
    assert len(items) >= 40
    assert cats["abstain"] >= 6 and all(not i.answerable for i in items if i.category == "abstain")
    assert cats["latest"] >= 4 and cats["as_of"] >= 4
    assert cats["follow_up"] >= 8 and cats["time"] >= 6 and cats["conflict"] >= 2 and cats["computation"] >= 6
    assert all(i.history for i in items if i.category == "follow_up")
    for i in items:
        assert (i.expected is None) == (not i.answerable)
        if i.answerable:
            assert i.source and i.source.startswith("corpus/") and "value" in i.expected


def test_gold_accuracy_and_citations(corpus_assistant: Assistant) -> None:
    items = load_gold(GOLD)
    failures: list[str] = []
    wrong_source: list[str] = []
    unfaithful: list[str] = []
    correct = 0
    for item in items:
        answer = corpus_assistant.ask(item.question, history=item.history)
        # Written like a colleague: no file path, no file name, the quote not repeated after the answer.
        assert not _PATH.search(answer.answer), (item.id, answer.answer)
        assert answer.abstained or not any(c.quote in answer.answer for c in answer.citations if len(c.quote) > 120)
        for c in answer.citations:
            bulletin = corpus_assistant.bulletin(c.source)
            assert bulletin is not None and bulletin.text[c.start : c.end] == c.quote
        if not faithful(answer):
            unfaithful.append(item.id)
        assert answer.standalone_question, item.id
        if item.category == "conflict" and not answer.conflicts:
            failures.append(f"{item.id}: no conflict reported")
            continue
        if item.category == "computation" and (answer.computation is None or len(answer.computation.operands) < 2):
            failures.append(f"{item.id}: no computation with cited operands")
            continue
        if figure_correct(item, answer):
            correct += 1
            if not citation_correct(item, answer):
                wrong_source.append(f"{item.id}: cites {[c.source for c in answer.citations]}, expected {item.source}")
        else:
            got = "abstained" if answer.abstained else [(f.text, f.value) for f in answer.figures]
            cited = [c.source for c in answer.citations]
            failures.append(
                f"{item.id} [{item.category}] {item.question!r}: expected {item.expected}, got {got} {cited}"
            )
    accuracy = correct / len(items)
    report = "\n".join(failures)
    assert not unfaithful, unfaithful
    assert not wrong_source, "\n".join(wrong_source)
    assert accuracy >= MIN_ACCURACY, f"accuracy {accuracy:.1%} < {MIN_ACCURACY:.0%}\n{report}"
