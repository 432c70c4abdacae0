"""The written rule that decides whether a trained candidate replaces the shipped model, judged on PublicTest only."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from monitor.core import CLASSES
from monitor.perception.model import ExpressionClassifier, with_class_bias
from training.augment import shrunk
from training.data import LabelledImages
from training.evaluate import Metrics, ensemble_predict, fit_class_bias, metrics

WHOLE = 48  # FER faces are 48x48: "whole" is the face as labelled


@dataclass(frozen=True)
class SelectionRule:
    """Written 2026-12-02, before any back-row candidate was measured; the shipped card quotes it."""

    views: tuple[str, ...] = ("full", "mirror", "centre90")
    small_faces: tuple[int, ...] = (32, 24)  # px: where the candidate must gain
    min_gain: float = 0.02  # FER+ accuracy it must gain at each small size
    max_loss: float = 0.005  # FER+ and consensus accuracy it may lose on whole faces

    @property
    def sizes(self) -> tuple[int, ...]:
        return (WHOLE, *self.small_faces)


@dataclass(frozen=True)
class PublicTest:
    """PublicTest's label sets of the same faces: FER+ majorities, FER2013's labels, and where the two agree."""

    ferplus: LabelledImages
    fer2013: LabelledImages
    consensus: LabelledImages


@dataclass(frozen=True)
class Scores:
    """One model's PublicTest metrics at one face size, with its class bias applied."""

    ferplus: Metrics
    consensus: Metrics


@dataclass(frozen=True)
class Check:
    what: str
    candidate: float
    incumbent: float
    needed: float  # the least candidate - incumbent that passes

    @property
    def passed(self) -> bool:
        return round(self.candidate - self.incumbent, 9) >= round(self.needed, 9)


@dataclass(frozen=True)
class Verdict:
    checks: tuple[Check, ...]
    candidate_bias: tuple[float, ...]

    @property
    def ships(self) -> bool:
        return all(check.passed for check in self.checks)


@dataclass(frozen=True)
class Probabilities:
    """One model's PublicTest probabilities over the rule's views, before any class bias."""

    ferplus: dict[int, np.ndarray]  # by face size
    consensus: dict[int, np.ndarray]
    fer2013: np.ndarray  # whole faces: where the class bias is fitted


def predicted(classifier: ExpressionClassifier, data: PublicTest, rule: SelectionRule) -> Probabilities:
    """The model's probabilities for every face set and size the rule reads (its views set to the rule's)."""
    classifier.card = replace(classifier.card, views=list(rule.views), class_bias=[0.0] * len(CLASSES))

    def at(faces: LabelledImages, size: int) -> np.ndarray:
        return ensemble_predict([classifier], faces.images if size == WHOLE else shrunk(faces.images, size))

    return Probabilities(
        ferplus={size: at(data.ferplus, size) for size in rule.sizes},
        consensus={size: at(data.consensus, size) for size in rule.sizes},
        fer2013=at(data.fer2013, WHOLE),
    )


def fitted_bias(probabilities: Probabilities, data: PublicTest) -> np.ndarray:
    """The class bias `engage evaluate --split val --fit-bias` chooses: whole faces, FER+ and FER2013 labels."""
    return fit_class_bias(
        {
            "ferplus": (probabilities.ferplus[WHOLE], data.ferplus.labels),
            "fer2013": (probabilities.fer2013, data.fer2013.labels),
        }
    )


def score(probabilities: Probabilities, data: PublicTest, bias: np.ndarray) -> dict[int, Scores]:
    """FER+ and consensus metrics at every size, with the class bias applied."""

    def scored(p: np.ndarray, faces: LabelledImages) -> Metrics:
        return metrics(faces.labels, with_class_bias(p, list(bias)).argmax(axis=1))

    return {
        size: Scores(scored(probabilities.ferplus[size], data.ferplus), scored(p, data.consensus))
        for size, p in probabilities.consensus.items()
    }


def judge(
    candidate: dict[int, Scores], incumbent: dict[int, Scores], rule: SelectionRule, candidate_bias: np.ndarray
) -> Verdict:
    """The rule's checks: a gain of `min_gain` FER+ accuracy at each small size, a loss of at most `max_loss` FER+
    and consensus accuracy on whole faces."""
    checks = [
        Check(
            f"FER+ accuracy at {size} px",
            candidate[size].ferplus.accuracy,
            incumbent[size].ferplus.accuracy,
            rule.min_gain,
        )
        for size in rule.small_faces
    ]
    checks += [
        Check(
            "FER+ accuracy on whole faces",
            candidate[WHOLE].ferplus.accuracy,
            incumbent[WHOLE].ferplus.accuracy,
            -rule.max_loss,
        ),
        Check(
            "consensus accuracy on whole faces",
            candidate[WHOLE].consensus.accuracy,
            incumbent[WHOLE].consensus.accuracy,
            -rule.max_loss,
        ),
    ]
    return Verdict(tuple(checks), tuple(round(float(b), 4) for b in candidate_bias))
