"""Word bulletins: real ``.docx`` files built with python-docx, parsed, and the bad ones refused."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import docx as python_docx
import pytest

from assistant.errors import BulletinError
from assistant.loading import discover, load_file, parse_bulletin
from assistant.loading.docx import MAX_DOCUMENT_XML, parse_docx

FIGURE_SENTENCE = "Au 30 septembre 2025, 24 millions d'assurés ont activé Mon Espace Santé."
ROWS = [
    ["Région", "Assurés", "Part"],
    ["Bretagne", "1,2 million", "36 %"],
    ["Normandie | Hauts", "900 000", "27 %"],
    ["Corse", "80 000", "31 %"],
]


def _save(document: object) -> bytes:
    buf = io.BytesIO()
    document.save(buf)  # type: ignore[attr-defined]
    return buf.getvalue()


def _bulletin_docx() -> bytes:
    """Heading, dated paragraph, figures, a 3-row table with a header, a list, a closing line."""
    d = python_docx.Document()
    d.add_heading("Bilan de Mon Espace Santé", level=1)
    d.add_paragraph("Publié le 3 octobre 2025")
    d.add_paragraph(FIGURE_SENTENCE)
    d.add_heading("Par région", level=2)
    table = d.add_table(rows=len(ROWS), cols=3)
    for i, row in enumerate(ROWS):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    d.add_paragraph("420 millions de documents échangés", style="List Bullet")
    d.add_paragraph("70 % des assurés ont reçu un document", style="List Bullet")
    d.add_paragraph("Fin du bilan.")
    return _save(d)


def _refused(raw: bytes, name: str = "corpus/mauvais.docx") -> BulletinError:
    with pytest.raises(BulletinError) as info:
        parse_docx(raw, name)
    return info.value


def test_body_in_document_order_with_headings_table_and_list() -> None:
    raw = _bulletin_docx()
    b = parse_bulletin(raw, "corpus/bilan.docx", fmt="docx", path="/tmp/bilan.docx")
    assert b.text == (
        "# Bilan de Mon Espace Santé\n\n"
        "Publié le 3 octobre 2025\n\n"
        f"{FIGURE_SENTENCE}\n\n"
        "## Par région\n\n"
        "| Région | Assurés | Part |\n"
        "| --- | --- | --- |\n"
        "| Bretagne | 1,2 million | 36 % |\n"
        "| Normandie / Hauts | 900 000 | 27 % |\n"
        "| Corse | 80 000 | 31 % |\n\n"
        "- 420 millions de documents échangés\n\n"
        "- 70 % des assurés ont reçu un document\n\n"
        "Fin du bilan.\n"
    )
    assert b.title == "Bilan de Mon Espace Santé"
    assert b.date == date(2025, 10, 3)
    assert b.tables == 1 and b.page_starts == () and b.page_at(10) is None
    assert b.path == "/tmp/bilan.docx" and b.id == "corpus/bilan.docx"
    assert b.source is None  # python-docx's template author is not a source
    assert len(b.content_hash) == 64 and b.content_hash == parse_docx(raw, "autre.docx").content_hash


def test_merged_cells_once_and_nested_table_flattened() -> None:
    d = python_docx.Document()
    table = d.add_table(rows=2, cols=3)
    for j, value in enumerate(["Indicateur", "Valeur", "Note"]):
        table.cell(0, j).text = value
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "Taux   de\tcouverture"
    inner = table.cell(1, 2).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "2024 : 46 %"
    inner.cell(0, 1).text = "2025 : 48 %"
    b = parse_docx(_save(d), "corpus/vaccins-2025-11.docx")
    assert b.text.splitlines() == [
        "| Indicateur | Valeur | Note |",
        "| --- | --- | --- |",
        "| Taux de couverture | 2024 : 46 % 2025 : 48 % |",
    ]
    assert b.tables == 1
    # No heading, no paragraph: the file name gives the title and the date.
    assert b.title == "vaccins-2025-11" and b.date == date(2025, 11, 1)


def test_core_properties_give_title_source_and_last_resort_date() -> None:
    d = python_docx.Document()
    d.core_properties.title = "Point épidémiologique grippe"
    d.core_properties.author = "Santé publique France"
    d.core_properties.created = datetime(2025, 12, 4, 9, 30, tzinfo=UTC)
    d.add_heading("Un autre titre", level=1)
    d.add_paragraph("L'incidence atteint 312 cas pour 100 000 habitants.")
    b = parse_docx(_save(d), "corpus/grippe.docx")
    assert b.title == "Point épidémiologique grippe"
    assert b.source == "Santé publique France"
    assert b.date == date(2025, 12, 4)  # neither the text nor the name has a date


def test_junk_title_property_and_long_first_sentence_fall_back() -> None:
    d = python_docx.Document()
    d.core_properties.title = "Microsoft Word - bulletin.doc"
    d.add_paragraph("Une phrase très longue " * 8)  # > 120 characters: not a title
    assert parse_docx(_save(d), "corpus/bulletin-dmp.docx").title == "bulletin-dmp"
    d = python_docx.Document()
    d.add_paragraph("Chiffres clés du DMP")
    d.add_paragraph("3 800 établissements alimentent le DMP.")
    assert parse_docx(_save(d), "corpus/x.docx").title == "Chiffres clés du DMP"


def test_text_is_normalised() -> None:
    d = python_docx.Document()
    d.add_paragraph("PLACEHOLDER")
    # A decomposed "é" and a carriage return (XML 1.0 admits no other control character).
    raw = _save(d)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        xml = z.read("word/document.xml")
    xml = xml.replace(b"PLACEHOLDER", "Pre\u0301vention&#13;des chutes : 12 %".encode())
    raw = _replace_part(raw, "word/document.xml", xml)
    b = parse_docx(raw, "corpus/n.docx")
    assert b.text == "Prévention\ndes chutes : 12 %\n"


def test_content_controls_and_tracked_insertions_are_read_deleted_text_is_not() -> None:
    d = python_docx.Document()
    d.add_paragraph("Avant.")
    d.add_paragraph("PLACEHOLDER")
    d.add_paragraph("Après.")
    raw = _save(d)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        xml = z.read("word/document.xml")
    paragraph = b"<w:p><w:r><w:t>PLACEHOLDER</w:t></w:r></w:p>"
    assert paragraph in xml
    sdt = (
        b"<w:sdt><w:sdtContent><w:p><w:r><w:t>Couverture : </w:t></w:r>"
        b'<w:ins w:id="1" w:author="x"><w:r><w:t>52,3 %</w:t></w:r></w:ins>'
        b'<w:del w:id="2" w:author="x"><w:r><w:delText>48 %</w:delText></w:r></w:del>'
        b"</w:p></w:sdtContent></w:sdt>"
    )
    b = parse_docx(_replace_part(raw, "word/document.xml", xml.replace(paragraph, sdt)), "corpus/c.docx")
    assert b.text == "Avant.\n\nCouverture : 52,3 %\n\nAprès.\n"


def test_docx_is_discovered_and_loaded_from_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "bulletins"
    folder.mkdir()
    (folder / "bilan.docx").write_bytes(_bulletin_docx())
    files, _ = discover([folder])
    assert [f.bulletin_id for f in files] == ["bulletins/bilan.docx"]
    assert load_file(files[0]).tables == 1


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def _replace_part(raw: bytes, name: str, data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(raw)) as src:
        parts = {i.filename: src.read(i) for i in src.infolist()}
    parts[name] = data
    return _zip(parts)


def test_random_bytes_are_not_an_office_archive() -> None:
    err = _refused(os.urandom(4096))
    assert "pas une archive Office" in err.reason and err.hint


def test_truncated_docx_is_refused() -> None:
    raw = _bulletin_docx()
    err = _refused(raw[: len(raw) // 2])
    assert err.reason == "fichier .docx illisible (pas une archive Office)"


def test_renamed_zip_of_text_files_has_no_word_document() -> None:
    err = _refused(_zip({"a.txt": b"24 millions d'assures"}))
    assert err.reason == "archive sans document Word"


def test_ole_file_is_a_protected_document_or_old_doc() -> None:
    err = _refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    assert err.reason == "document protégé par mot de passe ou ancien format .doc"


def test_empty_body_has_no_readable_text() -> None:
    d = python_docx.Document()
    d.add_paragraph("   ")
    d.add_table(rows=2, cols=2)  # empty cells: nothing written
    err = _refused(_save(d))
    assert err.reason == "aucun texte lisible"


def test_corrupt_xml_is_refused() -> None:
    raw = _replace_part(_bulletin_docx(), "word/document.xml", b"<w:document><w:body><w:p>")
    err = _refused(raw)
    assert "XML du document Word invalide" in err.reason


def test_zip_bomb_is_refused_before_python_docx_reads_it() -> None:
    bomb = b"<" + b" " * (MAX_DOCUMENT_XML + 1)  # deflates to a few kilobytes
    raw = _replace_part(_bulletin_docx(), "word/document.xml", bomb)
    assert len(raw) < 1_000_000
    err = _refused(raw)
    assert "trop volumineux" in err.reason


def test_docx_bulletin_answers_with_a_citation_without_page(make_assistant, tmp_path: Path) -> None:
    folder = tmp_path / "src" / "bulletins"
    folder.mkdir(parents=True)
    (folder / "bilan-mon-espace-sante.docx").write_bytes(_bulletin_docx())
    a = make_assistant()
    report = a.ingest([folder])
    assert report.added == ["bulletins/bilan-mon-espace-sante.docx"] and not report.failed
    answer = a.ask("Combien d'assurés ont activé Mon Espace Santé ?")
    assert not answer.abstained
    assert answer.figures and answer.figures[0].value == 24_000_000
    assert answer.citations[0].source.endswith(".docx")
    assert answer.citations[0].page is None
