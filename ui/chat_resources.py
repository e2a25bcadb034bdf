"""What every page of the Streamlit chat shares: one cached :class:`Assistant` per configuration.

Kept out of ``ui/app.py`` so that the « Bulletins » page (``ui/pages/``) uses the same instance:
the embedded store belongs to one object per process (a second one would wait on its lock).
Streamlit puts the entry script's folder (``ui/``) on ``sys.path``, so pages import this as
``chat_resources``.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from assistant import Assistant
from assistant.settings import Settings


def _release(assistant: Assistant) -> None:
    """Free the store lock when Streamlit drops the cached assistant."""
    assistant.close()


@st.cache_resource(show_spinner="Ouverture de l'index des bulletins…", on_release=_release)
def get_assistant(config_key: str, _settings: Settings) -> Assistant:
    """One thread-safe Assistant per configuration, shared by every browser session.

    ``config_key`` (the settings' repr, secrets left out) keys the cache so that a process serving
    another data dir (e.g. tests) never reuses the wrong store.
    """
    return Assistant(settings=_settings)


def shared_assistant(settings: Settings) -> Assistant:
    """The cached assistant for ``settings`` (keys do not change it: kept out of the cache key)."""
    return get_assistant(repr(replace(settings, admin_key=None, api_keys=())), settings)
