"""Hybrid retrieval: the z-score fusion, and that it beats each of its sides on real French questions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.conversation import standalone_question
from assistant.evaluation import source_rank
from assistant.lexical import top_rows
from assistant.models import Filters
from assistant.retrieval import fuse, zscores

PIAF = Path(__file__).resolve().parent.parent.parent / "shared" / "piaf-dev"


def test_zscores_standardise_and_flat_scores_give_zeros() -> None:
    z = zscores(np.array([1.0, 2.0, 3.0]))
    assert z.mean() == pytest.approx(0.0) and z.std() == pytest.approx(1.0)
    assert list(zscores(np.array([0.0, 0.0, 0.0]))) == [0.0, 0.0, 0.0]  # no BM25 term matched
    assert len(zscores(np.array([]))) == 0


def test_fuse_prefers_a_chunk_good_on_both_sides_and_weights_move_the_balance() -> None:
    dense = np.array([0.90, 0.80, 0.70])
    bm25 = np.array([1.0, 9.0, 8.5])
    fused = fuse(dense, bm25)
    assert int(np.argmax(fused)) == 1  # second on both sides beats first on one side only
    assert int(np.argmax(fuse(dense, bm25, dense_weight=1.0))) == 0
    assert int(np.argmax(fuse(dense, bm25, dense_weight=0.0))) == 1
    # no lexical signal: the dense order alone
    assert list(np.argsort(-fuse(dense, np.zeros(3)))) == [0, 1, 2]


def test_top_rows_orders_by_score_then_row_and_drops_zeros() -> None:
    scores = np.array([0.0, 2.0, 5.0, 2.0, 0.0], dtype=np.float32)
    assert top_rows(scores, 3) == [(2, 5.0), (1, 2.0), (3, 2.0)]
    assert top_rows(scores, 10) == [(2, 5.0), (1, 2.0), (3, 2.0)]
    assert top_rows(scores, 0) == []


def test_passages_carry_both_scores_and_filters_still_apply(corpus_assistant: Assistant) -> None:
    passages = corpus_assistant.retriever.retrieve("Combien d'assurés ont activé Mon Espace Santé ?", k=5)
    assert passages and all({"dense", "bm25"} <= set(p.scores) for p in passages)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    only = passages[-1].bulletin_id
    filtered = corpus_assistant.retriever.retrieve("Combien d'assurés ?", Filters(sources=(only,)), k=5)
    assert filtered and {p.bulletin_id for p in filtered} == {only}


@pytest.mark.skipif(not (PIAF / "gold.jsonl").exists(), reason=f"{PIAF} not found (PIAF dev set, beside the repo)")
def test_fusion_beats_bm25_alone_and_dense_alone_on_real_french_questions(
    tmp_path: Path, make_assistant: object
) -> None:
    """On 80 PIAF paragraphs written by others, the shipped weight ranks the expected paragraph
    first more often than either side alone (same retriever, dense weight 0 and 1)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = sorted((PIAF / "corpus").glob("*.txt"))[::5][:80]
    for f in files:
        shutil.copy(f, corpus / f.name)
    names = {f"corpus/{f.name}" for f in files}
    gold = [json.loads(line) for line in (PIAF / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    gold = [g for g in gold if g.get("source") in names and not g.get("history")]
    assert len(gold) >= 40

    a = make_assistant()  # type: ignore[operator]
    a.ingest([corpus])
    retriever = a.retriever

    def recall_at_1(weight: float) -> float:
        hits = 0
        for g in gold:
            found = retriever.model_copy(update={"dense_weight": weight}).retrieve(
                standalone_question(g["question"], []), k=30
            )
            hits += source_rank(found, g["source"]) == 1  # ids are "corpus/<file>", as in the gold
        return hits / len(gold)

    fused, bm25, dense = recall_at_1(retriever.dense_weight), recall_at_1(0.0), recall_at_1(1.0)
    assert fused >= bm25 and fused >= dense, (fused, bm25, dense)
    print(f"recall@1 fused {fused:.3f}, bm25 {bm25:.3f}, dense {dense:.3f} on {len(gold)} questions")
    assert fused >= 0.75, fused
