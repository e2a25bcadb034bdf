"""The learned reader: its shipped model file, its rebuild, and what it reads on text nobody here wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.errors import ModelError
from assistant.reading.features import FEATURES
from assistant.reading.model import CALIBRATION_INPUTS, MODEL_PATH, ReaderModel, default_model

PIAF = Path(__file__).resolve().parent.parent.parent / "shared" / "piaf-dev"
needs_piaf = pytest.mark.skipif(not (PIAF / "gold.jsonl").exists(), reason=f"{PIAF} not found (PIAF dev set)")


def test_the_shipped_model_and_the_code_agree_on_the_features() -> None:
    model = default_model()
    assert model.features == FEATURES and len(set(FEATURES)) == len(FEATURES)
    assert len(model.coef) == len(model.mean) == len(model.scale) == len(FEATURES)
    assert len(model.calibration_coef) == len(CALIBRATION_INPUTS)
    assert 0.0 < model.threshold < 1.0
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    trained = data["meta"]["trained_on"]
    assert len(trained["inputs_sha256"]) == 64 and len(trained["data_sha256"]) == 64
    assert data["meta"]["cross_validated"]["piaf"]["questions"] > 250


def test_a_model_file_out_of_step_with_the_code_is_refused(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["scorer"]["features"] = data["scorer"]["features"][:-1]
    bad = tmp_path / "reader_model.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="assistant train-reader"):
        ReaderModel.load(bad)
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(ModelError, match="illisible"):
        ReaderModel.load(tmp_path / "broken.json")


def test_model_comparison_tolerates_solver_noise_only() -> None:
    model = default_model()
    noisy = ReaderModel(**{**model.__dict__, "coef": model.coef + 1e-6})
    assert model.matches(noisy)
    assert not model.matches(ReaderModel(**{**model.__dict__, "coef": model.coef + 1e-2}))
    assert not model.matches(ReaderModel(**{**model.__dict__, "threshold": model.threshold + 0.05}))


def test_scores_and_confidence_are_probabilities() -> None:
    model = default_model()
    x = np.random.default_rng(0).normal(size=(5, len(FEATURES))) * model.scale + model.mean
    p = model.scores(x)
    assert p.shape == (5,) and ((p > 0) & (p < 1)).all()
    assert 0.0 < model.confidence(0.9, 0.1, 10, 0.6) < 1.0
    assert model.confidence(0.95, 0.01, 5, 1.0) > model.confidence(0.3, 0.29, 60, -1.0)


@needs_piaf
def test_the_shipped_model_is_what_train_reader_rebuilds() -> None:
    """`assistant train-reader` on the dev data gives the shipped file (deterministic, ~2 min)."""
    from assistant.reading import train

    result = train.train(piaf_dir=PIAF)
    shipped = ReaderModel.load(MODEL_PATH)
    assert shipped.matches(result.model), "reader_model.json is stale: run `assistant train-reader`"
    assert result.report["cross_validated"] == shipped.meta["cross_validated"]


@needs_piaf
def test_plain_sentences_of_real_french_text_are_read(tmp_path: Path, make_assistant: object) -> None:
    """The issue's examples, on which the old reader abstained although the sentence is plain.

    Two are read today (1610, 7 000); « 167 blessés » (the asked date two sentences before) and
    « la date de l'inauguration » (nothing but « date » to go on) still abstain (docs/reader.md).
    """
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for article in ("piaf-011-", "piaf-048-", "piaf-098-", "piaf-158-"):
        for f in (PIAF / "corpus").glob(f"{article}*.txt"):
            shutil.copy(f, corpus / f.name)
    a: Assistant = make_assistant()  # type: ignore[operator]
    a.ingest([corpus])
    cases = {
        "En quelle année Poutrincourt revient-il s'établir à Port-Royal ?": ("1610", "corpus/piaf-048-16.txt"),
        "Quelle est la date de l’inauguration ?": ("11 octobre 1854", "corpus/piaf-158-03.txt"),
        "Combien de catholiques quittent Armagh ?": ("7 000", "corpus/piaf-011-01.txt"),
        "Combien de blessés y a t’il eu lors du drame du 15 juin 1930": ("167", "corpus/piaf-098-02.txt"),
    }
    read = {}
    for question in cases:
        answer = a.ask(question)
        read[question] = (
            answer.figures[0].text if answer.figures else None,
            answer.citations[0].source if answer.citations else None,
        )
        assert 0.0 <= answer.confidence <= 1.0
    right = sum(read[q][0] is not None and text in read[q][0] and read[q][1] == src for q, (text, src) in cases.items())
    assert right >= 2, read


def test_token_index_answers_like_token_match() -> None:
    """The reader looks terms up in an indexed token set; it must agree with the pairwise rule."""
    import random

    from assistant.lexical import TokenIndex, token_match, tokenize

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    vocab = sorted({t for f in sorted(corpus.glob("*.*")) for t in tokenize(f.read_text(encoding="utf-8"))})
    rng = random.Random(0)
    for _ in range(500):
        tokens = rng.sample(vocab, rng.randint(1, 150))
        index = TokenIndex(tokens)
        probes = rng.sample(vocab, 20) + [t[:4] for t in tokens[:3]] + [t[:5] + "x" for t in tokens[:3]]
        for q in probes:
            assert index.holds(q) == token_match(q, tokens), (q, tokens)
