"""Scoring answers against a gold set (used by the tests and ``assistant eval``).

Gold format, one JSON object per line::

    {"id", "question", "history": [...], "expected": {"value", "unit", "texts"} | null,
     "source": "corpus/x.txt" | null, "category": str, "answerable": bool}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AssistantError
from .models import Answer


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    history: list[dict[str, str]]
    expected: dict[str, Any] | None
    source: str | None
    category: str
    answerable: bool


def load_gold(path: str | Path) -> list[GoldItem]:
    items: list[GoldItem] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(
                GoldItem(
                    id=str(raw["id"]),
                    question=raw["question"],
                    history=list(raw.get("history") or []),
                    expected=raw.get("expected"),
                    source=raw.get("source"),
                    category=str(raw.get("category", "")),
                    answerable=bool(raw.get("answerable", raw.get("expected") is not None)),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AssistantError(f"{path}:{n}: ligne de référence invalide ({exc})") from None
    return items


def figure_correct(item: GoldItem, answer: Answer) -> bool:
    """Right figure stated (value within 1e-6 relative, or an accepted spelling), not abstained."""
    if not item.answerable:
        return answer.abstained
    if answer.abstained or not item.expected:
        return False
    value = item.expected.get("value")
    texts = {t for t in item.expected.get("texts") or []}
    for fig in answer.figures:
        if value is not None and fig.value is not None and math.isclose(fig.value, float(value), rel_tol=1e-6):
            return True
        if fig.text in texts:
            return True
    return False


def citation_correct(item: GoldItem, answer: Answer) -> bool:
    """The expected bulletin is among the answer's citations."""
    return item.source is None or any(c.source == item.source for c in answer.citations)


def faithful(answer: Answer) -> bool:
    """Every stated figure is verbatim in the quote of the citation it points to."""
    quotes = {c.id: c.quote for c in answer.citations}
    return all(f.text in quotes.get(f.citation, "") for f in answer.figures)
