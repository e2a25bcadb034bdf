"""Uploads into the corpus folder (assistant/uploads.py) and Assistant.add_files, on a real store.

Names never leave the corpus root; one bad file in a batch is reported and the rest goes in;
the same bytes again change nothing; a new version under the same name replaces the chunks.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embeddings import Embedder
from assistant.errors import BulletinError, InvalidQuestionError
from assistant.settings import Settings
from assistant.uploads import (
    MAX_NAME_BYTES,
    UPLOAD_SUFFIXES,
    admin_unlocked,
    check_size,
    safe_filename,
    store_uploads,
)

from .conftest import GRAND_EST, Q_GRAND_EST, SAMPLES
from .conftest import MOBILE_MD as GOOD_MD

MOBILE_Q = "Combien d'injections les centres de vaccination mobiles ont-ils réalisées en mars 2026 ?"
GOOD_TXT = b"Urgences\n\nPublie le 3 mai 2026\n\nLes urgences ont accueilli 1 234 patients en avril 2026.\n"


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --------------------------------------------------------------------------
# Names, sizes, admin key
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["bulletin-2026-01.pdf", "Bilan été 2025.docx", "a.txt", "B.MD", "page.html", "x.markdown", "y.htm"]
)
def test_plain_names_with_an_allowed_suffix_are_kept_as_is(name: str) -> None:
    assert safe_filename(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x.pdf", "nom de fichier refusé"),
        ("../../etc/passwd.txt", "nom de fichier refusé"),
        ("sub/x.txt", "nom de fichier refusé"),
        ("/etc/x.txt", "nom de fichier refusé"),
        ("..\\x.txt", "nom de fichier refusé"),
        ("C:\\Users\\x.txt", "nom de fichier refusé"),
        (".hidden.md", "nom de fichier refusé"),
        (".upload-123.part", "nom de fichier refusé"),
        ("..", "nom de fichier refusé"),
        ("", "nom de fichier refusé"),
        (None, "nom de fichier refusé"),
        (" x.txt", "nom de fichier refusé"),
        ("x\x00.txt", "nom de fichier refusé"),
        ("x\n.txt", "nom de fichier refusé"),
        ("é" * (MAX_NAME_BYTES // 2) + ".txt", "nom de fichier refusé"),
        ("x.exe", "type de fichier refusé"),
        ("x.txt.sh", "type de fichier refusé"),
        ("x.doc", "type de fichier refusé"),
        ("x", "type de fichier refusé"),
    ],
)
def test_names_that_could_leave_the_root_or_hide_are_refused(name: str | None, reason: str) -> None:
    with pytest.raises(BulletinError) as info:
        safe_filename(name)
    assert info.value.reason == reason and info.value.hint


def test_every_loader_format_is_an_upload_format() -> None:
    assert {".pdf", ".docx", ".txt", ".md", ".html"} <= set(UPLOAD_SUFFIXES)


def test_size_cap() -> None:
    check_size("a.pdf", 10, 10)
    with pytest.raises(BulletinError, match="trop volumineux"):
        check_size("a.pdf", 11, 10)


def test_admin_key() -> None:
    assert not admin_unlocked("secret", None) and not admin_unlocked("", "") and not admin_unlocked(None, "k")
    assert admin_unlocked("clé-été", "clé-été")  # non-ASCII keys compare too
    assert not admin_unlocked("clé-été ", "clé-été") and not admin_unlocked("secre", "secret")


# --------------------------------------------------------------------------
# store_uploads: files on disk
# --------------------------------------------------------------------------


def test_partial_batch_writes_only_the_good_files_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "data" / "corpus"
    root.mkdir(parents=True)
    files = [
        ("../x.pdf", GOOD_TXT),
        (".hidden.md", GOOD_TXT),
        ("x.exe", GOOD_TXT),
        ("big.txt", b"Bulletin\n\n" + b"12 cas. " * 100),
        ("bin.txt", b"\x00\x01PNG\x00"),
        ("latin.txt", "Café : 12 %".encode("latin-1")),
        ("good.txt", GOOD_TXT),
        ("good.txt", b"Autre\n\n13 cas."),
        ("mobile.md", GOOD_MD.encode()),
    ]
    progress: list[tuple[str, int, int]] = []
    written, failures = store_uploads(
        root, files, max_bytes=500, max_pages=10, on_progress=lambda *a: progress.append(a)
    )
    assert written == [root / "good.txt", root / "mobile.md"]
    assert (root / "good.txt").read_bytes() == GOOD_TXT
    reasons = {f.path: f.reason for f in failures}
    assert list(reasons) == ["../x.pdf", ".hidden.md", "x.exe", "big.txt", "bin.txt", "latin.txt", "good.txt"]
    assert reasons["../x.pdf"].startswith("nom de fichier refusé. ")  # the hint follows the reason
    assert reasons["x.exe"].startswith("type de fichier refusé. Formats acceptés : .txt")
    assert "trop volumineux" in reasons["big.txt"] and "binaire" in reasons["bin.txt"]
    assert "UTF-8" in reasons["latin.txt"] and "deux fois" in reasons["good.txt"]
    assert _tree(tmp_path) == ["data", "data/corpus", "data/corpus/good.txt", "data/corpus/mobile.md"]
    assert progress == [("reading", i, len(files)) for i in range(1, len(files) + 1)]


def test_same_bytes_are_not_rewritten_and_a_new_version_replaces_the_file(tmp_path: Path) -> None:
    root = tmp_path / "corpus"  # created on first write
    (written,), failures = store_uploads(root, [("a.txt", GOOD_TXT)], max_bytes=10_000, max_pages=10)
    assert not failures and written.read_bytes() == GOOD_TXT
    before = os.stat(written)
    os.utime(written, ns=(before.st_atime_ns, before.st_mtime_ns - 10**9))
    stamped = os.stat(written)
    store_uploads(root, [("a.txt", GOOD_TXT)], max_bytes=10_000, max_pages=10)
    assert os.stat(written).st_mtime_ns == stamped.st_mtime_ns and os.stat(written).st_ino == stamped.st_ino
    newer = GOOD_TXT.replace(b"1 234", b"1 500")
    store_uploads(root, [("a.txt", newer)], max_bytes=10_000, max_pages=10)
    assert written.read_bytes() == newer and os.stat(written).st_ino != stamped.st_ino  # renamed into place
    assert _tree(root) == ["a.txt"]  # no temporary file left


def test_a_bad_new_version_leaves_the_file_on_disk(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    store_uploads(root, [("a.txt", GOOD_TXT)], max_bytes=10_000, max_pages=10)
    written, failures = store_uploads(root, [("a.txt", b"\x00binary")], max_bytes=10_000, max_pages=10)
    assert not written and [f.path for f in failures] == ["a.txt"]
    assert (root / "a.txt").read_bytes() == GOOD_TXT


def test_a_symlink_in_the_root_is_replaced_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"do not touch")
    (root / "a.txt").symlink_to(outside)
    (written,), _ = store_uploads(root, [("a.txt", GOOD_TXT)], max_bytes=10_000, max_pages=10)
    assert outside.read_bytes() == b"do not touch"
    assert not written.is_symlink() and written.read_bytes() == GOOD_TXT


# --------------------------------------------------------------------------
# Assistant.add_files: the store
# --------------------------------------------------------------------------


@pytest.fixture
def uploader(tmp_path: Path, embedder: Embedder) -> Iterator[Assistant]:
    """An assistant over an empty store whose corpus folder is a temp folder (never the real corpus/)."""
    settings = Settings.from_env(env={}, data_dir=tmp_path / "store", corpus_dir=tmp_path / "src" / "corpus")
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a:
        yield a


def test_one_bad_one_good_file_the_good_one_is_ingested(uploader: Assistant) -> None:
    root = uploader.settings.corpus_dir
    report = uploader.add_files([("bad.txt", b"\x00\x01"), ("mobile.md", GOOD_MD.encode())])
    assert report.added == ["corpus/mobile.md"] and not report.updated and report.chunks_added >= 1
    assert [(f.path, "binaire" in f.reason) for f in report.failed] == [("bad.txt", True)]
    assert report.bulletins[0].title == "Centres de vaccination mobiles" and report.bulletins[0].figures >= 1
    assert _tree(root) == ["mobile.md"]
    assert uploader.stats().sources == ["corpus/mobile.md"]
    answer = uploader.ask(MOBILE_Q)
    assert not answer.abstained and answer.figures[0].value == 48_250
    assert answer.citations[0].source == "corpus/mobile.md" and answer.citations[0].page is None


def test_same_bytes_unchanged_new_version_updated_bad_version_ignored(uploader: Assistant) -> None:
    uploader.add_files([("mobile.md", GOOD_MD.encode())])
    again = uploader.add_files([("mobile.md", GOOD_MD.encode())])
    assert again.unchanged == ["corpus/mobile.md"] and again.chunks_embedded == 0 and not again.changed

    chunks = uploader.store.count()
    newer = uploader.add_files([("mobile.md", GOOD_MD.replace("48 250", "51 000").encode())])
    assert newer.updated == ["corpus/mobile.md"] and newer.chunks_removed >= 1
    assert uploader.store.count() == chunks  # replaced, not added beside
    assert uploader.ask(MOBILE_Q).figures[0].value == 51_000

    stamp = uploader.store.stamp
    broken = uploader.add_files([("mobile.md", b"---\ntitle: [\n---\nx")])
    assert [f.path for f in broken.failed] == ["mobile.md"] and not broken.changed
    assert uploader.store.stamp == stamp  # store untouched
    assert uploader.ask(MOBILE_Q).figures[0].value == 51_000


def test_nothing_to_add_is_an_error(uploader: Assistant) -> None:
    with pytest.raises(InvalidQuestionError):
        uploader.add_files([])
    report = uploader.add_files([("../escape.txt", GOOD_TXT)])
    assert not report.changed and [f.path for f in report.failed] == ["../escape.txt"]
    assert not (uploader.settings.corpus_dir.parent / "escape.txt").exists()


def test_pdf_upload_answers_with_its_page(uploader: Assistant) -> None:
    if not GRAND_EST.is_file():
        pytest.skip(f"PDF samples absent: {SAMPLES} (CI checks out ../shared beside the clone)")
    progress: list[str] = []
    files = [(GRAND_EST.name, GRAND_EST.read_bytes())]
    report = uploader.add_files(files, on_progress=lambda stage, *_: progress.append(stage))
    assert not report.failed, report.failed
    assert report.added == [f"corpus/{GRAND_EST.name}"]
    info = report.bulletins[0]
    assert info.pages == 2 and info.date == "2020-03-08" and info.figures > 5
    assert progress[0] == "reading" and "embedding" in progress and progress[-1] == "writing"
    answer = uploader.ask(Q_GRAND_EST)
    assert not answer.abstained and answer.figures[0].value == 262
    assert answer.citations[0].page == 1 and "262 personnes" in answer.citations[0].quote


def test_an_upload_is_parsed_once(uploader: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse that checks an upload is the one the ingest uses (a PDF takes seconds to read)."""
    import assistant.loading as loading

    calls: list[str] = []
    real = loading.parse_text

    def counted(raw: bytes, bulletin_id: str, **kw: object) -> object:
        calls.append(bulletin_id)
        return real(raw, bulletin_id, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(loading, "parse_text", counted)
    report = uploader.add_files([("urgences-2026-05.txt", GOOD_TXT)])
    assert len(report.added) == 1 and not report.failed
    assert len(calls) == 1
