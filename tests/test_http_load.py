"""Bounded load test: 16 concurrent clients x 50 questions through a real ``assistant serve``.

Loopback only, finite by construction (800 requests, per-request timeout, overall
deadline). Zero errors are allowed, and every answer must equal the answer to the
same question asked sequentially (timings aside): concurrency must not change answers.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ROOT, load_gold
from .conftest_server import ApiServer, clean_env, store_copy

#: Fixtures (chroma_server, built_store) registered once for the session, shared by the modules using them.
pytest_plugins = ["tests.conftest_server"]

CLIENTS = 16
QUESTIONS_PER_CLIENT = 50
DEADLINE_S = 1200.0
ARTIFACT = ROOT / "tests" / "artifacts" / "http_load.json"


def _payload(item: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"question": item["question"]}
    if item.get("history"):
        body["history"] = item["history"]
    return body


def _key(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, ensure_ascii=False)


def _comparable(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


@pytest.mark.slow
def test_concurrent_clients_get_the_sequential_answers(
    built_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = clean_env(
        ASSISTANT_DATA_DIR=str(store_copy(built_store, tmp_path / "data")),
        ASSISTANT_CORPUS_DIR=str(tmp_path / "no-corpus"),
    )
    server = ApiServer(tmp_path / "serve.log", env)
    gold = [_payload(item) for item in load_gold()]
    plans = [[gold[(c * 7 + j) % len(gold)] for j in range(QUESTIONS_PER_CLIENT)] for c in range(CLIENTS)]
    distinct = {_key(b): b for plan in plans for b in plan}

    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            t0 = time.perf_counter()
            sequential: dict[str, dict[str, Any]] = {}
            for key, body in distinct.items():
                r = client.post("/ask", json=body)
                assert r.status_code == 200, r.text
                sequential[key] = _comparable(r.json())
            sequential_s = time.perf_counter() - t0

        deadline = time.monotonic() + DEADLINE_S
        start = threading.Barrier(CLIENTS)
        lock = threading.Lock()
        latencies: list[float] = []
        errors: list[str] = []
        mismatches: list[str] = []

        def run_client(plan: list[dict[str, Any]]) -> int:
            done = 0
            with httpx.Client(base_url=server.url, timeout=60) as client:
                start.wait(timeout=60)
                for body in plan:
                    if time.monotonic() > deadline:
                        with lock:
                            errors.append("deadline reached")
                        break
                    t = time.perf_counter()
                    try:
                        r = client.post("/ask", json=body)
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(f"{type(exc).__name__}: {exc}")
                        continue
                    elapsed = time.perf_counter() - t
                    with lock:
                        latencies.append(elapsed)
                        if r.status_code != 200:
                            errors.append(f"{r.status_code}: {r.text[:200]}")
                        elif _comparable(r.json()) != sequential[_key(body)]:
                            mismatches.append(body["question"])
                    done += 1
            return done

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            done = sum(pool.map(run_client, plans))
        wall = time.perf_counter() - t0
    finally:
        server.stop()

    total = CLIENTS * QUESTIONS_PER_CLIENT
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 20 else float("nan")
    result = {
        "clients": CLIENTS,
        "questions": total,
        "completed": done,
        "wall_s": round(wall, 2),
        "throughput_qps": round(done / wall, 2),
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(p95, 3),
        "max_s": round(max(latencies), 3) if latencies else None,
        "sequential_distinct": len(distinct),
        "sequential_qps": round(len(distinct) / sequential_s, 2),
        "errors": len(errors),
        "mismatches": len(mismatches),
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(result, indent=2), encoding="utf-8")
    with capsys.disabled():
        print(
            f"\nHTTP load: {done}/{total} questions from {CLIENTS} clients in {wall:.1f} s -> "
            f"{result['throughput_qps']} questions/s, p50 {result['p50_s']} s, p95 {result['p95_s']} s "
            f"(sequential: {result['sequential_qps']} questions/s)"
        )
    assert not errors, errors[:5]
    assert not mismatches, sorted(set(mismatches))[:5]
    assert done == total
