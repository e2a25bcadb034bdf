"""Torch vs ONNX Runtime for the bundled embedder: speed and cosine on the corpus chunks.

Not part of the package: the ONNX export needs the ``onnx`` package, which the project
does not depend on (sentence-transformers' own ``backend="onnx"`` needs ``optimum-onnx``,
which pins ``transformers<4.58``, older than the project's). Run it with ``onnx`` in a
side folder, leaving the venv untouched::

    .venv/bin/python -m pip install --target /tmp/onnxpkgs --no-deps onnx ml_dtypes
    PYTHONPATH=/tmp/onnxpkgs .venv/bin/python scripts/onnx_compare.py

The model is exported locally from the bundled weights (nothing is downloaded).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from assistant.chunking import chunk_bulletin, embed_text
from assistant.embeddings import Embedder
from assistant.loading import discover, iter_bulletins
from assistant.models import Bulletin

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class _LastHidden(torch.nn.Module):
    def __init__(self, hf: torch.nn.Module) -> None:
        super().__init__()
        self.hf = hf

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        return self.hf(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state


def export(embedder: Embedder, path: Path) -> None:
    model = embedder.model
    sample = model.tokenizer(["Bonjour", "Combien d'assurés ?"], padding=True, return_tensors="pt")
    torch.onnx.export(
        _LastHidden(model[0].auto_model.eval()),
        tuple(sample[k] for k in INPUTS),
        str(path),
        dynamo=False,
        input_names=list(INPUTS),
        output_names=["last_hidden_state"],
        dynamic_axes={k: {0: "batch", 1: "seq"} for k in (*INPUTS, "last_hidden_state")},
        opset_version=17,
    )


def ort_encode(session: ort.InferenceSession, embedder: Embedder, texts: list[str], batch: int = 64) -> np.ndarray:
    """What the sentence-transformers pipeline does (mean pooling, L2 normalisation), on ONNX Runtime."""
    tok = embedder.model.tokenizer
    out = []
    for s in range(0, len(texts), batch):
        enc = tok(
            texts[s : s + batch], padding=True, truncation=True, max_length=embedder.max_tokens, return_tensors="np"
        )
        hidden = session.run(None, {k: enc[k].astype(np.int64) for k in INPUTS})[0]
        mask = enc["attention_mask"][..., None].astype(np.float32)
        v = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    return np.concatenate(out)


def main() -> None:
    embedder = Embedder(query_threads=0)
    files, _ = discover([ROOT / "corpus"])
    texts = [
        embed_text(b.title, c.text)
        for b in iter_bulletins(files, max_bytes=10**7)
        if isinstance(b, Bulletin)
        for c in chunk_bulletin(b, embedder)
    ]
    questions = ["Combien d'assurés ont activé Mon Espace Santé ?", "Quel est le délai médian aux urgences ?"] * 10
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export(embedder, path)
        sessions = {}
        for n in (1, 2):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = n
            opts.inter_op_num_threads = 1
            sessions[n] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        reference = embedder.encode(texts)
        print(f"{len(texts)} corpus chunks, load average {os.getloadavg()[0]:.1f}")
        for rnd in range(2):
            for threads in (1, 2):
                torch.set_num_threads(threads)
                t = time.perf_counter()
                embedder.encode(texts)
                torch_batch = len(texts) / (time.perf_counter() - t)
                t = time.perf_counter()
                for q in questions:
                    embedder.encode([q])
                torch_q = (time.perf_counter() - t) / len(questions) * 1000
                t = time.perf_counter()
                vectors = ort_encode(sessions[threads], embedder, texts)
                ort_batch = len(texts) / (time.perf_counter() - t)
                t = time.perf_counter()
                for q in questions:
                    ort_encode(sessions[threads], embedder, [q])
                ort_q = (time.perf_counter() - t) / len(questions) * 1000
                cos = (vectors * reference).sum(1)
                print(
                    f"round {rnd} threads {threads}: batch torch {torch_batch:.1f} / onnx {ort_batch:.1f} chunks/s; "
                    f"query torch {torch_q:.1f} / onnx {ort_q:.1f} ms; cosine min {cos.min():.6f} mean {cos.mean():.6f}"
                )


if __name__ == "__main__":
    main()
