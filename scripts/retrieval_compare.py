"""Retrievers side by side on a gold set: recall@1/3/5/10 of the expected bulletin among the first k distinct ones.

Compares, on the same chunks: BM25 alone, dense alone, reciprocal rank fusion (k = 60, the
former fusion) and the shipped z-score fusion (:func:`assistant.retrieval.fuse`, several dense
weights), for one embedding model and chunk size. Each side proposes its best ``--depth``
chunks, as in :class:`assistant.retrieval.HybridRetriever`; the shipped retriever returns 12
chunks, the recall here is over as many as needed to reach 10 distinct bulletins.

    .venv/bin/python scripts/retrieval_compare.py ../shared/piaf-dev/corpus ../shared/piaf-dev/gold.jsonl
    .venv/bin/python scripts/retrieval_compare.py corpus corpus/gold.jsonl --model bundled:all-MiniLM-L6-v2 --chunk 160
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.chunking import chunk_bulletin, embed_text  # noqa: E402
from assistant.conversation import standalone_question  # noqa: E402
from assistant.embeddings import Embedder  # noqa: E402
from assistant.lexical import LexicalIndex, top_rows  # noqa: E402
from assistant.loading import discover, iter_bulletins  # noqa: E402
from assistant.models import Bulletin, Message  # noqa: E402
from assistant.retrieval import DEPTH, fuse  # noqa: E402
from assistant.settings import E5_MODEL  # noqa: E402

KS = (1, 3, 5, 10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("gold", type=Path)
    ap.add_argument("--model", default=E5_MODEL)
    ap.add_argument("--chunk", type=int, default=128, help="chunk budget in model tokens")
    ap.add_argument("--depth", type=int, default=DEPTH)
    args = ap.parse_args()

    emb = Embedder(args.model)
    files, _ = discover([args.corpus])
    bulletins = [b for b in iter_bulletins(files, max_bytes=10**8) if isinstance(b, Bulletin)]
    chunks = [(b, c) for b in bulletins for c in chunk_bulletin(b, emb, target_tokens=args.chunk)]
    gold = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [g for g in gold if g.get("source") and g.get("answerable", True)]
    questions = [
        standalone_question(g["question"], [Message.model_validate(h) for h in g.get("history") or []]) for g in gold
    ]
    t0 = time.perf_counter()
    vectors = emb.encode([embed_text(b.title, c.text) for b, c in chunks])
    queries = np.stack([emb.encode_query(q) for q in questions])
    print(f"{args.model}, chunks of {args.chunk} tokens: {len(chunks)} chunks, {len(gold)} questions "
          f"(embedded in {time.perf_counter() - t0:.0f} s)")  # fmt: skip

    index = LexicalIndex.build((c.id, c.text, {"title": b.title}) for b, c in chunks)
    bulletin_of = [b.id for b, _ in chunks]
    dense_all = queries @ vectors.T

    def bulletins(rows: list[int]) -> list[str]:
        return list(dict.fromkeys(bulletin_of[r] for r in rows))

    def recall(rank: list[list[str]]) -> str:
        hits = {k: np.mean([g["source"] in r[:k] for g, r in zip(gold, rank, strict=True)]) for k in KS}
        return "  ".join(f"@{k} {v:.3f}" for k, v in hits.items())

    rankings: dict[str, list[list[str]]] = {"bm25": [], "dense": [], "rrf k=60": []}
    weights = (0.4, 0.5, 0.6, 0.7)
    for w in weights:
        rankings[f"z-fusion w={w}"] = []
    for i, q in enumerate(questions):
        bm25 = index.scores(q)
        dense = dense_all[i]
        lex = [r for r, _ in top_rows(bm25, len(chunks))]
        den = list(np.argsort(-dense, kind="stable"))
        rankings["bm25"].append(bulletins(lex))
        rankings["dense"].append(bulletins(den))
        rrf: dict[int, float] = {}
        for side in (den[: args.depth], lex[: args.depth]):
            for r, row in enumerate(side):
                rrf[row] = rrf.get(row, 0.0) + 1.0 / (60 + r + 1)
        rankings["rrf k=60"].append(bulletins(sorted(rrf, key=lambda row: -rrf[row])))
        cand = list(dict.fromkeys([*den[: args.depth], *lex[: args.depth]]))
        for w in weights:
            fused = fuse(dense[cand].astype(np.float64), bm25[cand].astype(np.float64), w)
            rankings[f"z-fusion w={w}"].append(bulletins([cand[j] for j in np.argsort(-fused, kind="stable")]))
    for name, rank in rankings.items():
        print(f"  {name:16} {recall(rank)}")


if __name__ == "__main__":
    main()
