"""Bulletin loading: formats, titles, dates, ids and unreadable files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.errors import BulletinError, MissingPathError
from assistant.loading import date_from_name, date_from_text, discover, load_file, parse_bulletin

from .conftest import CORPUS

SEED = "bulletin-mon-espace-sante-2026-01.txt"


def _load(name: str):
    files, _ = discover([CORPUS / name])
    return load_file(files[0])


def test_seed_text_unchanged_title_first_line_and_date_from_text() -> None:
    seed = _load(SEED)
    assert seed.id == f"corpus/{SEED}"
    assert seed.text == (CORPUS / SEED).read_text(encoding="utf-8")
    assert seed.title.startswith("Quatre ans après son lancement")
    # "selon le communiqué publié le 29 janvier 2026"
    assert seed.date == date(2026, 1, 29)


def test_every_corpus_bulletin_loads_with_title_and_date() -> None:
    files, roots = discover([CORPUS])
    assert roots == ["corpus"]
    assert len(files) >= 7
    kinds = {f.path.suffix for f in files}
    assert {".txt", ".md", ".html"} <= kinds
    for f in files:
        b = load_file(f)
        assert b.id.startswith("corpus/") and b.title and b.date is not None, b.id
        assert "fictif" in b.text.lower() or b.id.endswith(SEED)


def test_markdown_front_matter_wins_and_body_offsets_are_the_file_body(tmp_path: Path) -> None:
    raw = (
        "---\ntitle: Un titre\ndate: 2025-03-20\nsource: KPS\nurl: https://example.org/x\n---\n\n# Corps\nTexte 12 %.\n"
    )
    b = parse_bulletin(raw.encode(), "x/a.md", fmt="md")
    assert (b.title, b.date, b.source, b.url) == ("Un titre", date(2025, 3, 20), "KPS", "https://example.org/x")
    assert b.text == "\n# Corps\nTexte 12 %.\n"
    assert "title:" not in b.text


def test_html_text_drops_scripts_and_keeps_paragraphs() -> None:
    html = (
        "<html><head><title>T</title><meta name='date' content='2025-04-14'></head><body>"
        "<h1>Titre</h1><p>Premier <b>paragraphe</b> : 40 %.</p><script>alert(1)</script><p>Second.</p></body></html>"
    )
    b = parse_bulletin(html.encode(), "x/a.html", fmt="html")
    assert b.title == "T" and b.date == date(2025, 4, 14)
    assert "alert" not in b.text
    assert "Premier paragraphe : 40 %." in b.text and "Second." in b.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Titre\nPublié le 3 octobre 2025 par la rédaction.", date(2025, 10, 3)),
        ("Titre\n12 juin 2025 — Les urgences…", date(2025, 6, 12)),
        ("Titre\nParis, le 1er mars 2024 : annonce", date(2024, 3, 1)),
        ("Titre sans date, mais 2025 cité.", None),
    ],
)
def test_date_from_text(text: str, expected: date | None) -> None:
    assert date_from_text(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bulletin-urgences-2025-06-12.txt", date(2025, 6, 12)),
        ("bulletin-telesante-2026-02.html", date(2026, 2, 1)),
        ("bulletin.txt", None),
    ],
)
def test_date_from_name(name: str, expected: date | None) -> None:
    assert date_from_name(name) == expected


def test_date_from_file_name_when_text_has_none() -> None:
    b = _load("bulletin-urgences-2025-06-12.txt")
    assert b.date == date(2025, 6, 12)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "vide"),
        (b"   \n\t\n", "vide"),
        (b"Caf\xe9 cr\xe8me 12 %", "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binaire"),
    ],
)
def test_unreadable_files_raise_clear_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(BulletinError, match=reason):
        parse_bulletin(raw, "corpus/bad.txt")


def test_bom_and_windows_line_endings_are_normalised() -> None:
    b = parse_bulletin("\ufeffTitre\r\nLigne 1\r\n".encode(), "x/a.txt")
    assert b.text == "Titre\nLigne 1\n" and b.title == "Titre"


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MissingPathError, match="introuvable"):
        discover([tmp_path / "nope"])


def test_ids_are_stable_whatever_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = discover([CORPUS])
    monkeypatch.chdir(tmp_path)
    b, _ = discover([CORPUS])
    assert [f.bulletin_id for f in a] == [f.bulletin_id for f in b]
