"""Embedding backends of multilingual-e5-small, side by side: speed, cosine to torch float32, load.

Texts: the PIAF paragraphs (``<piaf>/corpus/*.txt``, passage prompt) and the first questions
of ``<piaf>/qas.jsonl`` (query prompt). For each backend:

* passages/s for batch sizes 32 and 64 (texts sorted by length first, as sentence-transformers
  does, in slices run by every backend in turn; torch on its default threads, ONNX Runtime one
  text per call on one call per core, OpenVINO on its own);
* one question at a time on 1 thread: median and p90 latency (rounds interleaved between
  backends, so that a burst of load on the shared machine hits them all);
* cosine to torch float32, min and mean, over passages and over questions;
* cold start: a fresh ``python`` process from launch to its first question's vector (imports,
  hash checks, load), median of ``--cold-runs``, and its resident memory;
* disk: what the backend adds next to the converted float32 folder.

Backends: ``torch`` (sentence-transformers float32, the reference), ``torch-int8`` (torch
dynamic quantisation of every Linear, done in place: ``SentenceTransformer[0].auto_model`` is a
read-only property, so assigning the copy ``quantize_dynamic`` returns registers an unused
submodule and changes nothing), ``torch-int8pc`` (per-channel, feed-forward outputs left in
float32), ``onnx`` and ``onnx-int8`` (the project's :class:`assistant.embeddings.OnnxEncoder`,
artefacts built under ``.models`` if absent), ``openvino`` (the float32 graph exported without
onnxruntime's contrib operators; skipped unless the ``openvino`` package can be imported, e.g.
``pip install --target /tmp/ov --no-deps openvino openvino-telemetry`` and ``PYTHONPATH=/tmp/ov``).

Nothing is downloaded. Usage::

    .venv/bin/python scripts/embed_backends.py                      # everything, ~30 min under load
    .venv/bin/python scripts/embed_backends.py --passages 96 --backends torch,onnx-int8 --cold-runs 1
    .venv/bin/python scripts/embed_backends.py --profile            # where one question's time goes
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_T0 = time.perf_counter()

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.embeddings import BACKEND_ONNX, BACKEND_ONNX_INT8, BACKEND_TORCH, Embedder  # noqa: E402
from assistant.embeddings import onnx_folder_name as _onnx_folder  # noqa: E402
from assistant.models_e5 import CONVERTER_VERSION, MODEL_NAME  # noqa: E402

PIAF = Path(os.environ.get("PIAF_DIR", "/work/shared/piaf-dev"))
MODEL_DIR = ROOT / ".models"
ALL_BACKENDS = ("torch", "torch-int8", "torch-int8pc", "onnx", "onnx-int8", "openvino")
COLD_QUERY = "Combien d'assurés ont activé Mon Espace Santé en 2025 ?"


def load_texts(n_passages: int, n_queries: int) -> tuple[list[str], list[str]]:
    passages = [p.read_text(encoding="utf-8") for p in sorted((PIAF / "corpus").glob("*.txt"))][:n_passages]
    with (PIAF / "qas.jsonl").open(encoding="utf-8") as fh:
        queries = [json.loads(line)["question"] for line in fh][:n_queries]
    if not passages or not queries:
        raise SystemExit(f"PIAF texts not found under {PIAF} (set PIAF_DIR)")
    return passages, queries


def uptime() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else 0.0


# ----------------------------------------------------------------------------------------------
# Backends: each gives encode_batch(texts, batch_size) and encode_one(text), prompts included
# ----------------------------------------------------------------------------------------------


@dataclass
class Loaded:
    name: str
    encode_batch: Callable[[list[str], int], np.ndarray]
    encode_one: Callable[[str], np.ndarray]
    disk_mb: float
    note: str = ""


def _embedder_backend(backend: str) -> Loaded:
    e = Embedder(model_dir=MODEL_DIR, backend=backend)
    _ = e.model
    prompt = e.prompt("passage")

    def batch(texts: list[str], bs: int) -> np.ndarray:
        return np.asarray(e.model.encode(texts, prompt=prompt, batch_size=bs, normalize_embeddings=True))

    disk = 0.0
    if backend != BACKEND_TORCH:
        disk = dir_mb(MODEL_DIR / _onnx_folder(backend == BACKEND_ONNX_INT8))
    return Loaded(backend, batch, e.encode_query, disk)


def _torch_int8(per_channel: bool) -> Loaded:
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    e = Embedder(model_dir=MODEL_DIR, backend=BACKEND_TORCH)
    bert = e.model[0].auto_model
    if per_channel:
        spec: Any = {
            n: per_channel_dynamic_qconfig
            for n, m in bert.named_modules()
            if isinstance(m, torch.nn.Linear) and not (n.endswith("output.dense") and "attention" not in n)
        }
    else:
        spec = {torch.nn.Linear}
    with _quiet():
        quantize_dynamic(bert, spec, dtype=torch.qint8, inplace=True)  # in place: see the module docstring
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    swapped = sum(isinstance(m, DynamicLinear) for m in bert.modules())
    plain = sum(type(m) is torch.nn.Linear for m in bert.modules())
    if swapped == 0:
        raise RuntimeError("quantize_dynamic replaced no Linear module")
    prompt = e.prompt("passage")

    def batch(texts: list[str], bs: int) -> np.ndarray:
        return np.asarray(e.model.encode(texts, prompt=prompt, batch_size=bs, normalize_embeddings=True))

    return Loaded(
        "torch-int8pc" if per_channel else "torch-int8",
        batch,
        e.encode_query,
        0.0,
        f"{swapped} Linear quantised, {plain} float32",
    )


def _openvino() -> Loaded:
    import openvino as ov
    import torch
    from transformers import AutoTokenizer

    from assistant.embeddings import _pooled_bert
    from assistant.models_e5 import ensure_model

    source = ensure_model(MODEL_DIR)
    ir_dir = Path(os.environ.get("OV_IR_DIR") or tempfile.mkdtemp(prefix="ov-e5-"))
    xml = ir_dir / "model.xml"
    tok = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    prompts = json.loads((source / "config_sentence_transformers.json").read_text(encoding="utf-8"))["prompts"]
    if not xml.is_file():  # converted once per run; the cold-start processes reuse it
        from assistant.models_e5 import load_sentence_transformer

        st = load_sentence_transformer(source)
        bert = st[0].auto_model.eval()
        sample = st.tokenizer(["query: Bonjour", "passage: Combien d'assurés ?"], padding=True, return_tensors="pt")
        with _quiet(), torch.inference_mode():
            model = ov.convert_model(
                _pooled_bert(bert).eval(), example_input=(sample["input_ids"], sample["attention_mask"])
            )
        ir_dir.mkdir(parents=True, exist_ok=True)
        ov.save_model(model, str(xml), compress_to_fp16=False)
    core = ov.Core()
    model = core.read_model(str(xml))
    one = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": 1, "PERFORMANCE_HINT": "LATENCY"})
    many = core.compile_model(model, "CPU", {"PERFORMANCE_HINT": "THROUGHPUT"})
    req_one = one.create_infer_request()
    queue = ov.AsyncInferQueue(many)

    def run(req: Any, texts: list[str]) -> np.ndarray:
        enc = tok(texts, padding=True, truncation=True, max_length=512, return_tensors="np")
        return np.array(req.infer({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]})[0])

    def batch(texts: list[str], bs: int) -> np.ndarray:
        texts = [prompts["passage"] + t for t in texts]
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), 384), dtype=np.float32)

        def done(req: Any, idx: list[int]) -> None:
            out[idx] = req.get_output_tensor(0).data

        queue.set_callback(done)
        for s in range(0, len(order), bs):
            idx = order[s : s + bs]
            enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=512, return_tensors="np")
            queue.start_async({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, idx)
        queue.wait_all()
        return out

    def encode_one(text: str) -> np.ndarray:
        return run(req_one, [prompts["query"] + text])[0]

    return Loaded("openvino", batch, encode_one, dir_mb(xml.parent), f"OpenVINO {ov.__version__}")


def load_backend(name: str) -> Loaded:
    if name in (BACKEND_TORCH, BACKEND_ONNX, BACKEND_ONNX_INT8):
        return _embedder_backend(name)
    if name in ("torch-int8", "torch-int8pc"):
        return _torch_int8(name == "torch-int8pc")
    if name == "openvino":
        return _openvino()
    raise SystemExit(f"unknown backend {name}")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ----------------------------------------------------------------------------------------------
# Measures
# ----------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    load_s: float = 0.0
    cold_s: float | None = None
    rss_mb: float | None = None
    pps: dict[int, float] = field(default_factory=dict)
    q_ms: list[float] = field(default_factory=list)
    cos_p: np.ndarray | None = None
    cos_q: np.ndarray | None = None
    disk_mb: float = 0.0
    note: str = ""
    loads: list[str] = field(default_factory=list)


def cold_start(name: str, runs: int) -> tuple[float | None, float | None]:
    """Median wall seconds of a fresh process up to its first question's vector, and its RSS."""
    walls, rss = [], []
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--cold", name], capture_output=True, text=True, cwd=ROOT, check=False
        )
        wall = time.perf_counter() - t
        if out.returncode != 0:
            print(f"  cold start of {name} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            return None, None
        info = json.loads(out.stdout.strip().splitlines()[-1])
        walls.append(wall)
        rss.append(info["rss_mb"])
    return statistics.median(walls), statistics.median(rss)


def _cold_child(name: str) -> None:
    import psutil

    loaded = load_backend(name)
    loaded.encode_one(COLD_QUERY)
    rss = psutil.Process().memory_info().rss / 2**20
    print(json.dumps({"in_process_s": time.perf_counter() - _T0, "rss_mb": rss}))


def profile_query(queries: list[str], rounds: int) -> None:
    """Step by step, where one question's time goes on the torch backend (1 thread)."""
    import torch

    from assistant.embeddings import _torch_query, _torch_threads

    e = Embedder(model_dir=MODEL_DIR, backend=BACKEND_TORCH)
    m = e.model
    qp = e.prompt("query") or ""
    bert = m[0].auto_model
    feats = [m.preprocess([q], prompt=qp) for q in queries]
    steps: dict[str, Callable[[int], Any]] = {
        "tokenizer (transformers, 1 text)": lambda i: m.tokenizer([qp + queries[i]], padding=True, return_tensors="pt"),
        "SentenceTransformer.preprocess": lambda i: m.preprocess([queries[i]], prompt=qp),
        "BertModel forward only": lambda i: _fwd(bert, feats[i]),
        "ST modules forward (bert+pool+norm)": lambda i: _st_fwd(m, feats[i]),
        "lean path (_torch_query)": lambda i: _torch_query(m, queries[i], qp),
        "SentenceTransformer.encode": lambda i: m.encode([qp + queries[i]], normalize_embeddings=True),
    }
    times: dict[str, list[float]] = {k: [] for k in steps}
    with _torch_threads(1):
        print(f"torch threads inside encode_query: {torch.get_num_threads()} (outside: default)")
        for f in steps.values():
            f(0)
        for _ in range(rounds):
            for k, f in steps.items():
                for i in range(len(queries)):
                    t = time.perf_counter()
                    f(i)
                    times[k].append(time.perf_counter() - t)
        # cpu/wall: > 1 would mean more than one busy thread
        t, c = time.perf_counter(), time.process_time()
        for f in feats[:50]:
            _fwd(bert, f)
        ratio = (time.process_time() - c) / (time.perf_counter() - t)
    print(f"{'step':40} {'median ms':>10} {'p90 ms':>8}   ({uptime()})")
    for k, v in times.items():
        v.sort()
        print(f"{k:40} {1000 * statistics.median(v):10.2f} {1000 * v[int(0.9 * len(v))]:8.2f}")
    tokens = [int(f["input_ids"].shape[1]) for f in feats]
    print(f"tokens per question: median {statistics.median(tokens)}, max {max(tokens)} (no padding: one text)")
    print(f"CPU/wall during 1-thread forwards: {ratio:.2f}")


def _fwd(bert: Any, f: dict[str, Any]) -> Any:
    import torch

    with torch.inference_mode():
        return bert(input_ids=f["input_ids"], attention_mask=f["attention_mask"])


def _st_fwd(m: Any, f: dict[str, Any]) -> Any:
    import torch

    with torch.inference_mode():
        return m(dict(f))["sentence_embedding"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default=",".join(ALL_BACKENDS))
    ap.add_argument("--passages", type=int, default=432)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch-sizes", default="32,64")
    ap.add_argument("--passage-rounds", type=int, default=1)
    ap.add_argument("--query-rounds", type=int, default=3)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--profile", action="store_true", help="only profile one question on torch")
    ap.add_argument("--cold", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold:
        _cold_child(args.cold)
        return
    passages, queries = load_texts(args.passages, args.queries)
    if args.profile:
        profile_query(queries, args.query_rounds)
        return
    names = [n for n in args.backends.split(",") if n]
    if "torch" not in names:
        names.insert(0, "torch")  # the reference
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    os.environ.setdefault("OV_IR_DIR", tempfile.mkdtemp(prefix="ov-e5-"))  # shared with the cold starts
    print(f"{len(passages)} passages, {len(queries)} questions, {os.cpu_count()} CPUs, {uptime()}", flush=True)

    results: dict[str, Result] = {}
    loaded: dict[str, Loaded] = {}
    for name in names:
        r = results[name] = Result(name)
        t = time.perf_counter()
        try:
            loaded[name] = load_backend(name)
        except ImportError as exc:
            print(f"  {name}: skipped ({exc})", flush=True)
            del results[name]
            continue
        r.load_s = time.perf_counter() - t
        r.disk_mb, r.note = loaded[name].disk_mb, loaded[name].note
        print(f"  {name}: loaded in {r.load_s:.1f} s {r.note} ({uptime()})", flush=True)

    # Passages sorted by length (as sentence-transformers does), cut into slices of the largest
    # batch size: every backend encodes slice 1, then every backend slice 2..., so that a change
    # of load on the shared machine falls on all of them; seconds are summed per backend.
    order = sorted(range(len(passages)), key=lambda i: -len(passages[i]))
    step = max(sizes)
    slices = [order[s : s + step] for s in range(0, len(order), step)]
    seconds: dict[tuple[str, int], list[float]] = {(n, b): [0.0] * args.passage_rounds for n in loaded for b in sizes}
    pvecs = {n: np.zeros((len(passages), 384), dtype=np.float32) for n in loaded}
    for rnd in range(args.passage_rounds):
        for idx in slices:
            for bs in sizes:
                for name, lo in loaded.items():
                    t = time.perf_counter()
                    pvecs[name][idx] = lo.encode_batch([passages[i] for i in idx], bs)
                    seconds[(name, bs)][rnd] += time.perf_counter() - t
        print(f"  passage round done ({uptime()})", flush=True)
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, lo in loaded.items():
        r = results[name]
        r.pps = {bs: len(passages) / statistics.median(seconds[(name, bs)]) for bs in sizes}
        r.loads.append(uptime())
        vectors[name] = (pvecs[name], np.stack([lo.encode_one(x) for x in queries]))
        print(f"  {name}: " + ", ".join(f"batch {b}: {v:.2f} passages/s" for b, v in r.pps.items()), flush=True)
    for _ in range(args.query_rounds):  # interleaved between backends
        for name, lo in loaded.items():
            for x in queries:
                t = time.perf_counter()
                lo.encode_one(x)
                results[name].q_ms.append(1000 * (time.perf_counter() - t))
        print(f"  query round done ({uptime()})", flush=True)
    ref_p, ref_q = vectors["torch"]
    for name, (p, q) in vectors.items():
        results[name].cos_p = (p * ref_p).sum(axis=1)
        results[name].cos_q = (q * ref_q).sum(axis=1)
    del loaded
    if args.cold_runs > 0:
        for name, r in results.items():
            r.cold_s, r.rss_mb = cold_start(name, args.cold_runs)
            print(f"  {name}: cold start {r.cold_s} s ({uptime()})", flush=True)
    print_table(results, sizes)
    if args.json:
        args.json.write_text(json.dumps({n: _as_dict(r) for n, r in results.items()}, indent=2) + "\n")


def _as_dict(r: Result) -> dict[str, Any]:
    qs = sorted(r.q_ms)
    return {
        "passages_per_s": r.pps,
        "query_ms_median": statistics.median(qs),
        "query_ms_p90": qs[int(0.9 * len(qs))],
        "cos_passages_min": float(r.cos_p.min()) if r.cos_p is not None else None,
        "cos_passages_mean": float(r.cos_p.mean()) if r.cos_p is not None else None,
        "cos_queries_min": float(r.cos_q.min()) if r.cos_q is not None else None,
        "cos_queries_mean": float(r.cos_q.mean()) if r.cos_q is not None else None,
        "load_s": r.load_s,
        "cold_start_s": r.cold_s,
        "rss_mb": r.rss_mb,
        "extra_disk_mb": r.disk_mb,
        "note": r.note,
        "machine_load": r.loads,
    }


def print_table(results: dict[str, Result], sizes: list[int]) -> None:
    head = (
        f"| backend | {' | '.join(f'pass./s b{b}' for b in sizes)} | query med ms | query p90 ms "
        "| cos pass. min/mean | cos query min/mean | load s | cold start s | RSS MB | extra disk MB |"
    )
    print()
    print(f"{MODEL_NAME} {CONVERTER_VERSION}, {os.cpu_count()} CPUs, {uptime()}")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in results.values():
        d = _as_dict(r)
        cold = f"{r.cold_s:.1f}" if r.cold_s is not None else "-"
        rss = f"{r.rss_mb:.0f}" if r.rss_mb is not None else "-"
        print(
            f"| {r.name} | {' | '.join(f'{r.pps[b]:.2f}' for b in sizes)} | {d['query_ms_median']:.1f} "
            f"| {d['query_ms_p90']:.1f} | {d['cos_passages_min']:.4f} / {d['cos_passages_mean']:.4f} "
            f"| {d['cos_queries_min']:.4f} / {d['cos_queries_mean']:.4f} | {r.load_s:.1f} | {cold} | {rss} "
            f"| {r.disk_mb:.0f} |"
        )
    for r in results.values():
        if r.note:
            print(f"{r.name}: {r.note}")


if __name__ == "__main__":
    main()
