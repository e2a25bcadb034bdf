"""HTTP API: every endpoint, status and error, with a real Assistant (real model, real Chroma).

In-process through FastAPI's TestClient, plus one real ``assistant serve`` process on loopback.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient

from assistant import Assistant
from assistant.embeddings import Embedder
from assistant.http_api import MAX_BATCH, MAX_UPLOAD_FILES, ApiKeys, create_app
from assistant.models import answer_json_schema
from assistant.settings import Settings

from .conftest import GRAND_EST, Q_GRAND_EST, SAMPLES
from .conftest_server import ApiServer, clean_env, store_copy

#: Fixtures (chroma_server, built_store) registered once for the session, shared by the modules using them.
pytest_plugins = ["tests.conftest_server"]

KEY, KEY2 = "test-key-1-Qw7Rt9", "second-key"
HEADLINE = "Combien d'assurés ont activé Mon Espace Santé ?"
BULLETIN_MD = """---
title: Centres de vaccination mobiles
date: 2026-04-02
---
Les centres de vaccination mobiles ont réalisé 48 250 injections en mars 2026, selon l'agence régionale de santé.

Les tournées couvrent désormais 312 communes rurales.
"""
MOBILE_Q = "Combien d'injections les centres de vaccination mobiles ont-ils réalisées en mars 2026 ?"


def _same(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


def _settings(a: Assistant, **changes: Any) -> Settings:
    return dataclasses.replace(a.settings, **changes)


@pytest.fixture
def corpus_root(tmp_path: Path) -> Path:
    root = tmp_path / "root" / "corpus"
    root.mkdir(parents=True)
    return root


@pytest.fixture
def keyed(corpus_assistant: Assistant, corpus_root: Path) -> Iterator[TestClient]:
    """API with two keys over the shared corpus store (read-only use)."""
    app = create_app(corpus_assistant, _settings(corpus_assistant, api_keys=(KEY, KEY2), corpus_dir=corpus_root))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def open_api(corpus_assistant: Assistant, corpus_root: Path) -> Iterator[TestClient]:
    """API without any key configured (ask is open, ingest refused)."""
    app = create_app(corpus_assistant, _settings(corpus_assistant, api_keys=(), corpus_dir=corpus_root))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def writer(tmp_path: Path, embedder: Embedder, corpus_root: Path) -> Iterator[TestClient]:
    """API with a key over a fresh, empty store (ingest tests), small file cap."""
    settings = Settings.from_env(
        env={}, data_dir=tmp_path / "store", corpus_dir=corpus_root, api_keys=KEY, max_file_bytes=4000
    )
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a, TestClient(create_app(a)) as client:
        client.headers["X-API-Key"] = KEY
        yield client


def _error(r: httpx.Response, status: int, type_: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and {"type", "message", "hint"} <= set(body["error"])
    assert "Traceback" not in r.text
    if type_:
        assert body["error"]["type"] == type_, body
    return body["error"]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --------------------------------------------------------------------------
# /ask and /ask/batch
# --------------------------------------------------------------------------


def test_ask_returns_the_core_answer_contract(open_api: TestClient, corpus_assistant: Assistant) -> None:
    r = open_api.post("/ask", json={"question": HEADLINE})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    data = r.json()
    jsonschema.validate(data, answer_json_schema())
    assert _same(data) == _same(corpus_assistant.ask(HEADLINE).to_dict())
    assert data["figures"][0]["value"] == 24_000_000 and "total_ms" in data["timings_ms"]


def test_ask_with_history_filters_and_k(open_api: TestClient) -> None:
    old = open_api.post("/ask", json={"question": HEADLINE, "filters": {"date_to": "2025-12-31"}}).json()
    assert old["figures"][0]["value"] == 17_000_000 and all(c["date"] <= "2025-12-31" for c in old["citations"])
    only = open_api.post(
        "/ask", json={"question": HEADLINE, "filters": {"sources": ["corpus/bulletin-urgences-2025-06-12.txt"]}}
    ).json()
    assert only["abstained"]
    history = [{"role": "user", "content": HEADLINE}, {"role": "assistant", "content": "24 millions [1]."}]
    follow = open_api.post("/ask", json={"question": "Et en janvier 2025 ?", "history": history, "k": 5})
    assert follow.status_code == 200 and follow.json()["answer"]


def test_batch_keeps_order_and_is_capped(open_api: TestClient, corpus_assistant: Assistant) -> None:
    questions = [HEADLINE, "Combien d'établissements alimentent le DMP ?", "Quel est le prix du pain ?"]
    r = open_api.post("/ask/batch", json={"questions": [{"question": q} for q in questions]})
    assert r.status_code == 200
    answers = r.json()
    assert [a["question"] for a in answers] == questions
    assert [_same(a) for a in answers] == [_same(corpus_assistant.ask(q).to_dict()) for q in questions]

    too_many = {"questions": [{"question": HEADLINE}] * (MAX_BATCH + 1)}
    assert "questions" in _error(open_api.post("/ask/batch", json=too_many), 422, "InvalidRequest")["message"]
    _error(open_api.post("/ask/batch", json={"questions": []}), 422, "InvalidRequest")
    bad = open_api.post("/ask/batch", json={"questions": [{"question": HEADLINE}, {"question": "  "}]})
    assert _error(bad, 422, "InvalidQuestionError")["message"] == "questions[1] : La question est vide."


@pytest.mark.parametrize(
    ("body", "type_", "needle"),
    [
        ({"question": ""}, "InvalidQuestionError", "vide"),
        ({"question": " \n\t "}, "InvalidQuestionError", "vide"),
        ({"question": "x" * 2001}, "InvalidQuestionError", "limite 2000"),
        ({"question": 12}, "InvalidRequest", "question"),
        ({"question": None}, "InvalidRequest", "question"),
        ({}, "InvalidRequest", "question"),
        ([HEADLINE], "InvalidRequest", "body"),
        ({"question": HEADLINE, "unknown": 1}, "InvalidRequest", "unknown"),
        ({"question": HEADLINE, "filters": {"date_from": "hier"}}, "InvalidRequest", "filters.date_from"),
        ({"question": HEADLINE, "filters": {"date_from": "2026-01-01", "date_to": "2025-01-01"}}, None, "date_from"),
        ({"question": HEADLINE, "filters": {"sources": "corpus/x.txt"}}, "InvalidRequest", "filters.sources"),
        ({"question": HEADLINE, "history": [{"role": "robot", "content": "x"}]}, "InvalidRequest", "history.0.role"),
        ({"question": HEADLINE, "history": "bonjour"}, "InvalidRequest", "history"),
        ({"question": HEADLINE, "k": 0}, "InvalidRequest", "k"),
    ],
)
def test_bad_input_is_422_with_a_clear_message(open_api: TestClient, body: Any, type_: str | None, needle: str) -> None:
    error = _error(open_api.post("/ask", json=body), 422, type_)
    assert needle in error["message"]


def test_malformed_and_oversized_bodies(open_api: TestClient) -> None:
    bad_json = open_api.post("/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert "JSON invalide" in _error(bad_json, 422, "InvalidRequest")["message"]
    huge = json.dumps({"question": "x" * (2 << 20)}).encode()
    r = open_api.post("/ask", content=huge, headers={"content-type": "application/json"})
    assert "limite" in _error(r, 413, "PayloadTooLarge")["message"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: the byte count stops it
        yield b'{"question": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    r = open_api.post("/ask", content=chunked(), headers={"content-type": "application/json"})
    _error(r, 413, "PayloadTooLarge")


# --------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------


def test_keys_guard_reads_when_configured(keyed: TestClient) -> None:
    body = {"question": HEADLINE}
    missing = keyed.post("/ask", json=body)
    wrong = keyed.post("/ask", json=body, headers={"X-API-Key": KEY + "x"})
    wrong_bearer = keyed.post("/ask", json=body, headers={"Authorization": "Bearer nope"})
    basic = keyed.post("/ask", json=body, headers={"Authorization": f"Basic {KEY2}"})
    for r in (missing, wrong, wrong_bearer, basic):
        _error(r, 401, "Unauthorized")
        assert r.json() == missing.json(), "no hint of why: same body for missing and wrong keys"
        assert r.headers["www-authenticate"] == "Bearer"
        assert KEY not in r.text and KEY2 not in r.text
    assert keyed.post("/ask", json=body, headers={"X-API-Key": KEY}).status_code == 200
    assert keyed.post("/ask", json=body, headers={"Authorization": f"Bearer {KEY2}"}).status_code == 200
    assert keyed.post("/ask/batch", json={"questions": [body]}).status_code == 401
    assert keyed.get("/stats").status_code == 401
    assert keyed.get("/sources/corpus/bulletin-urgences-2025-06-12.txt").status_code == 401
    assert keyed.get("/stats", headers={"X-API-Key": KEY2}).status_code == 200
    for open_path in ("/health", "/openapi.json", "/docs"):
        assert keyed.get(open_path).status_code == 200, open_path
    # The key is checked before the body is validated.
    _error(keyed.post("/ask", json={"question": 3}), 401)


def test_keys_compare_in_constant_time_form() -> None:
    keys = ApiKeys(["a", "bb", ""])
    assert keys.configured and keys.accepts(["bb"]) and keys.accepts([None, "a"])
    assert not keys.accepts(["b"]) and not keys.accepts([""]) and not keys.accepts([None])
    assert not ApiKeys([]).configured and not ApiKeys([]).accepts(["a"])


def test_ingest_is_refused_when_no_key_is_configured(open_api: TestClient, corpus_root: Path) -> None:
    for headers in ({}, {"X-API-Key": KEY}):
        r = open_api.post("/ingest", json={}, headers=headers)
        assert "ASSISTANT_API_KEYS" in _error(r, 403, "Forbidden")["hint"]
        r = open_api.post("/ingest", files={"files": ("a.txt", b"Bulletin\n\n12 cas.")}, headers=headers)
        _error(r, 403, "Forbidden")
    assert _tree(corpus_root) == []


def test_ingest_needs_the_key(writer: TestClient, corpus_root: Path) -> None:
    r = writer.post("/ingest", files={"files": ("a.txt", b"Bulletin\n\n12 cas.")}, headers={"X-API-Key": "bad"})
    _error(r, 401, "Unauthorized")
    assert _tree(corpus_root) == []


# --------------------------------------------------------------------------
# /ingest: uploads and folders
# --------------------------------------------------------------------------


def test_upload_adds_a_bulletin_that_answers_and_opens(writer: TestClient, corpus_root: Path) -> None:
    r = writer.post(
        "/ingest", files=[("files", ("vaccination-mobile-2026-04.md", BULLETIN_MD.encode(), "text/markdown"))]
    )
    assert r.status_code == 200, r.text
    report = r.json()
    bid = "corpus/vaccination-mobile-2026-04.md"
    assert report["added"] == [bid] and report["chunks_added"] >= 1 and not report["failed"]
    assert (corpus_root / "vaccination-mobile-2026-04.md").read_text(encoding="utf-8") == BULLETIN_MD
    assert _tree(corpus_root) == ["vaccination-mobile-2026-04.md"]  # no temporary file left

    answer = writer.post("/ask", json={"question": MOBILE_Q}).json()
    assert not answer["abstained"] and answer["figures"][0]["value"] == 48_250
    cite = answer["citations"][0]
    assert cite["source"] == bid
    opened = writer.get(f"/sources/{bid}").json()
    assert (
        opened["id"] == bid and opened["date"] == "2026-04-02" and opened["title"] == "Centres de vaccination mobiles"
    )
    assert opened["text"][cite["start"] : cite["end"]] == cite["quote"]

    again = writer.post("/ingest", files={"files": ("vaccination-mobile-2026-04.md", BULLETIN_MD.encode())}).json()
    assert again["unchanged"] == [bid]
    changed = BULLETIN_MD.replace("48 250", "51 000").encode()
    updated = writer.post("/ingest", files={"files": ("vaccination-mobile-2026-04.md", changed)}).json()
    assert updated["updated"] == [bid]
    assert writer.post("/ask", json={"question": MOBILE_Q}).json()["figures"][0]["value"] == 51_000
    stats = writer.get("/stats").json()
    assert stats["bulletins"] == 1 and stats["sources"] == [bid]


def _multipart(names: list[bytes], content: bytes = b"Bulletin\n\nIl y a eu 12 cas.\n") -> tuple[bytes, str]:
    """A hand-built multipart body, so that file names reach the server byte for byte."""
    boundary = b"testboundary7MA4YWxkTrZu0gW"
    parts = [
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="' + name + b'"\r\n'
        b"Content-Type: text/plain\r\n\r\n" + content + b"\r\n"
        for name in names
    ]
    return b"".join(parts) + b"--" + boundary + b"--\r\n", "multipart/form-data; boundary=" + boundary.decode()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        (b"../../evil.txt", "nom de fichier refusé"),
        (b"../corpus2/evil.txt", "nom de fichier refusé"),
        (b"/etc/evil.txt", "nom de fichier refusé"),
        (b"..", "nom de fichier refusé"),
        (b".", "nom de fichier refusé"),
        (b"sub/evil.txt", "nom de fichier refusé"),
        (b"..\\..\\evil.txt", "nom de fichier refusé"),
        (b"C:\\Users\\x\\evil.txt", None),  # None: refused, or kept as its basename (IE-style full path)
        (b"\\\\server\\share\\evil.txt", None),
        (b"evil\x00.txt", "nom de fichier refusé"),
        (b"evil.txt\x00.png", "nom de fichier refusé"),
        (b"evil\n.txt", "nom de fichier refusé"),
        (b".hidden.txt", "nom de fichier refusé"),
        (b"", "nom de fichier refusé"),
        (b"evil.exe", "type de fichier refusé"),
        (b"evil.txt.sh", "type de fichier refusé"),
        (b"evil", "type de fichier refusé"),
    ],
)
def test_upload_names_never_escape_the_corpus_root(
    writer: TestClient, corpus_root: Path, tmp_path: Path, name: bytes, reason: str | None
) -> None:
    before = _tree(tmp_path)
    body, ctype = _multipart([name])
    r = writer.post("/ingest", content=body, headers={"content-type": ctype})
    if reason is None and r.status_code == 200:  # confined to its basename, in the corpus root
        assert r.json()["added"] == ["corpus/evil.txt"] and _tree(corpus_root) == ["evil.txt"]
        new = set(_tree(tmp_path)) - set(before)
        assert all(p.startswith(("store", "root")) for p in new), new
        return
    # The only file of the request was refused: 422, with the file and its reason listed.
    error = _error(r, 422)
    assert error["type"] in ("BulletinError", "InvalidUpload"), error
    if error["type"] == "BulletinError":
        assert [f["reason"].split(".")[0] for f in error["failed"]] == [reason or "nom de fichier refusé"]
    assert _tree(tmp_path) == before and _tree(corpus_root) == []
    assert not Path("/etc/evil.txt").exists()


def test_a_bad_file_does_not_stop_the_rest_of_the_batch(writer: TestClient, corpus_root: Path) -> None:
    """Issue 13: each refused file gets its reason and writes nothing; the others still go in (was all-or-nothing)."""
    body, ctype = _multipart([b"../escape.txt", b"bulletin-cas-2026-05.txt", b".cache.txt", b"notes.exe"])
    r = writer.post("/ingest", content=body, headers={"content-type": ctype})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["added"] == ["corpus/bulletin-cas-2026-05.txt"]
    assert [f["path"] for f in report["failed"]] == ["../escape.txt", ".cache.txt", "notes.exe"]
    assert report["failed"][2]["reason"].startswith("type de fichier refusé. Formats acceptés : .txt, .md")
    assert _tree(corpus_root) == ["bulletin-cas-2026-05.txt"]
    assert writer.get("/stats").json()["sources"] == ["corpus/bulletin-cas-2026-05.txt"]

    mixed = [
        ("files", ("good.md", BULLETIN_MD.encode())),
        ("files", ("bin.txt", b"\x00\x01PNG\x00")),
        ("files", ("good.md", b"Autre\n\n13 cas.")),
    ]
    report = writer.post("/ingest", files=mixed).json()
    assert report["added"] == ["corpus/good.md"]
    assert [(f["path"], k in f["reason"]) for f, k in zip(report["failed"], ("binaire", "deux fois"), strict=True)] == [
        ("bin.txt", True),
        ("good.md", True),
    ]
    assert (corpus_root / "good.md").read_text(encoding="utf-8") == BULLETIN_MD  # the first one, not the second
    assert "corpus/bin.txt" not in writer.get("/stats").json()["sources"] and not (corpus_root / "bin.txt").exists()


def test_upload_limits_and_unreadable_files(writer: TestClient, corpus_root: Path) -> None:
    big = b"Bulletin\n\n" + b"12 cas. " * 600  # > max_file_bytes (4000): the whole request is refused
    r = writer.post("/ingest", files=[("files", ("ok.txt", b"Bulletin\n\n12 cas.")), ("files", ("big.txt", big))])
    assert "big.txt" in _error(r, 413, "PayloadTooLarge")["message"]
    many = [("files", (f"b{i}.txt", b"Bulletin\n\n12 cas.")) for i in range(MAX_UPLOAD_FILES + 1)]
    _error(writer.post("/ingest", files=many), 422, "InvalidUpload")
    boundary = "b0undary"
    no_file = f'--{boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nrien\r\n--{boundary}--\r\n'
    r = writer.post(
        "/ingest", content=no_file.encode(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert "Aucun fichier" in _error(r, 422, "InvalidUpload")["message"]
    # Every file refused: 422, each with its reason; nothing written.
    both = [("files", ("bin.txt", b"\x00\x01PNG\x00")), ("files", ("latin.txt", "Café : 12 %".encode("latin-1")))]
    error = _error(writer.post("/ingest", files=both), 422, "BulletinError")
    assert "binaire" in error["message"] and "1 autre" in error["message"]
    assert [f["path"] for f in error["failed"]] == ["bin.txt", "latin.txt"] and "UTF-8" in error["failed"][1]["reason"]
    latin1 = writer.post("/ingest", files={"files": ("latin.txt", "Café : 12 %".encode("latin-1"))})
    assert "UTF-8" in _error(latin1, 422, "BulletinError")["message"]
    _error(writer.post("/ingest", content=b"x", headers={"content-type": "text/plain"}), 415, "UnsupportedMediaType")
    huge = writer.post(
        "/ingest",
        content=b"x" * (MAX_UPLOAD_FILES * 4000 + (2 << 20)),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    _error(huge, 413, "PayloadTooLarge")
    assert _tree(corpus_root) == []


def test_ingest_a_folder_named_relative_to_the_corpus_root(
    writer: TestClient, corpus_root: Path, tmp_path: Path
) -> None:
    (corpus_root / "sub").mkdir()
    (corpus_root / "sub" / "mobile.md").write_text(BULLETIN_MD, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\n99 cas.", encoding="utf-8")
    (corpus_root / "link").symlink_to(outside, target_is_directory=True)

    report = writer.post("/ingest", json={"folder": "sub"}).json()
    assert report["added"] == ["sub/mobile.md"]
    for folder in ("../outside", "/etc", "sub/../../outside", "..\\outside", "sub\x00", "link"):
        _error(writer.post("/ingest", json={"folder": folder}), 422, "InvalidFolder")
    assert (
        "introuvable" in _error(writer.post("/ingest", json={"folder": "missing"}), 404, "MissingPathError")["message"]
    )
    _error(writer.post("/ingest", json={"folder": 3}), 422, "InvalidRequest")
    _error(writer.post("/ingest", json={"folder": "sub", "reindex": True}), 422, "InvalidRequest")
    pruned = writer.post("/ingest", json={"folder": "sub", "prune": True})
    assert pruned.status_code == 200 and pruned.json()["unchanged"] == ["sub/mobile.md"]
    assert "corpus/link/secret.txt" not in writer.get("/stats").json()["sources"]


# --------------------------------------------------------------------------
# /stats, /health, /sources, errors
# --------------------------------------------------------------------------


def test_stats_health_and_sources(open_api: TestClient, corpus_assistant: Assistant) -> None:
    stats = open_api.get("/stats").json()
    assert stats == corpus_assistant.stats().model_dump(mode="json")
    health = open_api.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["model"]["loaded"] and health.json()["store"]["reachable"]

    answer = open_api.post("/ask", json={"question": HEADLINE}).json()
    cite = answer["citations"][0]
    r = open_api.get(f"/sources/{cite['source']}")
    assert r.status_code == 200
    bulletin = r.json()
    assert set(bulletin) == {"id", "title", "date", "source", "url", "pages", "file_url", "text"}
    assert bulletin["text"][cite["start"] : cite["end"]] == cite["quote"] and bulletin["date"] == cite["date"]
    assert bulletin["pages"] is None
    for unknown in ("corpus/nope.txt", "../../etc/passwd", "x" * 2000):
        _error(open_api.get(f"/sources/{unknown}"), 404, "NotFound")
        _error(open_api.get(f"/sources/{unknown}", params={"format": "file"}), 404, "NotFound")
    # This store was ingested from the repository's corpus/, not from this API's corpus root: never served.
    assert bulletin["file_url"] is None
    refused = _error(open_api.get(f"/sources/{cite['source']}", params={"format": "file"}), 404, "NotFound")
    assert "ASSISTANT_CORPUS_DIR" in refused["hint"]
    _error(open_api.get(f"/sources/{cite['source']}", params={"format": "pdf"}), 422, "InvalidRequest")


def test_sources_serve_the_original_file_only_from_the_corpus_root(
    writer: TestClient, corpus_root: Path, tmp_path: Path
) -> None:
    r = writer.post("/ingest", files={"files": ("vaccination-mobile-2026-04.md", BULLETIN_MD.encode())})
    assert r.json()["added"] == ["corpus/vaccination-mobile-2026-04.md"]
    opened = writer.get("/sources/corpus/vaccination-mobile-2026-04.md").json()
    assert opened["pages"] is None and opened["file_url"] == "/sources/corpus/vaccination-mobile-2026-04.md?format=file"
    original = writer.get(opened["file_url"])
    assert original.status_code == 200 and original.content == BULLETIN_MD.encode()
    assert original.headers["content-type"] == "text/markdown; charset=utf-8"
    assert original.headers["x-content-type-options"] == "nosniff"
    assert original.headers["content-security-policy"].startswith("sandbox")  # bulletin markup never runs
    assert original.headers["content-disposition"].startswith("inline")

    # Ingested from outside the corpus root (CLI / Python API): the text is there, the file is not served.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nIl y a 99 cas.\n", encoding="utf-8")
    assistant: Assistant = writer.app.state.assistant  # type: ignore[attr-defined]
    assert assistant.ingest([outside / "secret.txt"]).added == ["outside/secret.txt"]
    meta = writer.get("/sources/outside/secret.txt")
    assert meta.status_code == 200 and meta.json()["file_url"] is None and "99 cas" in meta.json()["text"]
    error = _error(writer.get("/sources/outside/secret.txt", params={"format": "file"}), 404, "NotFound")
    assert "secret" not in error["hint"]
    # A symlink inside the root pointing outside resolves outside: not served either.
    (outside / "linked.txt").write_text("Lien\n\nIl y a 7 cas.\n", encoding="utf-8")
    (corpus_root / "linked.txt").symlink_to(outside / "linked.txt")
    assert "corpus/linked.txt" in writer.post("/ingest", json={"folder": ""}).json()["added"]
    assert writer.get("/sources/corpus/linked.txt").json()["file_url"] is None
    _error(writer.get("/sources/corpus/linked.txt", params={"format": "file"}), 404, "NotFound")
    # A file removed since its ingest: 404 too.
    (corpus_root / "vaccination-mobile-2026-04.md").unlink()
    _error(writer.get(opened["file_url"]), 404, "NotFound")


@pytest.fixture
def pdf_writer(tmp_path: Path, embedder: Embedder, corpus_root: Path) -> Iterator[TestClient]:
    """Like ``writer``, with the default file cap (PDFs weigh hundreds of kB)."""
    if not GRAND_EST.is_file():
        pytest.skip(f"PDF samples absent: {SAMPLES} (CI checks out ../shared beside the clone)")
    settings = Settings.from_env(env={}, data_dir=tmp_path / "store", corpus_dir=corpus_root, api_keys=KEY)
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a, TestClient(create_app(a)) as client:
        client.headers["X-API-Key"] = KEY
        yield client


def test_pdf_upload_answers_with_a_page_and_serves_the_pdf(pdf_writer: TestClient, corpus_root: Path) -> None:
    data = GRAND_EST.read_bytes()
    r = pdf_writer.post("/ingest", files={"files": (GRAND_EST.name, data, "application/pdf")})
    assert r.status_code == 200, r.text
    bid = f"corpus/{GRAND_EST.name}"
    report = r.json()
    assert report["added"] == [bid] and report["bulletins"][0]["pages"] == 2
    answer = pdf_writer.post("/ask", json={"question": Q_GRAND_EST}).json()
    assert answer["figures"][0]["value"] == 262
    cite = answer["citations"][0]
    assert cite["source"] == bid and cite["page"] == 1
    opened = pdf_writer.get(f"/sources/{bid}").json()
    assert opened["pages"] == 2 and opened["text"][cite["start"] : cite["end"]] == cite["quote"]
    original = pdf_writer.get(opened["file_url"])
    assert original.status_code == 200 and original.content == data
    assert original.headers["content-type"] == "application/pdf"
    assert "content-security-policy" not in original.headers  # browsers refuse to show a sandboxed PDF
    assert (corpus_root / GRAND_EST.name).read_bytes() == data


def test_unknown_routes_and_methods(open_api: TestClient) -> None:
    _error(open_api.get("/nope"), 404, "NotFound")
    _error(open_api.get("/ask"), 405, "MethodNotAllowed")


def test_openapi_documents_every_endpoint(open_api: TestClient) -> None:
    spec = open_api.get("/openapi.json").json()
    assert {"/ask", "/ask/batch", "/ingest", "/stats", "/health", "/sources/{bulletin_id}"} <= set(spec["paths"])
    assert set(spec["paths"]["/ingest"]["post"]["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/json",
    }
    assert {"APIKeyHeader", "HTTPBearer"} <= set(spec["components"]["securitySchemes"])
    assert "2000" in spec["info"]["description"]
    assert ".pdf" in spec["info"]["description"] and ".docx" in spec["info"]["description"]
    assert "failed" in spec["paths"]["/ingest"]["post"]["description"]
    params = {p["name"]: p for p in spec["paths"]["/sources/{bulletin_id}"]["get"]["parameters"]}
    assert params["format"]["schema"]["enum"] == ["json", "file"]
    assert "application/pdf" in spec["paths"]["/sources/{bulletin_id}"]["get"]["responses"]["200"]["content"]
    assert "swagger" in open_api.get("/docs").text.lower()


class _Broken(Assistant):
    def ask(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("détail interne /srv/secret")


def test_unexpected_failure_is_500_with_an_error_id(
    tmp_path: Path, embedder: Embedder, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_env(env={}, data_dir=tmp_path / "d", corpus_dir=tmp_path / "c")
    with (
        _Broken(settings=settings, embedder=embedder, auto_ingest=False) as a,
        TestClient(create_app(a)) as client,
        caplog.at_level(logging.ERROR, logger="assistant.http_api"),
    ):
        r = client.post("/ask", json={"question": HEADLINE})
    error = _error(r, 500, "InternalError")
    assert error["id"] and error["id"] in error["hint"]
    assert "secret" not in r.text and "RuntimeError" not in r.text
    logged = [rec for rec in caplog.records if error["id"] in rec.getMessage()]
    assert logged and logged[0].exc_info and "secret" in str(logged[0].exc_info[1])


def test_store_down_is_503_and_unhealthy(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings.from_env(env={}, data_dir=tmp_path / "d", chroma_url="http://127.0.0.1:9")
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as a, TestClient(create_app(a)) as client:
        error = _error(client.post("/ask", json={"question": HEADLINE}), 503, "StoreError")
        assert "chroma run" in error["hint"]
        _error(client.get("/stats"), 503, "StoreError")
        health = client.get("/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable" and not health.json()["store"]["reachable"]


# --------------------------------------------------------------------------
# A real server process
# --------------------------------------------------------------------------


def test_real_serve_process_on_loopback(built_store: Path, tmp_path: Path, corpus_assistant: Assistant) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    env = clean_env(
        ASSISTANT_DATA_DIR=str(store_copy(built_store, tmp_path / "data")),
        ASSISTANT_CORPUS_DIR=str(corpus),
        ASSISTANT_API_KEYS=f"{KEY},{KEY2}",
    )
    server = ApiServer(tmp_path / "serve.log", env)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            assert client.get("/health").json()["status"] == "ok"
            assert client.get("/openapi.json").json()["paths"]["/ask"]
            _error(client.post("/ask", json={"question": HEADLINE}), 401, "Unauthorized")
            client.headers["Authorization"] = f"Bearer {KEY}"
            answer = client.post("/ask", json={"question": HEADLINE}).json()
            assert _same(answer) == _same(corpus_assistant.ask(HEADLINE).to_dict())
            batch = client.post("/ask/batch", json={"questions": [{"question": HEADLINE}, {"question": MOBILE_Q}]})
            assert [a["abstained"] for a in batch.json()] == [False, True]
            _error(client.post("/ask", json={"question": ""}), 422, "InvalidQuestionError")

            r = client.post("/ingest", files={"files": ("vaccination-mobile-2026-04.md", BULLETIN_MD.encode())})
            assert r.json()["added"] == ["corpus/vaccination-mobile-2026-04.md"]
            assert (corpus / "vaccination-mobile-2026-04.md").is_file()
            mobile = client.post("/ask", json={"question": MOBILE_Q}).json()
            assert mobile["figures"][0]["value"] == 48_250
            opened = client.get(f"/sources/{mobile['citations'][0]['source']}").json()
            assert "48 250 injections" in opened["text"]
    finally:
        code = server.stop()
    assert code in (0, -signal.SIGTERM), "graceful shutdown (uvicorn re-raises SIGTERM once shut down)"
    assert "Traceback" not in (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
