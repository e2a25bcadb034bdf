"""Streamlit chat for staff: French questions about figures in the bulletins, answered with citations.

Run with ``streamlit run ui/app.py``. Configuration comes from the ``ASSISTANT_*``
environment variables (see :mod:`assistant.settings`), e.g. ``ASSISTANT_DATA_DIR``
and ``ASSISTANT_CORPUS_DIR``.

This file only lays things out. Answering is :class:`assistant.Assistant`'s job;
formatting, escaping and feedback records live in :mod:`assistant.presentation`
and :mod:`assistant.feedback`, upload checks in :mod:`assistant.uploads` (all
unit-tested). Every corpus-derived string shown with a Markdown element goes
through ``presentation`` escaping first: bulletins are data, never markup.
Uploading and re-indexing need the admin key (``ASSISTANT_ADMIN_KEY``).
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from chat_resources import shared_assistant
from streamlit.delta_generator import DeltaGenerator

from assistant import Assistant
from assistant import history as h
from assistant import overview as ov
from assistant import presentation as p
from assistant.errors import AssistantError, HistoryError
from assistant.feedback import (
    MAX_COMMENT_CHARS,
    FeedbackError,
    Verdict,
    record_feedback,
    summarise_feedback,
    verdict_from_thumbs,
)
from assistant.history import FILENAME as HISTORY_FILE
from assistant.history import ConversationInfo, HistoryStore
from assistant.ingest import ProgressFn
from assistant.models import Answer, Citation, Filters, IngestReport
from assistant.settings import Settings
from assistant.uploads import UPLOAD_SUFFIXES, admin_unlocked

log = logging.getLogger("assistant.ui")

ABSTAIN_TEXT = "Je ne trouve pas ce chiffre dans les bulletins."


# --------------------------------------------------------------------------
# Shared resources and session state
# --------------------------------------------------------------------------


def _init_state() -> None:
    st.session_state.setdefault("turns", [])
    st.session_state.setdefault("ingest_message", None)
    st.session_state.setdefault("upload_message", None)
    st.session_state.setdefault("uploader_round", 0)
    st.session_state.setdefault("feedback_saved", {})
    st.session_state.setdefault("feedback_errors", {})


def _turns() -> list[p.Turn]:
    turns: list[p.Turn] = st.session_state["turns"]
    return turns


def _new_conversation() -> None:
    """Forget the chat history (and per-answer widgets) of this browser session only."""
    st.session_state["turns"] = []
    st.session_state["feedback_saved"] = {}
    st.session_state["feedback_errors"] = {}
    _forget_conversation()


def _show_error(exc: BaseException) -> None:
    """An error banner with message and hint: never a traceback in front of staff."""
    if not isinstance(exc, AssistantError):
        log.exception("unexpected error in the UI", exc_info=exc)
    message, hint = p.error_parts(exc)
    st.error(p.error_markdown(message, hint), icon="⚠️")


# --------------------------------------------------------------------------
# First launch: ingest an empty store with a visible progress bar
# --------------------------------------------------------------------------


@dataclass
class _Job:
    """What a worker thread shares with the script thread."""

    progress: tuple[str, int, int] | None = None
    report: IngestReport | None = None
    error: BaseException | None = None


def run_with_progress(job: Callable[[ProgressFn], IngestReport | None], label: str) -> IngestReport | None:
    """Run an ingest in a worker thread while this script shows its progress.

    The work must not run in the script thread: if the browser tab is closed or
    reloaded, Streamlit stops the script at its next ``st`` call, which would
    abort an ingest half-way. The worker only records progress; this thread draws it.
    """
    state = _Job()
    done = threading.Event()

    def on_progress(stage: str, n: int, total: int) -> None:
        state.progress = (stage, n, total)

    def work() -> None:
        try:
            state.report = job(on_progress)
        except BaseException as exc:  # re-raised in the script thread below
            state.error = exc
        finally:
            done.set()

    bar = st.progress(0.0, text=p.plain_markdown(label))
    threading.Thread(target=work, name="assistant-ingest", daemon=True).start()
    shown: tuple[str, int, int] | None = None
    while True:
        finished = done.wait(0.25)
        if state.progress is not None and state.progress != shown:
            shown = state.progress
            fraction, text = p.progress_state(*shown)
            bar.progress(fraction, text=p.plain_markdown(text))
        if finished:
            break
    if state.error is not None:
        raise state.error
    return state.report


def prepare(assistant: Assistant, settings: Settings) -> bool:
    """Index the bundled corpus into an empty store and load the model; False if impossible."""
    try:
        if assistant.stats().bulletins == 0 and settings.corpus_dir.is_dir():
            with st.status("Première indexation des bulletins…", expanded=True) as status:
                report = run_with_progress(
                    lambda on_progress: assistant.ensure_corpus(on_progress=on_progress), "Chargement du modèle…"
                )
                label = p.ingest_summary(report) if report else "index déjà prêt"
                status.update(label=p.plain_markdown(f"Bulletins indexés : {label}"), state="complete", expanded=False)
        else:
            assistant.ensure_corpus()
        if not assistant.embedder.loaded:
            with st.spinner("Chargement du modèle…"):
                _ = assistant.embedder.dimension
    except Exception as exc:  # the edge: any failure becomes a banner
        _show_error(exc)
        return False
    return True


# --------------------------------------------------------------------------
# Sidebar: new conversation, corpus stats, filters; admin: upload, re-index
# --------------------------------------------------------------------------


def sidebar(assistant: Assistant, settings: Settings) -> Filters | None:
    """Draw the sidebar and return the filters chosen there."""
    filters: Filters | None = None
    with st.sidebar:
        st.header("Corpus")
        try:
            stats = assistant.stats()
        except Exception as exc:
            _show_error(exc)
            return None
        for label, value in p.stats_rows(stats, st.context.timezone):
            st.markdown(f"**{p.plain_markdown(label)}** : {p.plain_markdown(value)}")

        st.header("Filtres")
        lo, hi = p.date_bounds(stats)
        selected = None
        if lo is not None and hi is not None:
            selected = st.date_input(
                "Date des bulletins",
                value=(lo, hi),
                min_value=lo,
                max_value=hi,
                format="DD/MM/YYYY",
                key=f"filter_dates_{lo}_{hi}",
            )
        labels = bulletin_labels(assistant)
        sources = st.multiselect(
            "Bulletins",
            options=sorted(stats.sources, key=lambda s: labels.get(s, s)),
            format_func=lambda s: labels.get(s, s),
            key="filter_sources",
            placeholder="Tous les bulletins",
            select_all=False,  # Streamlit's « Select all » is English-only
        )
        filters = p.build_filters(selected, (lo, hi), sources)
        if filters is not None:
            st.caption("Les réponses sont limitées aux bulletins sélectionnés.")

        st.header("Administration")
        if admin_section_unlocked(settings):
            upload_section(assistant, settings)
            st.subheader("Ré-indexation")
            st.caption("Relit le dossier des bulletins du serveur : ajoute les nouveaux, met à jour les modifiés.")
            prune = st.checkbox("Retirer les bulletins supprimés du dossier", key="reindex_prune")
            if st.button("Ré-indexer le dossier", key="reindex", width="stretch"):
                reindex(assistant, settings.corpus_dir, prune=prune)
            _show_ingest_message()
            feedback_review(settings.feedback_path)
    return filters


def bulletin_labels(assistant: Assistant) -> dict[str, str]:
    """Bulletin id -> « Titre · mars 2026 », what the source filter shows instead of file names."""
    try:
        records = assistant.store.records()
    except AssistantError:
        return {}
    return p.bulletin_labels(records.values())


def feedback_review(path: Path) -> None:
    """Admin only: what staff said of the answers (counts, last comments, the file to download)."""
    st.subheader("Avis des utilisateurs")
    summary = summarise_feedback(path)
    if not summary.turns:
        st.caption("Aucun avis pour l'instant.")
        return
    st.caption(f"{summary.turns} réponses notées : 👍 {summary.up} · 👎 {summary.down}")
    for c in summary.comments:
        thumb = "👍" if c["verdict"] == "up" else "👎"
        st.caption(f"{thumb} {p.plain_markdown(str(c['question']))} — « {p.plain_markdown(str(c['comment']))} »")
    st.download_button(
        "Exporter les avis (JSONL)",
        data=path.read_bytes() if path.exists() else b"",
        file_name="avis.jsonl",
        mime="application/jsonl",
        key="feedback_export",
    )


NO_ADMIN_KEY_NOTE = (
    "Ajout de bulletins et ré-indexation désactivés : aucune clé d'administration n'est configurée "
    "(variable ASSISTANT_ADMIN_KEY côté serveur)."
)
LOCKED_NOTE = "Saisissez la clé d'administration pour ajouter des bulletins ou ré-indexer le dossier."


def admin_section_unlocked(settings: Settings) -> bool:
    """Whether this browser session typed the admin key; without it, nothing here changes the corpus."""
    if not settings.admin_key:
        st.caption(p.plain_markdown(NO_ADMIN_KEY_NOTE))
        return False
    given = st.text_input("Clé d'administration", type="password", key="admin_key")
    if admin_unlocked(given, settings.admin_key):
        return True
    if given:
        st.error("Clé d'administration incorrecte.")
    st.caption(p.plain_markdown(LOCKED_NOTE))
    return False


def upload_section(assistant: Assistant, settings: Settings) -> None:
    """Files chosen in the browser -> :meth:`Assistant.add_files`; the result is shown under the button."""
    st.subheader("Ajouter des bulletins")
    files = st.file_uploader(
        "Bulletins (PDF, Word, texte, Markdown, HTML)",
        type=[s.lstrip(".") for s in UPLOAD_SUFFIXES],
        accept_multiple_files=True,
        key=f"uploader_{st.session_state['uploader_round']}",  # a new key empties the list once added
        max_upload_size=max(1, math.ceil(settings.max_file_bytes / (1 << 20))),
    )
    if st.button("Ajouter au corpus", key="add_files", width="stretch", disabled=not files):
        add_files(assistant, [(f.name, f.getvalue()) for f in files or []])
    _show_upload_message()


def add_files(assistant: Assistant, files: list[tuple[str, bytes]]) -> None:
    """Store and index the uploaded files with a progress bar, then rerun so stats and filters refresh."""
    with st.status("Ajout au corpus…", expanded=True) as status:
        try:
            report = run_with_progress(
                lambda on_progress: assistant.add_files(files, on_progress=on_progress), "Lecture des fichiers…"
            )
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("upload failed")
            status.update(label="Ajout impossible", state="error")
            st.session_state["upload_message"] = ("error", *p.error_parts(exc))
            return
        status.update(label="Ajout terminé", state="complete", expanded=False)
    assert report is not None
    st.session_state["upload_message"] = ("ok", p.upload_lines(report))
    st.session_state["uploader_round"] += 1
    st.rerun()


def _show_upload_message() -> None:
    message = st.session_state.get("upload_message")
    if not message:
        return
    if message[0] == "error":
        st.error(p.error_markdown(message[1], message[2]), icon="⚠️")
        return
    show = {"added": st.success, "updated": st.success, "unchanged": st.info, "refused": st.error}
    for kind, line in message[1]:
        show[kind](p.plain_markdown(line))


def reindex(assistant: Assistant, corpus_dir: Path, *, prune: bool) -> None:
    """Ingest new/changed files of the corpus folder, then rerun so stats and filters refresh."""
    with st.status("Indexation du dossier…", expanded=True) as status:
        try:
            report = run_with_progress(
                lambda on_progress: assistant.ingest([corpus_dir], prune=prune, on_progress=on_progress),
                "Recherche des bulletins nouveaux ou modifiés…",
            )
        except Exception as exc:
            if not isinstance(exc, AssistantError):
                log.exception("re-index failed")
            status.update(label="Indexation impossible", state="error")
            st.session_state["ingest_message"] = ("error", *p.error_parts(exc), [])
            return
        status.update(label="Indexation terminée", state="complete", expanded=False)
    assert report is not None
    st.session_state["ingest_message"] = ("ok", p.ingest_summary(report), None, p.ingest_failures(report))
    st.rerun()


def _show_ingest_message() -> None:
    message = st.session_state.get("ingest_message")
    if not message:
        return
    kind, text, hint, failures = message
    if kind == "error":
        st.error(p.error_markdown(text, hint))
        return
    st.success(p.plain_markdown(text))
    for line in failures:
        st.warning(p.plain_markdown(line))


# --------------------------------------------------------------------------
# Conversation
# --------------------------------------------------------------------------


def _contexts(assistant: Assistant, answer: Answer) -> dict[str, p.Excerpt]:
    """Paragraphs around each cited passage, fetched once when the answer arrives (not on every rerun)."""
    out: dict[str, p.Excerpt] = {}
    for c in [*answer.citations, *answer.suggestions]:
        try:
            bulletin = assistant.bulletin(c.source)
        except AssistantError:
            continue
        if bulletin is not None:
            out[p.citation_key(c)] = p.cited_context(bulletin.text, c)
    return out


def answer_turn(assistant: Assistant, question: str, filters: Filters | None) -> p.Turn:
    """Ask with the previous turns as history; errors become part of the turn, not exceptions.

    With an LLM configured, its text is shown as it is written, marked as not yet checked, then replaced
    by the guarded answer: no unchecked figure stays on screen.
    """
    turn = p.Turn(id=uuid.uuid4().hex, question=question)
    history = p.history_from_turns(_turns())
    try:
        if assistant.generator is None:
            turn.answer = assistant.ask(question, history=history, filters=filters)
        else:
            turn.answer = streamed_answer(assistant, question, history, filters)
        turn.contexts = _contexts(assistant, turn.answer)
    except Exception as exc:
        if not isinstance(exc, AssistantError):
            log.exception("ask failed")
        turn.error, turn.hint = p.error_parts(exc)
    return turn


LIVE_KEY = "llm_live"


def streamed_answer(
    assistant: Assistant, question: str, history: list[dict[str, str]], filters: Filters | None
) -> Answer:
    """The LLM's text drawn as it arrives in a box that says it is being checked; the final answer returned."""
    live = st.empty()
    text_slot: DeltaGenerator | None = None
    text = ""
    final: Answer | None = None
    for event in assistant.ask_stream(question, history=history, filters=filters):
        if event.kind == "delta":
            if text_slot is None:
                box = live.container(key=LIVE_KEY, border=True)
                box.caption("Réponse en cours de rédaction — chiffres en cours de vérification…")
                text_slot = box.empty()
            text += event.text
            text_slot.markdown(p.plain_markdown(text) + " ▌")
        elif event.answer is not None:
            final = event.answer
    live.empty()  # the unchecked text goes; the guarded answer is drawn in its place
    if final is None:
        raise AssistantError("La réponse n'a pas pu être produite.", hint="Reposez la question.")
    return final


def _source_block(turn: p.Turn, c: Citation, figures: list[str]) -> None:
    with st.container(border=True):
        st.markdown(p.citation_markdown(c))
        excerpt = turn.contexts.get(p.citation_key(c))
        st.markdown(p.quote_markdown(c, figures, excerpt.header if excerpt else ()))
        with st.expander(f"Lire le paragraphe \\[{c.id}\\]"):
            if excerpt is None:
                st.caption("Bulletin introuvable dans l'index (retiré depuis la réponse ?).")
            else:
                st.markdown(p.excerpt_markdown(excerpt, figures))


def _understood_question(turn: p.Turn, answer: Answer) -> None:
    caption = p.understood_question_caption(answer, turn.question)
    if caption:
        st.caption(caption)


def render_computation(answer: Answer) -> None:
    view = p.computation_view(answer)
    if view is None:
        return
    with st.container(border=True):
        st.markdown(view.heading)
        st.code(view.expression, language=None, wrap_lines=True)
        for line in view.operands:
            st.markdown(line)
        st.caption(view.result)


def render_answer(turn: p.Turn, answer: Answer) -> None:
    """Figure cards (one per figure asked) and the answer sentence first, then the sources."""
    cards = [] if answer.kind == "key_figures" else p.figure_cards(answer)
    if cards:
        for col, card in zip(st.columns(len(cards)), cards, strict=True):
            col.metric(card.label, card.value)
            if card.caption:
                col.caption(card.caption)
    st.markdown(p.answer_markdown(answer))
    generation = p.generation_caption(answer)
    if generation:
        st.caption(generation)
    _understood_question(turn, answer)
    conflicts = p.conflicts_markdown(answer)
    if conflicts:
        st.warning(conflicts, icon="⚖️")
    render_computation(answer)
    st.caption(p.confidence_caption(answer))
    st.markdown("**Sources**")
    for c in answer.citations:
        _source_block(turn, c, p.figure_texts(answer, c.id) or p.figure_texts(answer))


def render_abstention(turn: p.Turn, answer: Answer) -> None:
    """The refusal first and plainly; the closest passages after it, folded: they do not give the figure."""
    if answer.kind == "not_french":
        st.info(p.plain_markdown(answer.answer), icon="🇫🇷")
        return
    if answer.kind == "not_a_figure":
        st.info(p.plain_markdown(answer.answer), icon="💬")
        _understood_question(turn, answer)
        for c in answer.suggestions:
            _source_block(turn, c, [])
        return
    st.warning(
        f"**{ABSTAIN_TEXT}**  \nAucun passage indexé ne donne ce chiffre : reformulez, ou vérifiez les filtres.",
        icon="🔎",
    )
    if answer.answer.strip() and answer.answer.strip() != ABSTAIN_TEXT:
        st.caption(p.plain_markdown(answer.answer))
    _understood_question(turn, answer)
    if answer.suggestions:
        with st.expander(f"Passages proches ({len(answer.suggestions)}) — ils ne donnent pas ce chiffre"):
            for c in answer.suggestions:
                _source_block(turn, c, [])


def _on_feedback(turn_id: str, path: str) -> None:
    """st.feedback callback: append the verdict (with the comment typed so far) to the JSONL file."""
    verdict = verdict_from_thumbs(st.session_state.get(f"fb_{turn_id}"))
    _save_feedback(turn_id, path, verdict)


def _on_comment(turn_id: str, path: str) -> None:
    """'Envoyer le commentaire': a second record for the same turn (none if the same comment again)."""
    verdict: Verdict | None = st.session_state["feedback_saved"].get(turn_id)
    _save_feedback(turn_id, path, verdict)
    if turn_id not in st.session_state["feedback_errors"]:
        st.session_state.setdefault("comment_sent", {})[turn_id] = True


def _save_feedback(turn_id: str, path: str, verdict: Verdict | None) -> None:
    turn = next((t for t in _turns() if t.id == turn_id), None)
    if turn is None or turn.answer is None or verdict is None:
        return
    comment = st.session_state.get(f"comment_{turn_id}", "")
    try:
        record_feedback(path, turn.question, turn.answer, verdict, comment, turn_id=turn_id)
    except FeedbackError as exc:
        st.session_state["feedback_errors"][turn_id] = (exc.message, exc.hint)
        return
    st.session_state["feedback_errors"].pop(turn_id, None)
    st.session_state["feedback_saved"][turn_id] = verdict


def render_feedback(turn: p.Turn, feedback_path: Path) -> None:
    st.feedback("thumbs", key=f"fb_{turn.id}", on_change=_on_feedback, args=(turn.id, str(feedback_path)))
    error = st.session_state["feedback_errors"].get(turn.id)
    if error:
        st.error(p.error_markdown(*error))
    if turn.id in st.session_state["feedback_saved"]:
        st.caption("Merci, avis enregistré.")
        st.text_input(
            "Commentaire (facultatif)",
            key=f"comment_{turn.id}",
            max_chars=MAX_COMMENT_CHARS,
            placeholder="Qu'est-ce qui manque ou est faux ?",
        )
        st.button(
            "Envoyer le commentaire",
            key=f"send_comment_{turn.id}",
            on_click=_on_comment,
            args=(turn.id, str(feedback_path)),
        )
        if st.session_state.get("comment_sent", {}).get(turn.id):
            st.caption("Commentaire enregistré, merci.")


def render_reply(turn: p.Turn, feedback_path: Path) -> None:
    """The assistant's side of one turn: answer, abstention or error banner."""
    if turn.answer is None:
        st.error(p.error_markdown(turn.error or "Erreur inconnue.", turn.hint), icon="⚠️")
        return
    if turn.answer.abstained:
        render_abstention(turn, turn.answer)
    else:
        render_answer(turn, turn.answer)
    with st.expander("Copier la réponse et ses sources"):
        st.code(turn.answer.to_text(), language=None, wrap_lines=True)
    render_feedback(turn, feedback_path)


def render_turn(turn: p.Turn, feedback_path: Path) -> None:
    with st.chat_message("user"):
        st.markdown(p.plain_markdown(p.shorten(turn.question)))
    with st.chat_message("assistant"):
        render_reply(turn, feedback_path)


# --------------------------------------------------------------------------
# Conversations kept (assistant.history): one SQLite file in the data dir, bound to the tab by ?c=<id>
# --------------------------------------------------------------------------

CONVERSATION_PARAM = "c"
HISTORY_LIST_LIMIT = 30


@st.cache_resource(show_spinner=False)
def get_history(path: str) -> HistoryStore:
    """One handle per conversations file (it opens a short SQLite connection per call)."""
    return HistoryStore(path)


def _history_warning(exc: HistoryError) -> None:
    st.warning(p.error_markdown(exc.message, exc.hint), icon="🗂️")


def _forget_conversation() -> None:
    """The next question starts a new stored conversation; the URL loses ``?c=``."""
    st.session_state["conversation_id"] = None
    st.session_state["confirm_delete"] = None
    if CONVERSATION_PARAM in st.query_params:
        del st.query_params[CONVERSATION_PARAM]


def _open_conversation(conversation_id: str) -> None:
    """Sidebar click: the URL names the conversation; :func:`sync_conversation` loads it."""
    st.query_params[CONVERSATION_PARAM] = conversation_id


def open_history(assistant: Assistant, settings: Settings) -> tuple[HistoryStore | None, DeltaGenerator]:
    """The conversations store (None if unusable: the chat still works), and the sidebar slot for its list.

    The slot is reserved at the top of the sidebar now and drawn by :func:`conversations_sidebar` at the
    end of the run, so that a conversation created by this run's question is already listed.
    """
    slot = st.sidebar.container()
    st.session_state.setdefault("conversation_id", None)
    st.session_state.setdefault("confirm_delete", None)
    try:
        history = get_history(str(settings.data_dir / HISTORY_FILE))
    except HistoryError as exc:
        _history_warning(exc)
        return None, slot
    sync_conversation(assistant, history)
    return history, slot


def sync_conversation(assistant: Assistant, history: HistoryStore) -> None:
    """Make this session's turns those of the conversation named by the URL (a reload, a sidebar click)."""
    wanted = st.query_params.get(CONVERSATION_PARAM) or None
    current = st.session_state["conversation_id"]
    if wanted == current:
        return
    if wanted is None and current is not None:
        # Back from another page (the « Bulletins » page drops the parameter): same conversation. Our own
        # « Nouvelle conversation » and delete clear the session's id along with the parameter.
        st.query_params[CONVERSATION_PARAM] = current
        return
    _new_conversation()  # clears the turns and the URL parameter
    if wanted is None:
        return
    try:
        conversation = history.get(wanted)
    except HistoryError as exc:
        _history_warning(exc)
        return
    if conversation is None:
        st.info("Cette conversation n'existe plus (supprimée ?) : posez une nouvelle question.", icon="🗂️")
        return
    st.session_state["turns"] = [
        p.Turn(id=t.turn_id, question=t.question, answer=t.answer, contexts=_contexts(assistant, t.answer))
        for t in conversation.turns
    ]
    st.session_state["conversation_id"] = wanted
    st.query_params[CONVERSATION_PARAM] = wanted


def keep_turn(history: HistoryStore | None, turn: p.Turn) -> None:
    """Store an answered turn; the first one creates the conversation and puts its id in the URL."""
    if history is None or turn.answer is None:
        return
    try:
        conversation_id = st.session_state["conversation_id"]
        if conversation_id is None or history.info(conversation_id) is None:  # new, or deleted in another tab
            conversation_id = history.create(turn.question)
            st.session_state["conversation_id"] = conversation_id
            st.query_params[CONVERSATION_PARAM] = conversation_id
        history.add_turn(conversation_id, turn.question, turn.answer, turn_id=turn.id)
    except HistoryError as exc:
        _history_warning(exc)


def _rename_conversation(history: HistoryStore, conversation_id: str) -> None:
    title = st.session_state.get(f"conversation_title_{conversation_id}", "")
    try:
        history.rename(conversation_id, title)
    except HistoryError as exc:
        st.session_state["history_message"] = (exc.message, exc.hint)
        return
    st.session_state["history_message"] = None


def _ask_delete(conversation_id: str | None) -> None:
    st.session_state["confirm_delete"] = conversation_id


def _delete_conversation(history: HistoryStore, conversation_id: str) -> None:
    try:
        history.delete(conversation_id)
    except HistoryError as exc:
        st.session_state["history_message"] = (exc.message, exc.hint)
        return
    _new_conversation()


def current_conversation(history: HistoryStore, info: ConversationInfo) -> None:
    """Rename, export (Markdown, CSV of figures) and delete (after a confirmation) the open conversation."""
    zone = st.context.timezone
    with st.expander("Cette conversation", expanded=False):
        st.text_input("Titre", value=info.title, key=f"conversation_title_{info.id}", max_chars=h.MAX_TITLE_CHARS)
        st.button(
            "Renommer",
            key="rename_conversation",
            on_click=_rename_conversation,
            args=(history, info.id),
            width="stretch",
        )
        try:
            markdown = history.export_markdown(info.id, zone)
            figures = history.export_csv(info.id)
        except HistoryError as exc:
            _history_warning(exc)
        else:
            st.download_button(
                "Exporter (Markdown)",
                data=markdown.encode("utf-8"),
                file_name=h.export_filename(info, "md"),
                mime="text/markdown",
                key="export_markdown",
                on_click="ignore",
                width="stretch",
            )
            st.download_button(
                "Chiffres (CSV)",
                data=figures.encode("utf-8-sig"),  # the BOM makes spreadsheet software read the accents right
                file_name=h.export_filename(info, "csv"),
                mime="text/csv",
                key="export_csv",
                on_click="ignore",
                width="stretch",
            )
        if st.session_state["confirm_delete"] == info.id:
            st.warning(f"Supprimer « {p.plain_markdown(info.title)} » et ses réponses ?")
            yes, no = st.columns(2)
            yes.button(
                "Supprimer", key="confirm_delete_conversation", type="primary",
                on_click=_delete_conversation, args=(history, info.id),
            )  # fmt: skip
            no.button("Annuler", key="cancel_delete_conversation", on_click=_ask_delete, args=(None,))
        else:
            st.button(
                "Supprimer la conversation", key="delete_conversation", on_click=_ask_delete, args=(info.id,),
                width="stretch",
            )  # fmt: skip


def conversations_sidebar(history: HistoryStore | None, slot: DeltaGenerator) -> None:
    """« Nouvelle conversation », the open conversation's actions, then past conversations (newest first)."""
    with slot:
        st.button("Nouvelle conversation", key="new_conversation", on_click=_new_conversation, width="stretch")
        if history is None:
            return
        st.header("Conversations")
        message = st.session_state.get("history_message")
        if message:
            st.error(p.error_markdown(*message))
        try:
            items = history.list_conversations(limit=HISTORY_LIST_LIMIT)
            current_id = st.session_state.get("conversation_id")
            current = next((c for c in items if c.id == current_id), None)
            if current is None and current_id:
                current = history.info(current_id)
        except HistoryError as exc:
            _history_warning(exc)
            return
        if current is not None:
            current_conversation(history, current)
        if not items:
            st.caption("Vos conversations apparaîtront ici ; elles restent après un rechargement de la page.")
        zone = st.context.timezone
        for info in items:
            st.button(
                p.plain_markdown(h.short_title(info.title, 60)),
                key=f"open_conversation_{info.id}",
                help=p.plain_markdown(f"{h.local_label(info.updated, zone)} · {info.turns} question(s)"),
                type="primary" if info.id == current_id else "secondary",
                on_click=_open_conversation,
                args=(info.id,),
                width="stretch",
            )
            st.caption(p.plain_markdown(h.local_label(info.updated, zone)))


# --------------------------------------------------------------------------
# Start page (empty conversation): what the bulletins cover, example questions
# --------------------------------------------------------------------------

EXAMPLE_KEY = "example_question"


def _pick_example(question: str) -> None:
    """Example button callback: the question is asked by the next run, as if typed."""
    st.session_state[EXAMPLE_KEY] = question


def take_example_question() -> str | None:
    return st.session_state.pop(EXAMPLE_KEY, None)


def start_page(assistant: Assistant) -> None:
    """Bulletins covered (count, period, topics) and clickable example questions built from them."""
    try:
        with st.spinner("Préparation des exemples…"):
            overview = ov.corpus_overview(assistant)
    except Exception as exc:
        _show_error(exc)
        return
    if overview.bulletins == 0:
        st.info("Aucun bulletin indexé pour l'instant.", icon="📭")
        return
    with st.container(border=True, key="start_page"):
        st.markdown("**Bulletins couverts**")
        n = overview.bulletins
        st.markdown(p.plain_markdown(f"{n} bulletin{'s' if n > 1 else ''} · {overview.period}"))
        if overview.topics:
            st.caption(p.plain_markdown("Thèmes : " + ", ".join(overview.topics)))
        if overview.examples:
            st.markdown("**Exemples de questions** (cliquez pour poser la question)")
            for i, example in enumerate(overview.examples):
                st.button(
                    p.plain_markdown(example.question),
                    key=f"example_{i}",
                    on_click=_pick_example,
                    args=(example.question,),
                    help=p.plain_markdown(f"Réponse dans : {example.title} ({p.format_date_fr(example.date)})"),
                )
        st.page_link("pages/1_Bulletins.py", label="Voir tous les bulletins et leurs chiffres clés", icon="📚")


# --------------------------------------------------------------------------
# Page
# --------------------------------------------------------------------------

NEW_TURN_KEY = "new_turn"
# Streamlit keeps a chat scrolled to its bottom; a long reply would then show its sources and hide its figure
# card. Our own script (no corpus text in it) brings the new question and the top of its reply into view,
# again while the page settles, and stops as soon as the reader scrolls.
_SCROLL_SCRIPT = """<script>
(() => {
  const target = () => document.querySelector(".st-key-NEW_TURN_KEY");
  let stopped = false;
  const stop = () => { stopped = true; };
  window.addEventListener("wheel", stop, { once: true, passive: true });
  window.addEventListener("touchmove", stop, { once: true, passive: true });
  window.addEventListener("keydown", stop, { once: true });
  const show = () => {
    const el = target();
    if (!el || stopped) return;
    el.style.scrollMarginTop = "4.5rem";  // below Streamlit's header bar
    el.scrollIntoView({ block: "start" });
  };
  for (const delay of [0, 150, 400, 800, 1500]) {
    setTimeout(show, delay);
  }
})();
</script>""".replace("NEW_TURN_KEY", NEW_TURN_KEY)


def show_top_of_new_reply() -> None:
    st.html(_SCROLL_SCRIPT, unsafe_allow_javascript=True, width="content")


def main() -> None:
    """The chat page."""
    _init_state()
    st.title("Chiffres des bulletins santé")
    st.caption("Posez une question en français : chaque chiffre est donné avec le passage du bulletin qui le contient.")
    try:
        settings = Settings.from_env()
        # Keys do not change the Assistant: kept out of the cache key (one instance, no secret in it).
        assistant = shared_assistant(settings)  # ui/chat_resources.py: one instance for every page
    except Exception as exc:
        _show_error(exc)
        st.stop()
    if not prepare(assistant, settings):
        st.stop()
    history, history_slot = open_history(assistant, settings)
    filters = sidebar(assistant, settings)

    for turn in _turns():
        render_turn(turn, settings.feedback_path)

    question = st.chat_input("Posez une question sur un chiffre des bulletins…", key="question")
    question = take_example_question() if question is None else question  # a start-page example clicked
    if question is None:
        conversations_sidebar(history, history_slot)  # nothing new to keep: the list can be drawn now
    if question is None:
        if not _turns():
            start_page(assistant)
        return
    with st.container(key=NEW_TURN_KEY):
        with st.chat_message("user"):
            st.markdown(p.plain_markdown(p.shorten(question)))
        with st.chat_message("assistant"):
            with st.spinner("Recherche dans les bulletins…"):
                turn = answer_turn(assistant, question, filters)
            _turns().append(turn)
            keep_turn(history, turn)
            render_reply(turn, settings.feedback_path)
    show_top_of_new_reply()
    conversations_sidebar(history, history_slot)


def run() -> None:
    """Page list with French names (a ``pages/`` folder alone would list this page as « app »)."""
    st.set_page_config(page_title="Chiffres des bulletins", page_icon="📊")
    pages = [
        st.Page(main, title="Questions", icon="💬", default=True),
        st.Page("pages/1_Bulletins.py", title="Bulletins", icon="📚", url_path="Bulletins"),
    ]
    st.navigation(pages).run()


run()
