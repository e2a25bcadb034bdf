"""PDF bulletins (issue 13): the five real sample PDFs, bad files, fuzzed bytes, a question end to end.

The samples live in ``../shared/pdf-samples`` (beside the clone, as in CI); without them the tests
that need them are skipped with the reason.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import BulletinError
from assistant.loading import parse_bulletin
from assistant.loading.pdf import _join
from assistant.models import Bulletin

from .conftest import ROOT, SAMPLES

PROBES: dict[str, list[str]] = json.loads((ROOT / "tests" / "fixtures" / "pdf-samples-probes.json").read_text())
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason=f"sample PDFs not found in {SAMPLES}")

GRAND_EST = "2020-03-08-ars-grand-est-covid19-point-de-situation.pdf"
SPF = "2020-03-07-spf-covid19-point-epidemiologique.pdf"
DREES = "2020-02-11-drees-er1143-incapacites-retraite.pdf"
CEPIDC = "2019-11-28-inserm-cepidc-causes-medicales-de-deces.pdf"
PAYS_DE_LA_LOIRE = "2020-03-09-ars-pays-de-la-loire-bulletin-covid19-n7.pdf"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("’", "'"))


@pytest.fixture(scope="module")
def samples() -> dict[str, Bulletin]:
    if not SAMPLES.is_dir():
        pytest.skip(f"sample PDFs not found in {SAMPLES}")
    return {
        p.name: parse_bulletin(p.read_bytes(), f"pdf-samples/{p.name}", fmt="pdf", path=str(p))
        for p in sorted(SAMPLES.glob("*.pdf"))
    }


@needs_samples
def test_quoted_sentences_come_out_whole_and_in_order(samples: dict[str, Bulletin]) -> None:
    """The sentences the samples' notes quote are contiguous in the text: columns, sidebars, boxes and
    running headers did not cut them (pdfminer alone: 11/12, see docs/pdf-libraries.md)."""
    missing = [
        probe
        for prefix, probes in PROBES.items()
        for name, b in samples.items()
        if name.startswith(prefix)
        for probe in probes
        if _squash(probe) not in _squash(b.text)
    ]
    assert missing == []


@needs_samples
@pytest.mark.parametrize(
    ("name", "phrase", "page"),
    [
        (GRAND_EST, "262 personnes ont été confirmées", 1),
        (GRAND_EST, "Rappel des consignes à suivre", 2),
        (SPF, "949 cas confirmés ont été rapportés", 2),
        (SPF, "93 pays ont rapportés 101 855 cas confirmés", 3),
        (DREES, "partent à la retraite en moyenne à 61,9 ans en 2018", 5),
        (DREES, "que depuis sa vague de 2013", 4),
        (CEPIDC, "En moyenne 3,4 causes/diagnostics par certificat", 9),
        (PAYS_DE_LA_LOIRE, "dont 4 patients guéris", 1),
    ],
)
def test_page_of_a_passage(samples: dict[str, Bulletin], name: str, phrase: str, page: int) -> None:
    b = samples[name]
    at = b.text.find(phrase)
    assert at >= 0, phrase
    assert b.page_at(at) == page


@needs_samples
def test_layout_facts_of_the_samples(samples: dict[str, Bulletin]) -> None:
    pages = {name: (b.pages, b.blank_pages) for name, b in samples.items()}
    assert pages == {
        CEPIDC: (28, (5, 6)),  # two slides are pictures only; the other picture slides keep a title
        DREES: (5, ()),
        SPF: (4, ()),
        GRAND_EST: (2, ()),
        PAYS_DE_LA_LOIRE: (1, ()),
    }
    assert samples[SPF].title == "COVID-19 : point épidémiologique du 7 mars 2020"  # from the metadata
    assert samples[DREES].title.startswith("Les personnes ayant des incapacités quittent le marché du travail")
    # the metadata title is "Présentation PowerPoint": the first page's largest type is used instead
    assert samples[PAYS_DE_LA_LOIRE].title == "BULLETIN D’INFORMATION COVID-19"
    dates = {name: b.date.isoformat() if b.date else None for name, b in samples.items()}
    assert dates[GRAND_EST] == "2020-03-08"  # "Nancy, le 8 mars 2020" on page 1
    assert dates[SPF] == "2020-03-07"
    assert dates[PAYS_DE_LA_LOIRE] == "2020-03-09"


@needs_samples
def test_running_headers_and_page_numbers_are_dropped(samples: dict[str, Bulletin]) -> None:
    deck = samples[CEPIDC].text
    assert "05/12/2019" not in deck  # the footer date of every slide
    assert not re.search(r"^\d{1,2}$", deck, re.M)  # nor the slide numbers
    drees = samples[DREES]
    assert drees.text.count("quittent le marché du travail plus jeunes mais liquident leur retraite plus tard") == 1


@needs_samples
def test_hyphens_drop_caps_and_chart_debris(samples: dict[str, Bulletin]) -> None:
    drees = samples[DREES].text
    assert re.search(r"personnes handicapées\s–\sdéfinies ici", drees)  # « han-/dicapées » joined at the line end
    assert "han-dicapées" not in drees and "forte-ment" not in drees
    assert "Après 50 ans et avant leur départ à la retraite" in drees  # drop cap « A » + « près »
    assert re.search(r"10,2\sannées\)", drees)  # the footnote call « années1 » is dropped
    assert not re.search(r"^14,0$", drees, re.M)  # chart axis ticks are not text
    grand_est = samples[GRAND_EST].text
    assert "coronavirus-Covid 19" in grand_est  # a real compound keeps its hyphen across the line end
    assert "Meurthe-et-Moselle" in grand_est


def test_line_end_hyphen_rules() -> None:
    vocab: Counter[str] = Counter({"handicapées": 2, "seine-et-marne": 1})
    assert _join("les personnes han-", "dicapées sont", vocab) == "les personnes handicapées sont"
    assert _join("en Seine-", "et-Marne (77)", vocab) == "en Seine-et-Marne (77)"
    assert _join("au coronavirus-", "Covid 19", vocab) == "au coronavirus-Covid 19"
    assert _join("peut-", "être", vocab) == "peut-être"
    assert _join("l'indica-", "teur", vocab) == "l'indicateur"  # unknown either way: a typeset cut
    assert _join("fin", "de ligne", vocab) == "fin de ligne"


@needs_samples
def test_tables_are_pipe_tables_with_their_header(samples: dict[str, Bulletin]) -> None:
    spf = samples[SPF]
    assert spf.tables == 2
    assert "|  | Cas confirmés |\n|---|---|\n| Nombre de cas | 949 |" in spf.text
    assert "| Grand Est | 250 |" in spf.text
    assert "| Chine |  | 80 768 | +101 | 3 072 | +28 |" in spf.text
    drees = samples[DREES]
    assert drees.tables == 1
    assert "| Ouvriers | 14 | 20 | 61,9 | 44 | 7,5 | 4,3 |" in drees.text
    deck = samples[CEPIDC].text
    # rows stacked in one ruled cell are split; the two header rows merged, « Hommes » spanning its columns
    assert "| 2018 (p) | 614,0 | 79.4 |" in deck
    assert "| Hommes 0 an | Hommes 1 an |" in deck
    assert samples[GRAND_EST].tables == 0  # a justified list of counts is not a table


# -- bad files --------------------------------------------------------------------------------


def _pdf(pages: int = 1, *, encrypt: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if encrypt:
        writer.encrypt(user_password=encrypt, owner_password=encrypt + "!")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _with_text(raw: bytes, *, encrypt: str | None = None) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
    if encrypt:
        writer.encrypt(user_password=encrypt, owner_password=encrypt + "!", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _reason(raw: bytes, **kw: object) -> str:
    with pytest.raises(BulletinError) as err:
        parse_bulletin(raw, "uploads/x.pdf", fmt="pdf", **kw)  # type: ignore[arg-type]
    return str(err.value)


def test_bad_pdfs_get_a_clear_reason() -> None:
    assert "vide" in _reason(b"")
    assert "pas un PDF" in _reason(b"Bonjour, ceci est un texte.\n")
    assert "endommagé" in _reason(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    assert "sans aucune page" in _reason(_pdf(0))
    assert "aucun texte" in _reason(_pdf(2))  # pictures only: no OCR here
    assert "trop long (200 pages, limite 150)" in _reason(_pdf(200))
    assert "trop long" in _reason(_pdf(3), max_pages=2)


@needs_samples
def test_encrypted_and_truncated_samples() -> None:
    raw = (SAMPLES / GRAND_EST).read_bytes()
    assert "mot de passe" in _reason(_with_text(raw, encrypt="secret"))
    assert "endommagé" in _reason(raw[: len(raw) // 3]) or "aucun texte" in _reason(raw[: len(raw) // 3])
    # An empty user password (only an owner password: printing/copy restrictions) is readable.
    opened = parse_bulletin(_with_text(raw, encrypt=""), "uploads/x.pdf", fmt="pdf")
    assert "262 personnes" in opened.text


@needs_samples
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_pdf_bytes_never_escape_as_another_exception(data: st.DataObject) -> None:
    """Mutated bytes of a real sample: a Bulletin or a BulletinError, nothing else (pdfminer raises
    KeyError, struct.error, TypeError... on broken files)."""
    raw = bytearray((SAMPLES / GRAND_EST).read_bytes())
    for _ in range(data.draw(st.integers(1, 30))):
        at = data.draw(st.integers(0, len(raw) - 1))
        kind = data.draw(st.sampled_from(["flip", "cut", "splice"]))
        if kind == "flip":
            raw[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[at : at + data.draw(st.integers(1, 2000))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        if not raw:
            raw = bytearray(b"%PDF-")
    try:
        b = parse_bulletin(bytes(raw), "fuzz/x.pdf", fmt="pdf")
        assert b.text.strip() and b.page_starts and b.page_starts[0] == 0
    except BulletinError:
        pass  # refused with a reason: fine


# -- end to end -------------------------------------------------------------------------------


@needs_samples
def test_pdf_question_cites_file_and_page(tmp_path: Path, make_assistant) -> None:
    folder = tmp_path / "bulletins"
    folder.mkdir()
    (folder / GRAND_EST).write_bytes((SAMPLES / GRAND_EST).read_bytes())
    (folder / "protege.pdf").write_bytes(_with_text((SAMPLES / GRAND_EST).read_bytes(), encrypt="secret"))
    (folder / "casse.pdf").write_bytes(b"%PDF-1.4\n% rien\n")
    a = make_assistant()
    report = a.ingest([folder])
    assert report.added == [f"bulletins/{GRAND_EST}"]  # the bad files do not stop the batch
    assert sorted(f.path for f in report.failed) == ["bulletins/casse.pdf", "bulletins/protege.pdf"]
    info = report.bulletins[0]
    assert (info.pages, info.blank_pages, info.date) == (2, [], "2020-03-08") and info.figures > 10
    answer = a.ask("Combien de personnes ont été confirmées positives au coronavirus en Grand Est le 8 mars ?")
    assert not answer.abstained and answer.figures[0].value == 262
    cite = answer.citations[0]
    assert (cite.source, cite.page) == (f"bulletins/{GRAND_EST}", 1)
    bulletin = a.bulletin(cite.source)
    assert bulletin is not None and bulletin.text[cite.start : cite.end] == cite.quote
    assert a.stats().bulletins == 1  # nothing of the refused files went in
    again = a.ingest([folder])
    assert again.unchanged == [f"bulletins/{GRAND_EST}"] and not again.added
