"""PDF bulletins (being written): text in reading order, tables as pipe tables, page starts."""

from __future__ import annotations

from ..errors import BulletinError
from ..models import Bulletin


def parse_pdf(raw: bytes, bulletin_id: str, *, path: str | None = None, max_pages: int = 150) -> Bulletin:
    raise BulletinError(bulletin_id, "PDF pas encore pris en charge")
