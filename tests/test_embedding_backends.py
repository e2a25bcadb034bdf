"""The default embedding backend (ONNX Runtime int8) against torch float32, and its artefact checks."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.embeddings import (
    BACKEND_ONNX_INT8,
    BACKEND_TORCH,
    DEFAULT_BACKEND,
    ONNX_FILE,
    Embedder,
    OnnxEncoder,
    _torch_query,
    ensure_onnx_model,
    verify_onnx_model,
)
from assistant.errors import ConfigError, ModelError
from assistant.loading import discover, load_file
from assistant.models_e5 import MANIFEST_FILE
from assistant.settings import MINILM_MODEL, PROJECT_ROOT

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "piaf-dev"
MODEL_DIR = PROJECT_ROOT / ".models"
MIN_COSINE = 0.99


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if len(s.strip()) >= 3]


@pytest.fixture(scope="module")
def texts() -> dict[str, list[str]]:
    """Real French texts by prompt: the bulletins' sentences (passages) and, when the PIAF dev set
    is there, 1 question in 40 (queries) and 1 paragraph in 72 (passages) with 1 sentence in 2:
    ~160 texts (192 sentences without PIAF)."""
    files, _ = discover([ROOT / "corpus"])
    sentences = list(dict.fromkeys(s for f in files for s in _sentences(load_file(f).text)))
    out = {"passage": sentences, "query": []}
    if (PIAF / "qas.jsonl").is_file():
        with (PIAF / "qas.jsonl").open(encoding="utf-8") as fh:
            questions = [json.loads(line)["question"] for line in fh if line.strip()]
        paragraphs = [p.read_text(encoding="utf-8") for p in sorted((PIAF / "corpus").glob("*.txt"))]
        out["query"] = questions[::40]
        out["passage"] = sentences[::2] + paragraphs[::72]
    return out


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend=BACKEND_TORCH, model_dir=MODEL_DIR)


@pytest.fixture(scope="module")
def onnx_embedder() -> Embedder:
    return Embedder(backend=BACKEND_ONNX_INT8, model_dir=MODEL_DIR)


@pytest.fixture
def artefact_copy(tmp_path: Path) -> Iterator[Path]:
    """A copy of the int8 folder (140 MB), removed afterwards."""
    folder = ensure_onnx_model(MODEL_DIR, quantized=True)
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    yield copy
    shutil.rmtree(copy, ignore_errors=True)


def test_default_backend_is_onnx_int8_for_e5_only() -> None:
    assert DEFAULT_BACKEND == BACKEND_ONNX_INT8
    assert Embedder().backend == BACKEND_ONNX_INT8
    assert Embedder(MINILM_MODEL).backend == BACKEND_TORCH  # other models stay on torch
    assert Embedder(device="cuda").backend == BACKEND_TORCH
    with pytest.raises(ConfigError):
        Embedder(backend="tensorrt")


def test_onnx_int8_within_cosine_099_of_torch_fp32(
    texts: dict[str, list[str]], torch_embedder: Embedder, onnx_embedder: Embedder
) -> None:
    assert isinstance(onnx_embedder.model, OnnxEncoder)
    total = 0
    for prompt, group in texts.items():
        if not group:
            continue
        ref = torch_embedder.encode(group, prompt=prompt)
        got = onnx_embedder.encode(group, prompt=prompt)
        assert got.shape == ref.shape and got.dtype == np.float32
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
        cos = (ref * got).sum(axis=1)
        worst = group[int(cos.argmin())]
        assert cos.min() >= MIN_COSINE, f"{prompt}: cosine {cos.min():.4f} for {worst[:80]!r}"
        total += len(group)
    assert total >= 100


def test_query_path_matches_batch_path(
    texts: dict[str, list[str]], torch_embedder: Embedder, onnx_embedder: Embedder
) -> None:
    questions = texts["query"][:10] or texts["passage"][:10]
    for e in (onnx_embedder, torch_embedder):
        one = np.stack([e.encode_query(q) for q in questions])
        batch = e.encode(questions, prompt="query")
        assert np.allclose(one, batch, atol=1e-5), e.backend
    # int8: a text's vector does not depend on the texts encoded with it (one call per text)
    passages = texts["passage"][:6]
    alone = np.stack([onnx_embedder.encode([p])[0] for p in passages])
    assert np.array_equal(onnx_embedder.encode(passages), alone)
    assert np.array_equal(onnx_embedder.encode(passages[::-1])[::-1], alone)
    st = torch_embedder.model  # the lean torch path gives what SentenceTransformer.encode gives
    q = questions[0]
    full = st.encode([torch_embedder.prompt("query") + q], normalize_embeddings=True)[0]
    assert np.allclose(_torch_query(st, q, torch_embedder.prompt("query")), full, atol=1e-6)


def test_chunker_interface_is_the_same(torch_embedder: Embedder, onnx_embedder: Embedder) -> None:
    text = "Au 31 mars, 12,4 millions d'assurés avaient activé « Mon Espace Santé » (+8 %)."
    assert onnx_embedder.max_tokens == torch_embedder.max_tokens == 512 - 3  # "passage: " is 3 tokens
    assert onnx_embedder.count(text) == torch_embedder.count(text)
    assert onnx_embedder.token_ends(text) == torch_embedder.token_ends(text)
    assert onnx_embedder.prompt("query") == "query: " and onnx_embedder.prompt("passage") == "passage: "
    assert onnx_embedder.dimension == 384
    assert onnx_embedder.encode([]).shape == (0, 0)


def test_artefact_is_verified_and_tampering_refused(artefact_copy: Path) -> None:
    verify_onnx_model(artefact_copy, quantized=True)
    with pytest.raises(ModelError, match="recette"):
        verify_onnx_model(artefact_copy, quantized=False)  # an int8 folder is not the float32 one
    weights = artefact_copy / ONNX_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, same size
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="ne correspond pas au manifeste"):
        verify_onnx_model(artefact_copy, quantized=True)


def test_tampered_tokenizer_and_manifest_refused(artefact_copy: Path) -> None:
    tok = artefact_copy / "tokenizer.json"
    tok.write_bytes(tok.read_bytes() + b" ")
    with pytest.raises(ModelError, match="manifeste"):
        verify_onnx_model(artefact_copy, quantized=True)
    manifest = json.loads((artefact_copy / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["source"]["sha256"] = "0" * 64
    (artefact_copy / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match="recette"):
        verify_onnx_model(artefact_copy, quantized=True)
    (artefact_copy / ONNX_FILE).unlink()
    (artefact_copy / MANIFEST_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="illisible"):
        verify_onnx_model(artefact_copy, quantized=True)


def test_load_refuses_a_tampered_cache(tmp_path: Path, artefact_copy: Path) -> None:
    """Through the Embedder: the cached folder is checked before ONNX Runtime reads it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.move(str(artefact_copy), cache / artefact_copy.name)
    weights = cache / artefact_copy.name / ONNX_FILE
    with weights.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelError, match="ne correspond pas au manifeste"):
        _ = Embedder(model_dir=cache).model
