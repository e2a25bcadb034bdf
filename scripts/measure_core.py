"""Core figures for the closing note of issue 2: cold start, re-ingest, warm latency.

Run: .venv/bin/python scripts/measure_core.py   (uses temporary stores; prints one JSON object)
Ingest throughput next to raw encode, and latency at scale, are measured by `assistant bench`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.evaluation import load_gold  # noqa: E402
from assistant.settings import Settings  # noqa: E402

QUESTION = "Combien d'assurés ont activé Mon Espace Santé ?"


def cold_start(store: Path) -> float:
    """Seconds from launching `assistant ask` to its answer (new process: imports, model, store)."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(store)}
    t0 = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/assistant"), "ask", QUESTION], env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="measure-"))
    out: dict[str, float] = {}
    out["cold_start_empty_store_s"] = cold_start(tmp / "a")  # includes ingesting corpus/ on first use
    out["cold_start_existing_store_s"] = cold_start(tmp / "a")
    a = Assistant(settings=Settings.from_env(env={}, data_dir=tmp / "a"), auto_ingest=False)
    t0 = time.perf_counter()
    report = a.ingest([ROOT / "corpus"])
    out["reingest_unchanged_s"] = time.perf_counter() - t0
    out["reingest_chunks_embedded"] = report.chunks_embedded
    questions = [g.question for g in load_gold(ROOT / "corpus" / "gold.jsonl") if not g.history]
    a.ask(QUESTION)  # warm
    lat = []
    for q in questions:
        t = time.perf_counter()
        a.ask(q)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    out["warm_ask_p50_ms"] = statistics.median(lat)
    out["warm_ask_p95_ms"] = lat[int(0.95 * (len(lat) - 1))]
    out["questions"] = len(lat)
    print(json.dumps({k: round(v, 3) for k, v in out.items()}, indent=2))


if __name__ == "__main__":
    main()
