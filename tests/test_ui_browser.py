"""The Streamlit chat in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Starts ``streamlit run ui/app.py`` on a free loopback port over a temp copy of
corpus/ plus a hostile bulletin, then checks an answer end to end, that
bulletin text full of HTML/Markdown tricks renders inert, and that an admin
uploads a real PDF through the file chooser and gets its figure cited with its page.
Never downloads a browser: Playwright only drives the system Chromium.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from assistant.loading import SUFFIXES

from .conftest import GRAND_EST, Q_GRAND_EST, SAMPLES

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIRST_ANSWER_TIMEOUT_MS = 600_000  # model load + first ingest on 2 shared cores
ANSWER_TIMEOUT_MS = 120_000

ADMIN_KEY = "browser-admin-Kq3"
UPLOAD_TIMEOUT_MS = 600_000  # PDF parse + embedding on 2 shared cores

SEED = "corpus/bulletin-mon-espace-sante-2026-01.txt"
HOSTILE_NAME = "bulletin-alerte-grippe-aviaire-2026-02.txt"
HOSTILE_PAYLOAD = (
    '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
    "![x](http://127.0.0.1:9/leak) [clic](javascript:window.__pwned=3)"
)
HOSTILE_BULLETIN = (
    "Alerte grippe aviaire <script>window.__pwned=4</script> : les tests se multiplient\n\n"
    "Publié le 2 février 2026\n\n"
    f"Alerte : 42 % des tests de grippe aviaire réalisés en élevage sont positifs {HOSTILE_PAYLOAD} "
    "selon le laboratoire national de référence.\n\n"
    "Les éleveurs sont invités à signaler tout cas suspect ![y](http://127.0.0.1:9/leak2).\n"
)

if not CHROMIUM.exists():
    pytest.skip("Debian chromium missing: apt-get install -y chromium chromium-driver", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Server:
    url: str
    port: int
    started: float  # time.monotonic() at launch
    log: Path
    timings: dict[str, float]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def streamlit_chat(root: Path, **env_vars: str) -> Iterator[Server]:
    """``streamlit run ui/app.py`` on a free loopback port over a temp copy of corpus/ (``root/src/corpus``) and
    data dir, with ``env_vars`` added; always stopped."""
    corpus = root / "src" / "corpus"
    if not corpus.exists():
        shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    port = _free_port()
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(root / "data"),
        "ASSISTANT_CORPUS_DIR": str(corpus),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        **env_vars,
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", "ui/app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = root / "streamlit.log"
    with log.open("wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(f"{url}/_stcore/health", proc, log)
        srv = Server(url=url, port=port, started=started, log=log, timings={})
        srv.timings["launch_to_http_s"] = round(time.monotonic() - started, 2)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The chat over the corpus plus a hostile bulletin, an admin key set."""
    root = tmp_path_factory.mktemp("ui-browser")
    shutil.copytree(CORPUS, root / "src" / "corpus", ignore=shutil.ignore_patterns("*.jsonl"))
    (root / "src" / "corpus" / HOSTILE_NAME).write_text(HOSTILE_BULLETIN, encoding="utf-8")
    with streamlit_chat(root, ASSISTANT_ADMIN_KEY=ADMIN_KEY) as srv:
        yield srv
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "ui-timings.json").write_text(json.dumps(srv.timings, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser session that records every request it makes."""
    context = browser.new_context(viewport={"width": 1280, "height": 1500}, locale="fr-FR")
    pg = context.new_page()
    pg.requests = []  # type: ignore[attr-defined]
    pg.on("request", lambda req: pg.requests.append(req.url))  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()


def ask(page: Any, server: Server, question: str, figure: str) -> float:
    """Open the app, ask ``question``; returns seconds from Enter to the figure being shown."""
    page.goto(server.url, wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)
    box.fill(question)
    t0 = time.monotonic()
    box.press("Enter")
    page.get_by_test_id("stMetricValue").filter(has_text=figure).first.wait_for(
        state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS
    )
    latency = time.monotonic() - t0
    # The reply is drawn top to bottom; the copy expander and thumbs come last.
    page.get_by_text("Copier la réponse et ses sources").first.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    page.get_by_test_id("stFeedback").first.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    assert page.get_by_test_id("stException").count() == 0
    return latency


def expand_all(page: Any) -> None:
    for summary in page.locator('[data-testid="stExpander"] summary').all():
        summary.click()
    page.wait_for_timeout(500)


def test_answer_in_browser(page: Any, server: Server) -> None:
    latency = ask(page, server, "Combien d'assurés ont activé Mon Espace Santé ?", "24 millions")
    first = "launch_to_first_answer_s" not in server.timings
    if first:
        server.timings["launch_to_first_answer_s"] = round(time.monotonic() - server.started, 2)
    server.timings["browser_answer_latency_s"] = round(latency, 2)
    body = page.inner_text("body")
    assert "24 millions" in body
    # The seed has no title line (its first sentence stands in): the source is headed from its file name.
    assert "[1] Bulletin mon espace santé 2026-01" in body
    assert "29 janvier 2026" in body
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "ui-answer.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"\nUI timings: {server.timings}; screenshot: {shot}")


def test_hostile_bulletin_renders_inert(page: Any, server: Server) -> None:
    latency = ask(page, server, "Quel pourcentage des tests de grippe aviaire sont positifs ?", "42 %")
    server.timings.setdefault("launch_to_first_answer_s", round(time.monotonic() - server.started, 2))
    server.timings["hostile_answer_latency_s"] = round(latency, 2)
    expand_all(page)  # paragraph and copy block rendered too
    page.wait_for_timeout(1500)  # let any (unwanted) image load / handler fire
    body = page.inner_text("body").replace("\u2060", "")  # word joiners that break autolinks
    assert HOSTILE_NAME in body  # the answer does cite the hostile bulletin
    # Shown literally, as text.
    assert "<script>window.__pwned=1</script>" in body
    assert "![x](http://127.0.0.1:9/leak)" in body
    assert "[clic](javascript:window.__pwned=3)" in body
    dom = page.evaluate(
        """() => ({
            pwned: typeof window.__pwned,
            scripts: Array.from(document.scripts).filter(s => (s.textContent || '').includes('__pwned')).length,
            onerror: document.querySelectorAll('[onerror]').length,
            imgs: Array.from(document.images).filter(
                i => i.getAttribute('src') === 'x' || (i.getAttribute('src') || '').includes('127.0.0.1:9/')).length,
            links: Array.from(document.querySelectorAll('a[href]')).filter(
                a => /^\\s*javascript:/i.test(a.getAttribute('href')) || a.href.includes('127.0.0.1:9/')).length,
        })"""
    )
    assert dom == {"pwned": "undefined", "scripts": 0, "onerror": 0, "imgs": 0, "links": 0}
    leaks = [u for u in page.requests if urlsplit(u).hostname == "127.0.0.1" and urlsplit(u).port == 9]
    assert not leaks
    outside = [u for u in page.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and urlsplit(u).netloc != f"127.0.0.1:{server.port}"]  # fmt: skip
    assert not outside, outside
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-hostile.png"), full_page=True)


def test_admin_uploads_a_pdf_and_its_page_is_cited(page: Any, server: Server) -> None:
    if not GRAND_EST.is_file():
        pytest.skip(f"PDF samples absent: {SAMPLES} (CI checks out ../shared beside the clone)")
    page.goto(server.url, wait_until="domcontentloaded")
    box = page.get_by_test_id("stChatInputTextArea")
    box.wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_test_id("stFileUploader").count() == 0  # locked until the key is typed
    key = sidebar.get_by_label("Clé d'administration")
    key.fill(ADMIN_KEY)
    key.press("Enter")

    uploader = sidebar.get_by_test_id("stFileUploaderDropzoneInput")
    uploader.wait_for(state="attached", timeout=ANSWER_TIMEOUT_MS)
    uploader.set_input_files(str(GRAND_EST))
    # The chip shows the name shortened in the middle ("2020-03...uation.pdf").
    sidebar.get_by_test_id("stFileChipName").filter(has_text=GRAND_EST.name[-10:]).wait_for(timeout=ANSWER_TIMEOUT_MS)
    add = sidebar.get_by_role("button", name="Ajouter au corpus")
    sync_api.expect(add).to_be_enabled(timeout=ANSWER_TIMEOUT_MS)
    t0 = time.monotonic()
    add.click()
    added = sidebar.get_by_test_id("stAlertContentSuccess").filter(has_text="Ajouté :")
    added.wait_for(state="visible", timeout=UPLOAD_TIMEOUT_MS)
    server.timings["browser_pdf_upload_s"] = round(time.monotonic() - t0, 2)
    message = added.inner_text()
    assert "8 mars 2020" in message and "2 pages" in message and "chiffres repérés" in message, message
    assert sidebar.get_by_test_id("stAlertContentError").count() == 0

    box.fill(Q_GRAND_EST)
    box.press("Enter")
    page.get_by_test_id("stMetricValue").filter(has_text="262").first.wait_for(
        state="visible", timeout=ANSWER_TIMEOUT_MS
    )
    page.get_by_text("Copier la réponse et ses sources").first.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    body = page.inner_text("body")
    assert "8 mars 2020 · p. 1" in body
    assert page.get_by_test_id("stException").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-pdf-upload.png"), full_page=True)


def test_reload_keeps_the_conversation_and_exports_it(page: Any, server: Server) -> None:
    from assistant.history import HistoryStore

    question = "Combien d'assurés ont activé Mon Espace Santé ?"
    ask(page, server, question, "24 millions")
    # The first answer named the conversation in the address bar (?c=<id>).
    page.wait_for_function("() => new URL(location.href).searchParams.get('c')", timeout=ANSWER_TIMEOUT_MS)
    cid = page.evaluate("() => new URL(location.href).searchParams.get('c')")
    conversation = HistoryStore.in_data_dir(server.log.parent / "data").get(cid)
    assert conversation is not None and [t.question for t in conversation.turns] == [question]
    title = conversation.turns[0].answer.citations[0].title

    page.reload(wait_until="domcontentloaded")
    page.get_by_test_id("stMetricValue").filter(has_text="24 millions").first.wait_for(
        state="visible", timeout=ANSWER_TIMEOUT_MS
    )
    assert page.evaluate("() => new URL(location.href).searchParams.get('c')") == cid
    messages = page.get_by_test_id("stChatMessage")
    assert messages.count() == 2
    assert question in messages.nth(0).inner_text()
    sidebar = page.get_by_test_id("stSidebar")
    listed = sidebar.locator(f'[class*="st-key-open_conversation_{cid}"]')  # the button keyed by its id
    sync_api.expect(listed).to_contain_text(question, timeout=ANSWER_TIMEOUT_MS)  # listed, titled by its question
    assert listed.count() == 1
    assert page.get_by_test_id("stException").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-conversation-after-reload.png"))

    sidebar.get_by_text("Cette conversation").click()
    export = sidebar.get_by_role("button", name="Exporter (Markdown)")
    export.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    with page.expect_download(timeout=ANSWER_TIMEOUT_MS) as info:
        export.click()
    download = info.value
    assert download.suggested_filename.startswith("conversation-") and download.suggested_filename.endswith(".md")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.startswith(f"# {question}")
    assert conversation.turns[0].answer.answer in text and "24 millions" in text
    assert title in text and SEED in text


def test_start_page_example_question_is_answered(page: Any, server: Server) -> None:
    page.goto(server.url, wait_until="domcontentloaded")
    start = page.locator(".st-key-start_page")
    examples = start.get_by_test_id("stButton")
    examples.first.wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)
    # drawn after the last example: every example is on the page
    start.get_by_text("Voir tous les bulletins").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    body = start.inner_text()
    assert "Bulletins couverts" in body and "Thèmes" in body
    # distinct questions: while Streamlit reruns, the old elements can still be on the page
    assert 4 <= len(set(examples.all_inner_texts())) <= 6
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-start-page.png"), full_page=True)
    question = examples.nth(1).inner_text().strip()
    assert question.startswith(("Combien d", "Quelle part ")) and question.endswith("?")
    examples.nth(1).locator("button").first.click()
    page.get_by_test_id("stMetricValue").first.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    page.get_by_test_id("stChatMessage").nth(1).wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    assert page.get_by_test_id("stChatMessage").first.inner_text().strip().endswith(question)
    figure = page.get_by_test_id("stMetricValue").first.inner_text()
    assert any(ch.isdigit() for ch in figure)
    assert "Je ne trouve pas" not in page.inner_text("body")
    assert page.get_by_test_id("stException").count() == 0


def test_bulletins_page_search(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/Bulletins", wait_until="domcontentloaded")
    box = page.get_by_label("Rechercher dans les bulletins")
    box.wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)
    expanders = page.get_by_test_id("stExpander")
    # the corpus copy plus the hostile bulletin, plus the PDF when the upload test ran before
    expanders.first.wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
    served = server.log.parent / "src" / "corpus"  # the server's corpus copy (an earlier test may upload to it)
    n = sum(1 for f in served.iterdir() if f.suffix.lower() in SUFFIXES and not f.name.startswith("."))
    sync_api.expect(expanders).to_have_count(n, timeout=ANSWER_TIMEOUT_MS)
    assert "Chiffres clés" in page.inner_text("body")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-bulletins.png"), full_page=False)
    box.fill("segur HOPITAUX")
    box.press("Enter")
    sync_api.expect(expanders).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    assert "Ségur du numérique" in page.inner_text("body")
    assert page.get_by_test_id("stException").count() == 0


def test_the_top_of_a_new_reply_is_in_view(browser: Any, server: Server) -> None:
    """At 1366×900, after a second long reply, its figure card is on screen (not scrolled away by the sources)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="fr-FR")
    try:
        pg = context.new_page()
        ask(pg, server, "Combien d'assurés ont activé Mon Espace Santé ?", "24 millions")
        box = pg.get_by_test_id("stChatInputTextArea")
        box.fill(
            "De combien le nombre d'assurés ayant activé Mon Espace Santé a-t-il augmenté "
            "entre janvier 2025 et janvier 2026 ?"
        )
        box.press("Enter")
        reply = pg.get_by_test_id("stChatMessage").nth(3)
        reply.get_by_text("Copier la réponse et ses sources").wait_for(state="visible", timeout=ANSWER_TIMEOUT_MS)
        card = reply.get_by_test_id("stMetricValue").first
        sync_api.expect(card).to_be_in_viewport(ratio=1.0, timeout=10_000)
        pg.wait_for_timeout(2000)  # still there once the page has settled
        sync_api.expect(card).to_be_in_viewport(ratio=1.0)
        assert pg.get_by_test_id("stException").count() == 0
    finally:
        context.close()


def test_without_the_admin_key_there_is_no_reindex_button(page: Any, server: Server) -> None:
    page.goto(server.url, wait_until="domcontentloaded")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_label("Clé d'administration").wait_for(state="visible", timeout=FIRST_ANSWER_TIMEOUT_MS)
    assert sidebar.get_by_role("button", name="Ré-indexer le dossier").count() == 0
    assert sidebar.get_by_role("button", name="Ajouter au corpus").count() == 0
    assert "Saisissez la clé d'administration" in sidebar.inner_text()
