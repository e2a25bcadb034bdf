"""« Bulletins »: every indexed bulletin (title, date, source, pages, key figures, full text), searchable.

A page of the Streamlit chat (``ui/pages/`` beside the entry script ``ui/app.py``). The content comes
from :mod:`assistant.overview`; every corpus string goes through ``presentation`` escaping (or
``st.text``): bulletins are data, never markup.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import streamlit as st

from assistant import overview as ov
from assistant import presentation as p
from assistant.errors import AssistantError
from assistant.settings import Settings

# Streamlit puts the entry script's folder (ui/) on sys.path; also when this page is run on its own.
_UI = str(Path(__file__).resolve().parent.parent)
if _UI not in sys.path:
    sys.path.insert(0, _UI)
from chat_resources import shared_assistant  # noqa: E402

log = logging.getLogger("assistant.ui")


def bulletin_caption(s: ov.BulletinSummary) -> str:
    parts = [p.format_date_fr(s.date)]
    if s.source:
        parts.append(s.source)
    if s.pages:
        parts.append(f"{s.pages} page{'s' if s.pages > 1 else ''}")
    parts.append(f"fichier {s.id}")
    return " · ".join(parts)


def render_bulletin(s: ov.BulletinSummary) -> None:
    with st.container(border=True):
        st.markdown(f"#### {p.plain_markdown(p.shorten(s.title, 160))}")
        st.caption(p.plain_markdown(bulletin_caption(s)))
        if s.url:
            st.caption(f"Adresse : {p.plain_markdown(s.url)}")
        if s.key_figures:
            st.markdown("**Chiffres clés**")
            st.markdown(
                "\n".join(f"- **{p.plain_markdown(k.figure)}** — {p.plain_markdown(k.clause)}" for k in s.key_figures)
            )
        else:
            st.caption("Aucun chiffre repéré dans ce bulletin.")
        with st.expander("Texte intégral"):
            st.text(s.text)


def main() -> None:
    st.title("Bulletins")
    st.caption("Les bulletins indexés, leurs chiffres clés et leur texte intégral.")
    try:
        assistant = shared_assistant(Settings.from_env())
        summaries = ov.bulletin_summaries(assistant)
    except Exception as exc:  # the edge: any failure becomes a banner
        if not isinstance(exc, AssistantError):
            log.exception("bulletins page failed")
        message, hint = p.error_parts(exc)
        st.error(p.error_markdown(message, hint), icon="⚠️")
        st.stop()
    if not summaries:
        st.info("Aucun bulletin indexé pour l'instant : ouvrez la page de questions pour lancer l'indexation.")
        return
    query = st.text_input(
        "Rechercher dans les bulletins", key="bulletin_search", placeholder="Mot ou expression, ex. téléconsultations"
    )
    shown = ov.filter_summaries(summaries, query)
    if query.strip():
        found = f"{len(shown)} bulletin{'s' if len(shown) > 1 else ''} sur {len(summaries)}"
        verb = "contiennent" if len(shown) > 1 else "contient"
        st.caption(f"{found} {verb} « {p.plain_markdown(query.strip())} ».")
    else:
        st.caption(f"{len(summaries)} bulletins, du plus récent au plus ancien.")
    if not shown:
        st.info("Aucun bulletin ne contient ce texte.")
    for s in shown:
        render_bulletin(s)


main()
