"""Dates and titles of bulletins, whatever their format.

The date comes from the file's metadata, else from the text ("Publié le 3 octobre 2025",
"12 juin 2025 —"), else from the file name (``...-2025-06-12.txt``, ``...-2025-10.md``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DAY_MONTH_YEAR = rf"(?P<d>1er|\d{{1,2}})\s+(?P<m>{_MONTH_RE})\s+(?P<y>(?:19|20)\d\d)"
# "Publié le 3 octobre 2025", "Mis à jour le ...", "Paris, le 3 octobre 2025"
_PUBLISHED_RE = re.compile(rf"(?:publi[ée]e?|mis[e]? à jour|diffus[ée]e?|paru)\s+le\s+{_DAY_MONTH_YEAR}", re.I)
# A dateline opening a line: "12 juin 2025 —", "12 juin 2025 -", "12 juin 2025 :"
_DATELINE_RE = re.compile(rf"^\s*(?:[A-ZÉ][\w\-]+,\s*(?:le\s+)?)?{_DAY_MONTH_YEAR}\s*[—–:\-]", re.I | re.M)
_FILENAME_DATE_RE = re.compile(r"((?:19|20)\d\d)[-_.](0[1-9]|1[0-2])(?:[-_.](0[1-9]|[12]\d|3[01]))?(?!\d)")


def as_date(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            pass
    return date_from_text(text) or _month_only(text)


def _month_only(text: str) -> date | None:
    m = re.fullmatch(r"((?:19|20)\d\d)-(0[1-9]|1[0-2])", text)
    return date(int(m.group(1)), int(m.group(2)), 1) if m else None


def _make_date(d: str, m: str, y: str) -> date | None:
    try:
        return date(int(y), MONTHS[m.lower()], 1 if d.lower() == "1er" else int(d))
    except (ValueError, KeyError):
        return None


def date_from_text(text: str) -> date | None:
    """Publication date stated in the text ("Publié le 3 octobre 2025", "12 juin 2025 —")."""
    head = text[:3000]
    for rx in (_PUBLISHED_RE, _DATELINE_RE):
        m = rx.search(head)
        if m:
            found = _make_date(m.group("d"), m.group("m"), m.group("y"))
            if found:
                return found
    return None


def first_full_date(text: str) -> date | None:
    """The first full date written in ``text`` ("Nancy, le 8 mars 2020", "point du 7 mars 2020"):
    on the first page of a PDF, that is nearly always the issue's date."""
    for m in re.finditer(_DAY_MONTH_YEAR, text, re.I):
        found = _make_date(m.group("d"), m.group("m"), m.group("y"))
        if found:
            return found
    return None


def date_from_name(name: str) -> date | None:
    """Date in a file name: ``2025-06-12`` or ``2025-10`` (first of the month)."""
    found = list(_FILENAME_DATE_RE.finditer(Path(name).name))
    if not found:
        return None
    m = found[-1]  # the last date in the name is the bulletin's own
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        return None


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()
    return ""


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= 200 else title[:199].rstrip() + "…"
