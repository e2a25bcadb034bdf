"""``assistant train-reader``: rebuild the reader's model from the development data, deterministically.

Data (questions written by other people first):

* ``../shared/piaf-dev``: real French questions on real paragraphs (figure/date subset,
  ``gold.jsonl``), asked in open retrieval over all its paragraphs — and asked again with their
  own paragraph removed from the results (unanswerable unless another paragraph states the
  answer), and with their year changed to one their article never mentions (near misses);
* ``corpus/gold.jsonl`` on ``corpus/`` (computations excluded: the calculator asks its own
  sub-questions).

Every question goes through the retriever the product ships (a fresh temporary Chroma store
per corpus, the default embedding model); every figure of the retrieved passages is a
candidate, labelled right when it is the expected figure. Folds are grouped by article
(PIAF) or bulletin (corpus), so no article is both trained on and scored. Two logistic
regressions (scikit-learn, fixed solver, no randomness) are fitted: the scorer on candidates,
the calibrator on each question's chosen candidate (out-of-fold scores); the abstention
threshold maximises out-of-fold accuracy on a mix where a fifth of the questions have no
answer (:func:`choose_threshold`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..computation import plan
from ..conversation import standalone_question
from ..errors import AssistantError
from ..evaluation import GoldItem, load_gold
from ..models import Filters, Message
from ..questions import analyse
from ..settings import PROJECT_ROOT, Settings
from .features import FEATURES, Candidate, Sources, extract
from .model import CALIBRATION_INPUTS, MODEL_PATH, ReaderModel, calibration_inputs
from .reader import Reader, names_what_is_asked

if TYPE_CHECKING:
    from ..core import Assistant
    from ..embeddings import Embedder

#: Default location of the PIAF development half (beside the repository, as in CI).
PIAF_DIR = PROJECT_ROOT.parent / "shared" / "piaf-dev"
GOLD = PROJECT_ROOT / "corpus" / "gold.jsonl"
CORPUS = PROJECT_ROOT / "corpus"

#: The abstention threshold maximises out-of-fold accuracy on a mix where this share of questions has
#: no answer in the bulletins (a fifth: the real health texts of the review hold 12 in 92, staff
#: questions more). The issue's 90 % / 90 % point is reported beside it (see docs/reader.md).
UNANSWERABLE_SHARE = 0.2
#: Inverse regularisation of both regressions (chosen by grouped cross-validation on the dev data).
C_SCORER = 0.03
C_CALIBRATOR = 1.0
FOLDS = 5
#: Weight of a candidate of the project's own gold set against one of PIAF's: its bulletins are the
#: product's kind of text, and CI gates the reader on it.
GOLD_WEIGHT = 2.0
#: Seed of the near-miss generator (which absent year replaces the asked one).
SEED = 0


@dataclass
class Example:
    """One question as the reader sees it: its candidates, their features and which are right."""

    id: str
    group: str
    dataset: str  # "piaf", "piaf-without-paragraph", "piaf-near-miss", "gold"
    question: str
    answerable: bool
    candidates: list[Candidate]
    features: np.ndarray
    labels: np.ndarray


@dataclass
class Dataset:
    examples: list[Example] = field(default_factory=list)
    inputs_sha256: str = ""

    def weights(self) -> np.ndarray:
        """Training weight of every candidate (:data:`GOLD_WEIGHT` for the project's gold set)."""
        return np.concatenate(
            [np.full(len(e.candidates), GOLD_WEIGHT if e.dataset == "gold" else 1.0) for e in self.examples]
        )

    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(features, labels, question index, group index) of every candidate."""
        rows = [e.features for e in self.examples if len(e.candidates)]
        x = np.vstack(rows) if rows else np.zeros((0, len(FEATURES)))
        y = np.concatenate([e.labels for e in self.examples]) if self.examples else np.zeros(0, dtype=bool)
        q = np.concatenate([np.full(len(e.candidates), i) for i, e in enumerate(self.examples)])
        groups = {g: i for i, g in enumerate(sorted({e.group for e in self.examples}))}
        g = np.concatenate([np.full(len(e.candidates), groups[e.group]) for e in self.examples])
        return x, y.astype(bool), q.astype(int), g.astype(int)

    def data_sha256(self) -> str:
        """Digest of what the model is fitted on: rounded features, labels, question ids."""
        h = hashlib.sha256()
        for e in self.examples:
            h.update(f"{e.dataset}\x00{e.id}\x00{len(e.candidates)}\n".encode())
            h.update(np.round(e.features, 6).astype("<f8").tobytes())
            h.update(e.labels.astype("u1").tobytes())
        return h.hexdigest()


# -- labels --------------------------------------------------------------------------------------


def is_expected(item: GoldItem, cand: Candidate, *, any_source: bool = False) -> bool:
    """Is ``cand`` the expected figure (as :func:`assistant.evaluation.figure_correct` judges it)?

    From the expected bulletin: the accepted spelling, or the value. From another bulletin (when
    ``any_source``): only an accepted spelling of at least 4 characters, as a bare value ("2")
    would match figures that mean something else.
    """
    exp = item.expected or {}
    texts = set(exp.get("texts") or [])
    if item.source is not None and cand.passage.bulletin_id != item.source:
        return any_source and cand.figure.text in texts and len(cand.figure.text) >= 4
    if cand.figure.text in texts:
        return True
    value = exp.get("value")
    if item.category == "year" or value is None or cand.figure.value is None:
        return False  # a date is judged by its spelling (the gold value of "le 2 mai 1808" is 2)
    return math.isclose(cand.figure.value, float(value), rel_tol=1e-6)


# -- collecting candidates ------------------------------------------------------------------------


def _sources(a: Assistant) -> Sources:
    index = a.lexical.current()
    return Sources(idf=index.idf, known=index.knows, text_of=a._bulletin_text)


def _example(
    a: Assistant,
    item: GoldItem,
    *,
    dataset: str,
    group: str,
    question: str | None = None,
    drop_source: bool = False,
    answerable: bool | None = None,
    only_source: bool = False,
) -> Example | None:
    history = [Message.model_validate(h) for h in item.history]
    q = standalone_question(question or item.question, history)
    if plan(q) is not None:
        return None  # computations: the calculator asks its own sub-questions
    spec = analyse(q)
    k = a.settings.top_k
    if only_source and item.source:
        passages = a.retriever.retrieve(q, Filters(sources=(item.source,)), k)
    else:
        passages = a.retriever.retrieve(q, None, k + 8 if drop_source else k)
        if drop_source:
            passages = [p for p in passages if p.bulletin_id != item.source][:k]
            passages = [dataclasses.replace(p, rank=i) for i, p in enumerate(passages, start=1)]
    cands, x = extract(spec, passages, _sources(a))
    if answerable is None:
        answerable = item.answerable
    labels = np.array([answerable and is_expected(item, c, any_source=drop_source) for c in cands], dtype=bool)
    if drop_source:
        answerable = bool(labels.any())  # another paragraph states the answer: still answerable
    return Example(
        id=item.id + ("/sans-paragraphe" if drop_source else ""),
        group=group,
        dataset=dataset,
        question=q,
        answerable=answerable,
        candidates=cands,
        features=x,
        labels=labels,
    )


_YEAR = re.compile(r"\b(1\d{3}|20\d\d)\b")


def near_miss(item: GoldItem, article_text: str, rng: random.Random) -> GoldItem | None:
    """The question with its year replaced by one its article never mentions (or None if it names no year)."""
    m = _YEAR.search(item.question)
    if m is None:
        return None
    used = {int(y) for y in _YEAR.findall(article_text)}
    year = int(m.group(1))
    choices = [y for y in range(year - 40, year + 41) if y not in used and abs(y - year) >= 3 and y <= 2030]
    if not choices:
        return None
    new = rng.choice(choices)
    question = item.question[: m.start()] + str(new) + item.question[m.end() :]
    return dataclasses.replace(item, id=f"{item.id}/annee-{new}", question=question, answerable=False, expected=None)


def _piaf_group(source: str | None) -> str:
    """Article of a PIAF paragraph ("corpus/piaf-012-03.txt" -> "piaf-012")."""
    name = Path(source or "").stem
    return "piaf-" + name.split("-")[1] if name.startswith("piaf-") else name


def collect_piaf(a: Assistant, piaf_dir: Path, *, progress: Callable[[str], None] | None = None) -> list[Example]:
    items = load_gold(piaf_dir / "gold.jsonl")
    texts: dict[str, str] = {}
    for p in sorted((piaf_dir / "corpus").glob("*.txt")):
        texts.setdefault(_piaf_group(f"corpus/{p.name}"), "")
        texts[_piaf_group(f"corpus/{p.name}")] += p.read_text(encoding="utf-8") + "\n"
    rng = random.Random(SEED)
    out: list[Example] = []
    for n, item in enumerate(items, start=1):
        group = _piaf_group(item.source)
        for ex in (
            _example(a, item, dataset="piaf", group=group),
            _example(a, item, dataset="piaf-without-paragraph", group=group, drop_source=True),
        ):
            if ex is not None:
                out.append(ex)
        miss = near_miss(item, texts.get(group, ""), rng)
        if miss is not None:
            ex = _example(a, miss, dataset="piaf-near-miss", group=group, answerable=False)
            if ex is not None:
                out.append(ex)
        if progress and n % 50 == 0:
            progress(f"piaf {n}/{len(items)}")
    return out


def collect_gold(a: Assistant, gold: Path) -> list[Example]:
    out: list[Example] = []
    for item in load_gold(gold):
        group = f"gold:{item.source}" if item.source else f"gold:{item.id}"
        ex = _example(a, item, dataset="gold", group=group)
        if ex is not None:
            out.append(ex)
    return out


def reader_only(a: Assistant, piaf_dir: Path) -> list[Example]:
    """PIAF questions with retrieval restricted to their own paragraph: reading errors alone."""
    out = []
    for item in load_gold(piaf_dir / "gold.jsonl"):
        ex = _example(a, item, dataset="piaf-reader-only", group=_piaf_group(item.source), only_source=True)
        if ex is not None:
            out.append(ex)
    return out


def inputs_digest(paths: Sequence[Path]) -> str:
    """SHA-256 over the development files (gold sets and corpora), in a fixed order."""
    h = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            h.update(f.name.encode() + b"\x00")
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


# -- fitting -------------------------------------------------------------------------------------


def _fit_scorer(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, coef, intercept) of a standardised, weighted L2 logistic regression."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=C_SCORER, max_iter=5000, solver="lbfgs")
    lr.fit((x - mean) / scale, y, sample_weight=w)
    return mean, scale, lr.coef_[0].copy(), float(lr.intercept_[0])


def _scorer_probs(params: tuple[np.ndarray, np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    mean, scale, coef, intercept = params
    return 1.0 / (1.0 + np.exp(-np.clip(((x - mean) / scale) @ coef + intercept, -40, 40)))


def _fold_of(groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Fold of every group: groups sorted by size, dealt round-robin (deterministic, balanced)."""
    sizes = np.bincount(groups, minlength=n_groups)
    order = sorted(range(n_groups), key=lambda g: (-sizes[g], g))
    fold = np.zeros(n_groups, dtype=int)
    for i, g in enumerate(order):
        fold[g] = i % FOLDS
    return fold


@dataclass
class Decision:
    """What the reader does with one question, given candidate scores."""

    example: Example
    chosen: int | None  # index into example.candidates
    inputs: list[float]  # calibrator inputs
    right: bool  # the chosen candidate is right (False when none)
    confidence: float = 0.0
    forced: bool = False  # the first reader was sure: answered whatever the confidence
    eligible: bool = True  # the learned choice names what is asked (see reader.names_what_is_asked)

    def answered(self, threshold: float) -> bool:
        return self.chosen is not None and (self.forced or (self.eligible and self.confidence >= threshold))

    def outcome(self, threshold: float) -> str:
        if not self.answered(threshold):
            return "right" if not self.example.answerable else "abstained"
        return "right" if self.right else "wrong"


def decide(example: Example, probs: np.ndarray, reader: Reader) -> Decision:
    """Rank with ``probs`` and decide as the shipped reader does (cascade and latest rule included).

    ``Decision.confidence`` is filled by the caller (calibrated out of fold); a question the first
    reader answers is answered whatever the threshold (``Decision.forced``).
    """
    ranked = sorted(
        (dataclasses.replace(c, score=float(p)) for c, p in zip(example.candidates, probs, strict=True)),
        key=lambda c: -c.score,
    )
    spec = analyse(example.question)
    forced = reader.former_choice(spec, ranked) is not None
    best, _, _ = reader.decide(spec, ranked)
    if best is None:
        return Decision(example, None, calibration_inputs(0.0, None, 0, None), False)
    chosen = next(i for i, c in enumerate(example.candidates) if c.figure == best.figure and c.passage == best.passage)
    inputs = calibration_inputs(*reader.evidence(best, ranked))
    eligible = forced or names_what_is_asked(best)
    return Decision(example, chosen, inputs, bool(example.labels[chosen]), forced=forced, eligible=eligible)


def _fit_calibrator(decisions: Sequence[Decision]) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.array([d.inputs for d in decisions])
    y = np.array([d.right for d in decisions])
    if y.all() or not y.any():
        return np.zeros(len(CALIBRATION_INPUTS)), (8.0 if y.all() else -8.0)
    lr = LogisticRegression(C=C_CALIBRATOR, max_iter=5000, solver="lbfgs")
    lr.fit(x, y)
    return lr.coef_[0].copy(), float(lr.intercept_[0])


def _calibrated(coef: np.ndarray, intercept: float, inputs: Sequence[float]) -> float:
    return float(1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, float(np.dot(coef, inputs)) + intercept)))))


def threshold_table(decisions: Sequence[Decision]) -> list[dict[str, float]]:
    """For every candidate threshold: answered share, precision of answers, abstention on unanswerables,
    accuracy on answerable questions and the goal's weighted accuracy (out-of-fold)."""
    answerable = [d for d in decisions if d.example.answerable]
    unanswerable = [d for d in decisions if not d.example.answerable]
    rows = []
    for t in sorted({round(d.confidence, 4) for d in decisions} | {0.0, 0.5, 1.0}):
        answered = [d for d in decisions if d.answered(t)]
        right = sum(d.right for d in answered)
        acc_ans = sum(d.right and d.answered(t) for d in answerable) / (len(answerable) or 1)
        abst = sum(1 for d in unanswerable if not d.answered(t)) / (len(unanswerable) or 1)
        rows.append(
            {
                "threshold": t,
                "answered": len(answered) / (len(decisions) or 1),
                "precision": right / len(answered) if answered else 1.0,
                "unanswerable_abstained": abst,
                "answerable_accuracy": acc_ans,
                "goal": (1 - UNANSWERABLE_SHARE) * acc_ans + UNANSWERABLE_SHARE * abst,
            }
        )
    return rows


def choose_threshold(decisions: Sequence[Decision]) -> float:
    """The confidence below which the reader abstains: the best out-of-fold accuracy on a mix where
    unanswerable questions make up :data:`UNANSWERABLE_SHARE` (ties: the higher threshold)."""
    rows = threshold_table(decisions)
    best = max(rows, key=lambda r: (round(r["goal"], 6), r["threshold"]))
    return float(best["threshold"])


@dataclass
class CrossValidation:
    decisions: list[Decision]
    threshold: float

    def score(self, dataset: str, threshold: float | None = None) -> dict[str, float]:
        t = self.threshold if threshold is None else threshold
        ds = [d for d in self.decisions if d.example.dataset == dataset]
        n = len(ds) or 1
        outcomes = [d.outcome(t) for d in ds]
        answerable = [d for d in ds if d.example.answerable]
        return {
            "questions": len(ds),
            "accuracy": sum(o == "right" for o in outcomes) / n,
            "abstained": sum(o == "abstained" for o in outcomes) / n,
            "wrong": sum(o == "wrong" for o in outcomes) / n,
            "top1_if_answering": sum(d.right for d in answerable) / (len(answerable) or 1),
            "unanswerable_abstained": _abstained_share(ds, t),
        }


def _abstained_share(ds: Sequence[Decision], t: float) -> float:
    un = [d for d in ds if not d.example.answerable]
    if not un:
        return float("nan")
    return sum(1 for d in un if not d.answered(t)) / len(un)


def cross_validate(data: Dataset, reader: Reader, *, columns: Sequence[int] | None = None) -> CrossValidation:
    """Grouped k-fold: out-of-fold scores, decisions, calibrated confidences and the threshold."""
    x, y, q, g = data.matrix()
    w = data.weights()
    if columns is not None:
        x = x[:, columns]
    fold_of = _fold_of(g, int(g.max()) + 1 if len(g) else 0)
    folds = fold_of[g]
    probs = np.zeros(len(y))
    for f in range(FOLDS):
        train, test = folds != f, folds == f
        if test.any():
            probs[test] = _scorer_probs(_fit_scorer(x[train], y[train], w[train]), x[test])
    decisions = []
    for i, e in enumerate(data.examples):
        decisions.append(decide(e, probs[q == i], reader))
    # Calibrator: also out-of-fold, on the same folds (a question's fold is its group's).
    qfold = np.array([fold_of[g[q == i][0]] if (q == i).any() else 0 for i in range(len(data.examples))])
    for f in range(FOLDS):
        train = [d for d, qf in zip(decisions, qfold, strict=True) if qf != f]
        coef, intercept = _fit_calibrator(train)
        for d, qf in zip(decisions, qfold, strict=True):
            if qf == f:
                d.confidence = _calibrated(coef, intercept, d.inputs) if d.chosen is not None else 0.0
    return CrossValidation(decisions, choose_threshold(decisions))


def fit(data: Dataset, cv: CrossValidation, meta: dict[str, Any]) -> ReaderModel:
    """The final model: scorer on every candidate, calibrator on the out-of-fold decisions."""
    x, y, _, _ = data.matrix()
    mean, scale, coef, intercept = _fit_scorer(x, y, data.weights())
    # The calibrator is fitted on the out-of-fold decisions: the scores it will see are of unseen questions.
    cal_coef, cal_intercept = _fit_calibrator(cv.decisions)
    return ReaderModel(
        features=FEATURES,
        mean=mean,
        scale=scale,
        coef=coef,
        intercept=intercept,
        calibration_coef=cal_coef,
        calibration_intercept=cal_intercept,
        threshold=cv.threshold,
        meta=meta,
    )


# -- the command ---------------------------------------------------------------------------------


@dataclass
class TrainResult:
    model: ReaderModel
    cv: CrossValidation
    reader_only: CrossValidation | None
    data: Dataset
    report: dict[str, Any]


def _assistant(settings: Settings, embedder: Embedder | None, folder: Path, corpus: Path) -> Assistant:
    from ..core import Assistant

    fresh = dataclasses.replace(settings, data_dir=folder, chroma_url=None)
    a = Assistant(settings=fresh, embedder=embedder, auto_ingest=False)
    a.ingest([corpus])
    a.retriever.exact = True  # the same candidates on every run (see HybridRetriever.exact)
    return a


def train(
    *,
    piaf_dir: Path = PIAF_DIR,
    gold: Path = GOLD,
    corpus: Path = CORPUS,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    assistants: tuple[Assistant, Assistant] | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainResult:
    """Collect the development data, cross-validate, fit; nothing is written (see :func:`write`)."""
    if not (piaf_dir / "gold.jsonl").is_file():
        raise AssistantError(
            f"Données PIAF introuvables : {piaf_dir}",
            hint="Donnez le dossier piaf-dev (--piaf), qui contient gold.jsonl et corpus/.",
        )
    settings = settings or Settings.from_env()
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="assistant-train-") as tmp:
        owned = assistants is None
        if assistants is None:
            say("indexation de piaf-dev et du corpus…")
            piaf_a = _assistant(settings, embedder, Path(tmp) / "piaf", piaf_dir / "corpus")
            gold_a = _assistant(settings, piaf_a.embedder, Path(tmp) / "gold", corpus)
        else:
            piaf_a, gold_a = assistants
        try:
            reader = Reader(model=_neutral_model())
            data = Dataset(inputs_sha256=inputs_digest([piaf_dir / "gold.jsonl", piaf_dir / "corpus", gold, corpus]))
            data.examples += collect_piaf(piaf_a, piaf_dir, progress=say)
            data.examples += collect_gold(gold_a, gold)
            say("validation croisée…")
            cv = cross_validate(data, reader)
            ro = Dataset(examples=reader_only(piaf_a, piaf_dir))
            ro_cv = _score_with(ro, data, reader, cv)
        finally:
            if owned:
                piaf_a.close()
                gold_a.close()
    meta = {
        "trained_on": {
            "inputs_sha256": data.inputs_sha256,
            "data_sha256": data.data_sha256(),
            "questions": {ds: sum(e.dataset == ds for e in data.examples) for ds in _datasets(data)},
            "candidates": int(sum(len(e.candidates) for e in data.examples)),
            "embedding_model": piaf_a.embedder.model_name,
            "top_k": settings.top_k,
        },
        "solver": {
            "scorer_C": C_SCORER,
            "calibrator_C": C_CALIBRATOR,
            "gold_weight": GOLD_WEIGHT,
            "folds": FOLDS,
            "grouped_by": "article",
        },
        "threshold_goal": {"unanswerable_share": UNANSWERABLE_SHARE},
        "cross_validated": {ds: _rounded(cv.score(ds)) for ds in _datasets(data)},
    }
    if ro_cv is not None:
        meta["cross_validated"]["piaf-reader-only"] = _rounded(ro_cv.score("piaf-reader-only"))
    model = fit(data, cv, meta)
    return TrainResult(model=model, cv=cv, reader_only=ro_cv, data=data, report=meta)


def _score_with(extra: Dataset, data: Dataset, reader: Reader, cv: CrossValidation) -> CrossValidation | None:
    """Out-of-fold decisions on ``extra`` (reader-only questions), with the folds and threshold of ``cv``."""
    if not extra.examples:
        return None
    x, y, q, g = data.matrix()
    groups = sorted({e.group for e in data.examples})
    fold_of = _fold_of(g, len(groups))
    gfold = {name: fold_of[i] for i, name in enumerate(groups)}
    decisions: list[Decision] = []
    params = {}
    w = data.weights()
    for f in range(FOLDS):
        train = fold_of[g] != f
        params[f] = _fit_scorer(x[train], y[train], w[train])
    cal = {}
    qfold = np.array([fold_of[g[q == i][0]] if (q == i).any() else 0 for i in range(len(data.examples))])
    for f in range(FOLDS):
        cal[f] = _fit_calibrator([d for d, qf in zip(cv.decisions, qfold, strict=True) if qf != f])
    for e in extra.examples:
        f = gfold.get(e.group, 0)
        probs = _scorer_probs(params[f], e.features) if len(e.candidates) else np.zeros(0)
        d = decide(e, probs, reader)
        d.confidence = _calibrated(*cal[f], d.inputs) if d.chosen is not None else 0.0
        decisions.append(d)
    return CrossValidation(decisions, cv.threshold)


def _neutral_model() -> ReaderModel:
    """A placeholder model for :class:`Reader`'s pick logic during training (scores come from the folds)."""
    n = len(FEATURES)
    return ReaderModel(
        features=FEATURES,
        mean=np.zeros(n),
        scale=np.ones(n),
        coef=np.zeros(n),
        intercept=0.0,
        calibration_coef=np.zeros(len(CALIBRATION_INPUTS)),
        calibration_intercept=0.0,
        threshold=0.5,
    )


def _datasets(data: Dataset) -> list[str]:
    return sorted({e.dataset for e in data.examples})


def _rounded(d: dict[str, float]) -> dict[str, float | None]:
    """Rounded for the model file; NaN (no such question in the set) as null, which JSON has."""
    return {k: (None if math.isnan(v) else round(v, 4)) if isinstance(v, float) else v for k, v in d.items()}


def is_current(model: ReaderModel, path: Path = MODEL_PATH) -> bool:
    """Is the model file at ``path`` what ``model`` (just rebuilt) is, up to solver noise?"""
    return path.is_file() and ReaderModel.load(path).matches(model)


def write(model: ReaderModel, path: Path = MODEL_PATH) -> Path:
    path.write_text(model.dumps(), encoding="utf-8")
    return path


def summary(result: TrainResult) -> str:
    """The cross-validated figures, one line per data set."""
    lines = [f"Seuil d'abstention (confiance) : {result.model.threshold:.3f}"]
    for name, s in result.report["cross_validated"].items():
        lines.append(
            f"{name:24} {s['questions']:4d} q  exactitude {_pct(s['accuracy'])}  abstention {_pct(s['abstained'])}  "
            f"faux {_pct(s['wrong'])}  top-1 {_pct(s['top1_if_answering'])}  "
            f"sans réponse abstenues {_pct(s['unanswerable_abstained'])}"
        )
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


__all__ = ["Dataset", "Example", "TrainResult", "cross_validate", "is_current", "summary", "train", "write"]
