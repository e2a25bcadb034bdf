"""The reader's learned model, shipped as readable JSON (``reader_model.json`` beside this file).

Two logistic regressions, both plain coefficients:

* the **scorer** gives every candidate the probability that it answers the question, from its
  standardised features (:data:`assistant.reading.features.FEATURES`);
* the **calibrator** turns the chosen candidate's score, its margin over the best candidate
  with another value, and the number of candidates into the probability that the answer is
  right: the ``confidence`` of the answer contract. Below :attr:`ReaderModel.threshold` the
  reader abstains.

``assistant train-reader`` rebuilds the file deterministically (:mod:`assistant.reading.train`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from .features import FEATURES

MODEL_PATH = Path(__file__).resolve().parent / "reader_model.json"
#: Bumped when the file's layout changes.
FORMAT_VERSION = 1
#: Names of the calibrator's inputs, in order.
CALIBRATION_INPUTS = ("best_logit", "margin_logit", "log_candidates", "former_best")


@dataclass(frozen=True)
class ReaderModel:
    """Scorer and calibrator coefficients, the abstention threshold and where they came from."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration_coef: np.ndarray
    calibration_intercept: float
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise ModelError(f"Modèle du lecteur incohérent : {n} variables, {len(self.coef)} coefficients.")
        if len(self.calibration_coef) != len(CALIBRATION_INPUTS):
            raise ModelError("Modèle du lecteur incohérent : calibrateur de mauvaise taille.")

    # -- scoring -----------------------------------------------------------------
    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """Probability, for each row of features, that the candidate answers the question."""
        if matrix.shape[0] == 0:
            return np.zeros(0)
        z = ((matrix - self.mean) / self.scale) @ self.coef + self.intercept
        return _sigmoid(z)

    def confidence(self, best: float, runner_up: float | None, candidates: int, former_best: float | None) -> float:
        """Probability that answering with the candidate scored ``best`` is right."""
        x = calibration_inputs(best, runner_up, candidates, former_best)
        return float(_sigmoid(np.asarray(x) @ self.calibration_coef + self.calibration_intercept))

    # -- file --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "meta": self.meta,
            "threshold": _r(self.threshold),
            "scorer": {
                "intercept": _r(self.intercept),
                "features": [
                    {"name": n, "mean": _r(m), "scale": _r(s), "coef": _r(c)}
                    for n, m, s, c in zip(self.features, self.mean, self.scale, self.coef, strict=True)
                ],
            },
            "calibrator": {
                "intercept": _r(self.calibration_intercept),
                "inputs": {n: _r(c) for n, c in zip(CALIBRATION_INPUTS, self.calibration_coef, strict=True)},
            },
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1) + "\n"

    def matches(self, other: ReaderModel, *, tol: float = 1e-4) -> bool:
        """Same features, same training inputs, coefficients and threshold within ``tol``.

        What ``assistant train-reader --check`` and its test compare: the fit is deterministic, but
        the last digits of a solver's output may differ between BLAS builds.
        """
        mine, theirs = self.meta.get("trained_on", {}), other.meta.get("trained_on", {})
        return (
            self.features == other.features
            and mine.get("inputs_sha256") == theirs.get("inputs_sha256")
            and all(
                np.allclose(a, b, atol=tol, rtol=0)
                for a, b in (
                    (self.mean, other.mean),
                    (self.scale, other.scale),
                    (self.coef, other.coef),
                    (self.calibration_coef, other.calibration_coef),
                    ([self.intercept, self.calibration_intercept], [other.intercept, other.calibration_intercept]),
                )
            )
            and abs(self.threshold - other.threshold) <= 10 * tol
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReaderModel:
        try:
            if data["format_version"] != FORMAT_VERSION:
                raise ModelError(f"Format de modèle du lecteur {data['format_version']} inconnu.")
            rows = data["scorer"]["features"]
            cal = data["calibrator"]
            return cls(
                features=tuple(r["name"] for r in rows),
                mean=np.array([r["mean"] for r in rows], dtype=np.float64),
                scale=np.array([r["scale"] for r in rows], dtype=np.float64),
                coef=np.array([r["coef"] for r in rows], dtype=np.float64),
                intercept=float(data["scorer"]["intercept"]),
                calibration_coef=np.array([cal["inputs"][n] for n in CALIBRATION_INPUTS], dtype=np.float64),
                calibration_intercept=float(cal["intercept"]),
                threshold=float(data["threshold"]),
                meta=dict(data.get("meta") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"Modèle du lecteur illisible : {exc.__class__.__name__}: {exc}") from None

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ReaderModel:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"Modèle du lecteur illisible : {path} ({exc.__class__.__name__})",
                hint="Reconstruisez-le : assistant train-reader",
            ) from None
        model = cls.from_json(data)
        if model.features != FEATURES:
            raise ModelError(
                f"Le modèle du lecteur {path} ne correspond pas aux variables du code "
                f"({len(model.features)} dans le fichier, {len(FEATURES)} dans le code).",
                hint="Reconstruisez-le : assistant train-reader",
            )
        return model


@lru_cache(maxsize=1)
def default_model() -> ReaderModel:
    """The shipped model, read once per process."""
    return ReaderModel.load(MODEL_PATH)


def calibration_inputs(best: float, runner_up: float | None, candidates: int, former_best: float | None) -> list[float]:
    """What the calibrator sees: how sure the scorer is, by how much, among how many candidates, and
    the first reader's best score (-1 when its gates left it nothing)."""
    b = _logit(best)
    margin = b - _logit(runner_up) if runner_up is not None else 8.0
    return [b, min(margin, 8.0), math.log1p(candidates), former_best if former_best is not None else -1.0]


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(z: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


def _r(x: float) -> float:
    """Rounded for a stable, readable file (the training is deterministic to far more digits)."""
    return round(float(x), 8)
