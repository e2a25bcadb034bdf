"""The Streamlit chat driven by Streamlit's AppTest, over the real Assistant and a temp copy of corpus/.

One data dir per module: the first run ingests the corpus (and loads the model);
the cached Assistant is then shared by every AppTest of the module, exactly as
it is shared by browser sessions in production.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assistant import presentation as p
from assistant.feedback import read_feedback
from assistant.history import HistoryStore, valid_id
from assistant.models import BulletinFailure, BulletinInfo, Citation, IngestReport
from assistant.presentation import unescape_markdown

from .conftest import GRAND_EST, MOBILE_MD, Q_GRAND_EST, SAMPLES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "ui" / "app.py")
CORPUS = ROOT / "corpus"
TIMEOUT = 600  # first run: model load + ingest of the corpus on 2 shared cores

Q_MES = "Combien d'assurés ont activé Mon Espace Santé ?"
SEED = "corpus/bulletin-mon-espace-sante-2026-01.txt"
SEED_2025 = "corpus/bulletin-mon-espace-sante-2025-01.txt"
ANS_2025 = "corpus/bulletin-chiffres-cles-ans-2025-02.md"
Q_GROWTH = (
    "De combien le nombre d'assurés ayant activé Mon Espace Santé a-t-il augmenté entre janvier 2025 et janvier 2026 ?"
)
Q_DMP = "Combien d'établissements alimentaient le DMP au 31 décembre 2024 ?"
ADMIN_KEY = "clé-admin-Zx81"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """ASSISTANT_DATA_DIR / ASSISTANT_CORPUS_DIR pointing at temp folders for the whole module, an admin key set."""
    root = tmp_path_factory.mktemp("ui-app")
    corpus = root / "src" / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("*.jsonl"))
    data = root / "data"
    mp = pytest.MonkeyPatch()
    mp.setenv("ASSISTANT_DATA_DIR", str(data))
    mp.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    mp.setenv("ASSISTANT_ADMIN_KEY", ADMIN_KEY)
    try:
        yield {"data": data, "corpus": corpus}
    finally:
        st.cache_resource.clear()  # on_release closes the store (frees its lock)
        mp.undo()


def run_app(env: dict[str, Path]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    """Everything rendered as Markdown-ish text (main area and sidebar), unescaped for assertions."""
    parts: list[str] = []
    for group in (at.markdown, at.caption, at.warning, at.error, at.info, at.success):
        parts.extend(str(e.value) for e in group)
    for m in at.metric:
        parts.extend([str(m.label), str(m.value)])
    parts.extend(str(c.value) for c in at.code)
    return unescape_markdown("\n".join(parts))


def test_first_launch_ingests_corpus_and_shows_stats(env: dict[str, Path]) -> None:
    at = run_app(env)
    assert not at.error
    n = len(list(env["corpus"].iterdir()))
    # The empty store was ingested under a visible status + progress bar, left at 100 %.
    assert [unescape_markdown(s.label).split(" : ")[0] for s in at.status] == ["Bulletins indexés"]
    assert at.status[0].state == "complete"
    assert at.progress[0].value == 100
    assert unescape_markdown(at.progress[0].text) == f"Enregistrement : {n}/{n} bulletins"
    sidebar = unescape_markdown("\n".join(str(m.value) for m in at.sidebar.markdown))
    assert f"**Bulletins** : {n}" in sidebar
    assert re.search(r"\*\*Période\*\* : \S.* → \S", sidebar)
    assert "Dernière indexation" in sidebar and "jamais" not in sidebar
    labels = at.multiselect(key="filter_sources").options  # one per bulletin, by title and month
    assert len(set(labels)) == n == len(list(env["corpus"].iterdir()))
    assert "Mon Espace Santé : 17 millions d’assurés ont activé leur carnet de sa… · janvier 2025" in labels


def test_store_built_with_other_model_is_an_error_banner(env: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", str(env["data"] / "no-such-model"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert len(at.error) == 1
    body = unescape_markdown(at.error[0].value)
    assert "modèle" in body.lower() and "\n" in body  # message, then hint
    assert not at.chat_input  # nothing to ask until the store is fixed


def test_answer_shows_figure_sentence_and_sources(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    assert at.metric[0].value == "24 millions"
    text = page_text(at)
    assert "**24 millions**" in text  # the answer sentence, figure in bold
    assert "[1]" in text
    assert SEED in text
    assert "29 janvier 2026" in text
    assert ":yellow-background[**24 millions**]" in text  # highlighted figure in the quote
    assert any(e.label.startswith("Lire le paragraphe") for e in at.expander)
    # Copy block: the answer and its citations as plain text.
    assert at.code and SEED in at.code[0].value and "24 millions" in at.code[0].value
    assert not at.warning and not at.error


def test_follow_up_uses_history(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    ask(at, "Et en janvier 2025 ?")
    assert [m.value for m in at.metric] == ["24 millions", "17 millions"]
    assert len(at.chat_message) == 4
    assert SEED_2025 in page_text(at)


def captions(at: AppTest) -> list[str]:
    return [unescape_markdown(str(c.value)) for c in at.caption]


def test_follow_up_shows_understood_question(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    assert not any(c.startswith("Question comprise") for c in captions(at))  # typed = understood
    assert "au 29 janvier 2026 (date du bulletin)" in captions(at)  # "as of" under the big figure
    ask(at, "Et en janvier 2025 ?")
    understood = [c for c in captions(at) if c.startswith("Question comprise")]
    assert understood == ["Question comprise : Combien d'assurés ont activé Mon Espace Santé en janvier 2025 ?"]
    # Shown in the follow-up's reply, under its answer.
    reply = at.chat_message[3]
    assert any(unescape_markdown(str(c.value)) == understood[0] for c in reply.caption)


def test_computed_answer_shows_result_and_formula(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_GROWTH)
    assert [unescape_markdown(m.value) for m in at.metric] == ["+7 millions (+41,2 %)"]
    assert unescape_markdown(at.metric[0].label) == "évolution · assurés · sources [1], [2]"
    assert (
        "24\u202f000\u202f000 − 17\u202f000\u202f000 = 7\u202f000\u202f000" in at.code[0].value
    )  # the formula, before the copy block
    text = page_text(at)
    assert "**Calcul** · évolution" in text
    assert "[1] **17 millions d’assurés** — « Mon Espace Santé" in text
    assert "[2] **24 millions d’assurés**" in text
    assert "Résultat : +7 millions (+41,2 %)" in text
    assert not any(c.startswith("Question comprise") for c in captions(at))
    assert not at.warning and not at.error


def spaces(text: str) -> str:
    """French figures are spelt with (narrow) no-break spaces: '3\u202f050'."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def test_divergent_bulletins_show_warning(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_DMP)
    # The other bulletin's value is in the warning, not a second big figure.
    assert [spaces(unescape_markdown(m.value)) for m in at.metric] == ["3 050"]
    assert "au 31 décembre 2024" in captions(at)
    assert len(at.warning) == 1
    warning = spaces(unescape_markdown(at.warning[0].value))
    assert warning.startswith("**Les bulletins divergent**")
    assert "La réponse retient **3 050 établissements** [1] — « DMP et télésanté" in warning
    assert "- **2 900 établissements** [2] — « Mon Espace Santé : 17 millions" in warning
    assert "(31 janvier 2025)" in warning
    text = page_text(at)
    assert ANS_2025 in text and SEED_2025 in text  # both sources are listed with their quotes


def test_abstention_looks_different(env: dict[str, Path]) -> None:
    at = ask(run_app(env), "Combien de kinésithérapeutes alimentent le DMP ?")
    assert not at.metric
    assert len(at.warning) == 1
    assert "Je ne trouve pas ce chiffre dans les bulletins" in at.warning[0].value
    reply = at.chat_message[1]
    # The refusal first; the closest passages folded under it, saying they do not give the figure.
    assert reply.children[0].type == "alert" or reply.warning[0].value.startswith("**Je ne trouve pas")
    near = [e for e in reply.expander if e.label.startswith("Passages proches")]
    assert len(near) == 1 and "ils ne donnent pas ce chiffre" in near[0].label
    assert "Lire le paragraphe" in " ".join(e.label for e in near[0].expander)
    assert "DMP" in page_text(at)  # the closest passages are about the DMP


def test_two_figures_asked_together_get_one_card_each(env: dict[str, Path]) -> None:
    at = ask(run_app(env), "Combien de décès et d'hospitalisations l'épidémie de grippe a-t-elle causés ?")
    assert [spaces(unescape_markdown(m.value)) for m in at.metric] == ["17 000", "31 000"]
    assert all("source [1]" in unescape_markdown(m.label) for m in at.metric)
    assert not at.warning and not at.error


def test_key_figures_of_the_latest_bulletin_are_a_cited_list(env: dict[str, Path]) -> None:
    at = ask(run_app(env), "Quels sont les chiffres clés du dernier bulletin ?")
    assert not at.metric  # a list, not one figure card
    reply = at.chat_message[1]
    listing = unescape_markdown(reply.markdown[0].value)
    assert listing.startswith("Chiffres de « Mars bleu")
    items = [line for line in listing.splitlines() if line.startswith("- ")]
    assert 3 <= len(items) <= 5 and all(line.endswith(f"[{i}]") for i, line in enumerate(items, 1))
    assert not any(unescape_markdown(str(c.value)).startswith("Confiance : ") for c in reply.caption)
    assert "[5] Mars bleu" in page_text(at) or "[3] Mars bleu" in page_text(at)  # one source per item


def test_a_question_for_no_figure_is_told_so_with_the_closest_passage(env: dict[str, Path]) -> None:
    at = ask(run_app(env), "Qu'est-ce que Mon Espace Santé ?")
    assert not at.metric and not at.warning
    assert unescape_markdown(at.info[0].value).startswith("Je réponds aux questions sur les chiffres des bulletins")
    assert "Mon Espace Santé" in page_text(at)  # the closest passage, shown as a source block
    assert any(e.label.startswith("Lire le paragraphe") for e in at.chat_message[1].expander)


def test_an_english_question_gets_a_french_hint(env: dict[str, Path]) -> None:
    at = ask(run_app(env), "How many people activated Mon Espace Santé?")
    assert not at.metric and not at.warning
    assert unescape_markdown(at.info[0].value).startswith("Posez votre question en français")


def test_sidebar_lists_bulletins_by_title_in_french_without_server_paths(env: dict[str, Path]) -> None:
    at = run_app(env)
    chooser = at.multiselect(key="filter_sources")
    labels = [chooser.format_func(o) for o in chooser.options] if callable(chooser.format_func) else chooser.options
    assert any(
        label.startswith("Mon Espace Santé : 17 millions") and label.endswith("janvier 2025") for label in labels
    )
    assert not any("corpus/" in label or label.endswith((".txt", ".md", ".html")) for label in labels)
    assert len(set(labels)) == len(labels)
    unlock(at)
    text = sidebar_text(at)
    assert str(env["corpus"]) not in text and "Dossier :" not in text
    assert "(UTC)" not in text


def test_a_new_reply_is_scrolled_into_view(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    scripts = [str(h.proto.body) for h in at.get("html")]
    assert any("scrollIntoView" in body and ".st-key-new_turn" in body for body in scripts)


def test_new_conversation_clears_chat(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    assert len(at.chat_message) == 2
    at.button(key="new_conversation").click().run()
    assert not at.exception
    assert len(at.chat_message) == 0
    assert not at.metric
    ask(at, Q_MES)
    assert len(at.chat_message) == 2


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "La question est vide."),
        ("   \n\t ", "La question est vide."),
        ("x" * 100_000, "La question est trop longue (100000 caractères, limite 2000)."),
    ],
    ids=["empty", "blank", "100k"],
)
def test_bad_input_shows_error_not_traceback(env: dict[str, Path], question: str, message: str) -> None:
    at = ask(run_app(env), question)
    assert len(at.error) == 1
    body = unescape_markdown(at.error[0].value)
    assert message in body
    assert "\n" in body  # the hint is shown under the message
    assert "Traceback" not in page_text(at)
    # A failed question does not poison the conversation: the next one is answered.
    ask(at, Q_MES)
    assert [m.value for m in at.metric] == ["24 millions"]


def test_thumbs_up_and_comment_written_to_feedback_file(env: dict[str, Path]) -> None:
    path = env["data"] / "feedback.jsonl"
    before = len(read_feedback(path))
    at = ask(run_app(env), Q_MES)
    at.feedback[0].set_value(1).run()
    assert not at.exception
    assert "Merci, avis enregistré." in page_text(at)
    records = read_feedback(path)
    assert len(records) == before + 1
    rec = records[-1]
    assert rec["verdict"] == "up"
    assert rec["question"] == Q_MES
    assert rec["answer"]["citations"][0]["source"] == SEED
    assert rec["comment"] == ""
    # Optional comment, sent afterwards, is a second record for the same turn.
    at.text_input(key=f"comment_{rec['turn_id']}").input("Parfait, merci").run()
    at.button(key=f"send_comment_{rec['turn_id']}").click().run()
    assert not at.exception
    last = read_feedback(path)[-1]
    assert (last["turn_id"], last["verdict"], last["comment"]) == (rec["turn_id"], "up", "Parfait, merci")


def test_source_filter_restricts_answers(env: dict[str, Path]) -> None:
    at = run_app(env)
    at.multiselect(key="filter_sources").select(SEED_2025).run()
    ask(at, Q_MES)
    text = page_text(at)
    assert SEED not in text.replace(SEED_2025, "")
    if at.metric:  # answered from the only allowed bulletin
        assert at.metric[0].value == "17 millions"


def test_reindex_adds_new_bulletin(env: dict[str, Path]) -> None:
    before = len(list(env["corpus"].iterdir()))
    (env["corpus"] / "bulletin-nouveau-2031-04.txt").write_text(
        "Hôpitaux : 1 234 lits ouverts\n\nPublié le 2 avril 2031\n\n"
        "Le ministère annonce que 1 234 lits supplémentaires ont été ouverts en mars 2031.\n",
        encoding="utf-8",
    )
    at = unlock(run_app(env))
    at.button(key="reindex").click().run()
    assert not at.exception
    assert at.sidebar.success, page_text(at)
    assert unescape_markdown(at.sidebar.success[0].value).startswith(f"1 bulletin ajouté, {before} inchangés")
    sidebar = unescape_markdown("\n".join(str(m.value) for m in at.sidebar.markdown))
    assert f"**Bulletins** : {before + 1}" in sidebar
    assert "**Période** : 31 janvier 2025 → 2 avril 2031" in sidebar


# --------------------------------------------------------------------------
# Admin section: upload and re-index need the admin key
# --------------------------------------------------------------------------


def unlock(at: AppTest, key: str = ADMIN_KEY) -> AppTest:
    at.text_input(key="admin_key").input(key).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def has(at: AppTest, key: str) -> bool:
    try:
        at.get_by_key(key)
    except KeyError:
        return False
    return True


def sidebar_text(at: AppTest) -> str:
    parts: list[str] = []
    for group in (at.sidebar.markdown, at.sidebar.caption, at.sidebar.success, at.sidebar.info, at.sidebar.error):
        parts.extend(str(e.value) for e in group)
    return unescape_markdown("\n".join(parts))


def test_without_a_configured_key_nothing_changes_the_corpus(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSISTANT_ADMIN_KEY")
    at = run_app(env)
    assert not at.file_uploader and not has(at, "reindex") and not has(at, "add_files") and not has(at, "admin_key")
    assert "aucune clé d'administration n'est configurée" in sidebar_text(at)


def test_a_wrong_key_keeps_upload_and_reindex_hidden(env: dict[str, Path]) -> None:
    at = run_app(env)
    assert not at.file_uploader and not has(at, "reindex")
    assert "Saisissez la clé d'administration" in sidebar_text(at)
    unlock(at, ADMIN_KEY + " ")
    assert not at.file_uploader and not has(at, "reindex")
    assert [e.value for e in at.sidebar.error] == ["Clé d'administration incorrecte."]
    unlock(at)
    assert at.file_uploader and has(at, "reindex") and not at.sidebar.error
    assert at.file_uploader[0].accept_multiple_files
    assert {"pdf", "docx", "txt", "md", "html"} <= {t.lstrip(".") for t in at.file_uploader[0].allowed_type}
    assert at.button(key="add_files").disabled  # nothing chosen yet


def test_upload_adds_the_good_file_and_names_the_refused_one(env: dict[str, Path]) -> None:
    at = unlock(run_app(env))
    at.file_uploader[0].set_value(
        [("vaccination-mobile-2026-04.md", MOBILE_MD.encode(), "text/markdown"), ("vide.txt", b"", "text/plain")]
    ).run()
    at.button(key="add_files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [unescape_markdown(e.value) for e in at.sidebar.success] == [
        "Ajouté : Centres de vaccination mobiles — 2 avril 2026, 2 chiffres repérés"
    ]
    assert [unescape_markdown(e.value) for e in at.sidebar.error] == ["Refusé : vide.txt — fichier vide"]
    assert (env["corpus"] / "vaccination-mobile-2026-04.md").read_text(encoding="utf-8") == MOBILE_MD
    assert not (env["corpus"] / "vide.txt").exists()
    assert not at.file_uploader[0].value  # emptied once added
    assert "Centres de vaccination mobiles · avril 2026" in at.multiselect(key="filter_sources").options
    ask(at, "Combien d'injections les centres de vaccination mobiles ont-ils réalisées en mars 2026 ?")
    assert [spaces(m.value) for m in at.metric] == ["48 250"]

    # The same file again: already there, nothing re-indexed.
    at.file_uploader[0].set_value(("vaccination-mobile-2026-04.md", MOBILE_MD.encode(), "text/markdown")).run()
    at.button(key="add_files").click().run()
    assert [unescape_markdown(e.value) for e in at.sidebar.info] == ["Déjà à jour : vaccination-mobile-2026-04.md"]
    assert not at.sidebar.success and not at.sidebar.error


def test_pdf_upload_then_answer_cites_its_page(env: dict[str, Path]) -> None:
    if not GRAND_EST.is_file():
        pytest.skip(f"PDF samples absent: {SAMPLES} (CI checks out ../shared beside the clone)")
    at = unlock(run_app(env))
    at.file_uploader[0].set_value((GRAND_EST.name, GRAND_EST.read_bytes(), "application/pdf")).run()
    at.button(key="add_files").click().run()
    assert not at.exception, [e.value for e in at.exception]
    added = [unescape_markdown(e.value) for e in at.sidebar.success]
    assert len(added) == 1 and added[0].startswith("Ajouté : ") and "— 8 mars 2020, 2 pages, " in added[0]
    assert re.search(r", \d+ chiffres repérés$", added[0]) and not at.sidebar.error
    ask(at, Q_GRAND_EST)
    assert [m.value for m in at.metric] == ["262"]
    assert "8 mars 2020 · p. 1" in page_text(at)


# --------------------------------------------------------------------------
# Presentation helpers of the admin section and of paged sources
# --------------------------------------------------------------------------


def _citation(page: int | None) -> Citation:
    return Citation(
        id=1, source="corpus/a.pdf", title="Point [x]", date="2020-03-08", chunk_id="c", quote="q", start=0, end=1,
        page=page,
    )  # fmt: skip


def test_source_line_shows_the_page_of_a_pdf() -> None:
    assert unescape_markdown(p.citation_markdown(_citation(3))) == ("**[1] Point [x]** · 8 mars 2020 · p. 3")
    assert "p." not in p.citation_markdown(_citation(None))
    assert p.citation_label(_citation(3)) == "[1] Point [x] — 8 mars 2020, p. 3 — corpus/a.pdf"
    assert p.citation_where(_citation(None)) == "8 mars 2020"


def test_upload_lines_say_what_was_read() -> None:
    report = IngestReport(
        added=["corpus/a.pdf"],
        updated=["corpus/b.md"],
        unchanged=["corpus/c.txt"],
        failed=[
            BulletinFailure(path="x.exe", reason="type de fichier refusé. Formats acceptés : .pdf."),
            BulletinFailure(path="corpus/d.txt", reason="corpus/d.txt: fichier vide"),
        ],
        bulletins=[
            BulletinInfo(id="corpus/a.pdf", title="Point", date="2020-03-08", pages=9, blank_pages=[3, 7], figures=14),
            BulletinInfo(id="corpus/b.md", title="Bilan", date=None, pages=None, figures=1),
        ],
    )
    assert p.upload_lines(report) == [
        ("added", "Ajouté : Point — 8 mars 2020, 9 pages, 14 chiffres repérés (pages sans texte : 3, 7)"),
        ("updated", "Mis à jour : Bilan — date inconnue, 1 chiffre repéré"),
        ("unchanged", "Déjà à jour : c.txt"),
        ("refused", "Refusé : x.exe — type de fichier refusé. Formats acceptés : .pdf."),
        ("refused", "Refusé : corpus/d.txt — fichier vide"),
    ]
    assert p.progress_state("reading", 1, 4) == (0.0, "Lecture des fichiers : 1/4")


# --------------------------------------------------------------------------
# Conversations kept (assistant.history), bound to the tab by ?c=<id>
# --------------------------------------------------------------------------


def open_conversation(conversation_id: str) -> AppTest:
    """A reload of the page with ``?c=<id>`` in its address: a new session, nothing in memory."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["c"] = conversation_id
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sidebar_buttons(at: AppTest) -> list[str]:
    return [unescape_markdown(str(b.label)) for b in at.sidebar.button]


def history_store(env: dict[str, Path]) -> HistoryStore:
    return HistoryStore.in_data_dir(env["data"])


def test_reload_with_the_conversation_parameter_restores_the_turns(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    cid = at.query_params.get("c")
    assert isinstance(cid, str) and valid_id(cid)  # the first question named the conversation in the URL
    assert Q_MES in sidebar_buttons(at)  # listed at once, titled by its first question

    again = open_conversation(cid)
    assert len(again.chat_message) == 2
    assert [m.value for m in again.metric] == ["24 millions"]
    assert SEED in page_text(again) and "Lire le paragraphe" in " ".join(e.label for e in again.expander)
    assert again.query_params.get("c") == cid
    # The restored turns are the follow-up's context, and the new turn is kept too.
    ask(again, "Et en janvier 2025 ?")
    assert [m.value for m in again.metric] == ["24 millions", "17 millions"]
    assert again.query_params.get("c") == cid
    third = open_conversation(cid)
    assert [m.value for m in third.metric] == ["24 millions", "17 millions"]
    conversation = history_store(env).get(cid)
    assert conversation is not None and [t.question for t in conversation.turns] == [Q_MES, "Et en janvier 2025 ?"]


def test_new_conversation_drops_the_parameter_and_sidebar_switches_back(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_DMP)
    cid = at.query_params["c"]
    at.button(key="new_conversation").click().run()
    assert "c" not in at.query_params and len(at.chat_message) == 0
    at.button(key=f"open_conversation_{cid}").click().run()  # the past conversation in the sidebar
    assert not at.exception
    assert at.query_params.get("c") == cid
    assert len(at.chat_message) == 2 and Q_DMP in page_text(at)


def test_rename_the_open_conversation(env: dict[str, Path]) -> None:
    cid = ask(run_app(env), Q_MES).query_params["c"]
    at = open_conversation(cid)
    at.text_input(key=f"conversation_title_{cid}").set_value("Assurés MES [2026]")
    at.button(key="rename_conversation").click().run()
    assert not at.exception
    assert "Assurés MES [2026]" in sidebar_buttons(at)
    assert history_store(env).info(cid).title == "Assurés MES [2026]"  # type: ignore[union-attr]
    assert len(at.chat_message) == 2  # still open


def test_delete_asks_for_a_confirmation(env: dict[str, Path]) -> None:
    cid = ask(run_app(env), Q_MES).query_params["c"]
    at = open_conversation(cid)
    at.button(key="delete_conversation").click().run()
    assert "Supprimer « " in unescape_markdown(" ".join(str(w.value) for w in at.sidebar.warning))
    at.button(key="cancel_delete_conversation").click().run()
    assert history_store(env).get(cid) is not None and len(at.chat_message) == 2

    at.button(key="delete_conversation").click().run()
    at.button(key="confirm_delete_conversation").click().run()
    assert not at.exception
    assert history_store(env).get(cid) is None
    assert "c" not in at.query_params and len(at.chat_message) == 0
    assert not has(at, f"open_conversation_{cid}")
    gone = open_conversation(cid)  # an old link to it
    assert len(gone.chat_message) == 0
    assert "n'existe plus" in unescape_markdown(" ".join(str(i.value) for i in gone.info))


def test_export_buttons_offer_markdown_and_csv(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    labels = [unescape_markdown(str(e.proto.label)) for e in at.sidebar.get("download_button")]
    assert labels == ["Exporter (Markdown)", "Chiffres (CSV)"]
    cid = at.query_params["c"]
    markdown = history_store(env).export_markdown(cid)
    assert "24 millions" in markdown and SEED in markdown


def test_a_malformed_parameter_is_ignored(env: dict[str, Path]) -> None:
    at = open_conversation("../../etc/passwd")
    assert len(at.chat_message) == 0 and not at.error


def test_back_from_another_page_without_the_parameter_keeps_the_conversation(env: dict[str, Path]) -> None:
    at = ask(run_app(env), Q_MES)
    cid = at.query_params["c"]
    at.query_params.clear()  # what a switch to the « Bulletins » page and back leaves in the address
    at.run()
    assert not at.exception
    assert at.query_params.get("c") == cid and len(at.chat_message) == 2


# -- start page and « Bulletins » page (assistant.overview) ---------------------------------------------


def test_start_page_shows_coverage_and_example_questions_that_are_answered(env: dict[str, Path]) -> None:
    at = run_app(env)
    assert len(at.chat_message) == 0
    text = page_text(at)
    n = len(list(env["corpus"].iterdir()))
    assert "Bulletins couverts" in text
    assert re.search(rf"\b{n} bulletins · [a-zéû]+ \d{{4}} – [a-zéû]+ \d{{4}}", text), text
    assert "Thèmes : " in text and "Mon Espace Santé" in text
    examples = [b for b in at.button if str(b.key).startswith("example_")]
    assert 4 <= len(examples) <= 6
    shown = [unescape_markdown(b.label) for b in examples]
    assert all(q.startswith(("Combien d", "Quelle part ")) and q.endswith("?") for q in shown)
    assert str(env["corpus"]) not in text and str(env["data"]) not in text  # no server paths
    # Clicking an example asks it: an answer with its figure, not an abstention.
    at = examples[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.chat_message) == 2
    assert unescape_markdown(at.chat_message[0].markdown[0].value) == shown[0]
    assert at.metric and not any("Je ne trouve pas" in str(w.value) for w in at.warning)
    assert not [b for b in at.button if str(b.key).startswith("example_")]  # the start page is gone


def test_bulletins_page_lists_every_bulletin_with_key_figures_and_search(env: dict[str, Path]) -> None:
    run_app(env)  # the corpus is indexed by the chat page
    at = AppTest.from_file(str(ROOT / "ui" / "pages" / "1_Bulletins.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    n = len(list(env["corpus"].iterdir()))
    assert [t.value for t in at.title] == ["Bulletins"]
    assert len(at.expander) == n and all(e.label == "Texte intégral" for e in at.expander)
    text = page_text(at)
    assert f"{n} bulletins, du plus récent au plus ancien." in text
    assert "DMP et télésanté : les chiffres clés" in text
    assert (
        "20 février 2025 · Lettre de l’ANS (exemple fictif) · fichier corpus/bulletin-chiffres-cles-ans-2025-02.md"
        in text
    )
    assert "Adresse : https://example.org/bulletins/chiffres-cles-ans-2025-02" in text
    assert "- **3 050** — 3 050 établissements alimentaient le DMP au 31 décembre 2024" in text
    seed_text = (env["corpus"] / Path(SEED).name).read_text(encoding="utf-8")
    assert any(seed_text.split("\n")[2][:80] in str(t.value) for t in at.text)  # full text, as plain text
    assert str(env["corpus"]) not in text and str(env["data"]) not in text

    at.text_input(key="bulletin_search").set_value("TELECONSULTATIONS").run()
    found = len(at.expander)
    assert 0 < found < n
    assert f"{found} bulletins sur {n} contiennent « TELECONSULTATIONS »." in page_text(at)
    at.text_input(key="bulletin_search").set_value("segur hopitaux").run()  # accents and case ignored
    assert len(at.expander) == 1 and "Ségur du numérique" in page_text(at)
    at.text_input(key="bulletin_search").set_value("zzz-introuvable").run()
    assert len(at.expander) == 0 and "Aucun bulletin ne contient ce texte." in page_text(at)
