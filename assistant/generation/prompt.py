"""The generation prompt: one versioned French template (``prompt_v1.txt``), filled here.

The template holds a system part and a user part separated by a ``=====`` line; ``$name`` placeholders
(:class:`string.Template`) so that braces in bulletins never break the formatting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from string import Template

from ..models import Answer, Citation
from ..reading.answer import format_date

PROMPT_VERSION = "v1"
_SEPARATOR = "\n=====\n"


@cache
def _template(version: str = PROMPT_VERSION) -> tuple[str, Template]:
    text = (Path(__file__).with_name(f"prompt_{version}.txt")).read_text(encoding="utf-8")
    system, user = text.split(_SEPARATOR, 1)
    return system.strip(), Template(user)


def extract_lines(extracts: Sequence[Citation]) -> str:
    """``[n] (bulletin du 29 janvier 2026) « quote »``: the bulletin's date, not its title (titles carry
    figures of their own that would then be cited from the wrong place)."""
    lines = []
    for c in extracts:
        when = format_date(_day(c.date))
        head = f"[{c.id}] (bulletin du {when}) " if when else f"[{c.id}] "
        lines.append(f"{head}« {' '.join(c.quote.split())} »")
    return "\n".join(lines)


def _day(iso: str | None) -> date | None:
    try:
        return date.fromisoformat(iso) if iso else None
    except ValueError:
        return None


def build_messages(answer: Answer, extracts: Sequence[Citation]) -> list[tuple[str, str]]:
    """(role, content) pairs for a chat model: the rules, then question, reader's answer and extracts."""
    system, user = _template()
    question = answer.standalone_question or answer.question
    content = user.substitute(question=question, candidate=answer.answer, extracts=extract_lines(extracts))
    return [("system", system), ("human", content)]
