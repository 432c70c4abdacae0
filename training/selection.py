"""The written rule that decides whether a trained candidate replaces the shipped model, judged on PublicTest only."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from monitor.core import CLASSES
from monitor.perception.model import ExpressionClassifier, ModelCard, with_class_bias
from training.augment import shrunk
from training.data import LabelledImages
from training.evaluate import Metrics, ensemble_predict, fit_class_bias, metrics

WHOLE = 48  # FER faces are 48x48: "whole" is the face as labelled


@dataclass(frozen=True)
class SelectionRule:
    """A rule written before the candidates it judges were measured; the shipped card quotes the one that chose it."""

    written: str
    small_faces: tuple[tuple[int, float], ...]  # (px, FER+ accuracy the candidate must gain there; < 0: may lose)
    smallest_recall: tuple[tuple[int, float], ...] = ()  # (px, the smallest FER+ class recall it must gain there)
    max_loss: float = 0.005  # FER+ and consensus accuracy it may lose on whole faces
    no_more_networks: bool = False  # it runs no more networks on a face than the incumbent (no higher cost)
    views: tuple[str, ...] = ("full", "mirror", "centre90")

    @property
    def sizes(self) -> tuple[int, ...]:
        return (WHOLE, *(size for size, _ in self.small_faces))


RULES = {
    "back-row": SelectionRule(
        "2026-12-02, before any back-row candidate was measured: +2 points at 32 and at 24 px",
        small_faces=((32, 0.02), (24, 0.02)),
    ),
    "by-size": SelectionRule(
        "2026-12-07 23:30 UTC, after the first small-face network's figures and before the second's: +1 point at "
        "24 px, at most 0.5 lost at 32 px, no more networks a face",
        small_faces=((32, -0.005), (24, 0.01)),
        no_more_networks=True,
    ),
    "small-face-recall": SelectionRule(
        "2026-12-08 02:40 UTC, after the size-weighed model shipped and before the next small-face network was "
        "trained: the smallest class recall at 24 px +1.5 points, at most 0.5 accuracy lost at 24 px, 32 px and on "
        "whole faces, no more networks a face",
        small_faces=((32, -0.005), (24, -0.005)),
        smallest_recall=((24, 0.015),),
        no_more_networks=True,
    ),
}


def networks(card: ModelCard) -> int:
    """The most networks the model runs on one face: the members its size weighs, all its members, or itself."""
    weighing = card.weighing()
    return weighing.networks if weighing else max(len(card.training.get("members", [])), 1)


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


def smallest_recall(result: Metrics) -> float:
    return min(scores["recall"] for scores in result.per_class.values())


def judge(
    candidate: dict[int, Scores],
    incumbent: dict[int, Scores],
    rule: SelectionRule,
    candidate_bias: np.ndarray,
    cost: tuple[int, int] = (1, 1),
) -> Verdict:
    """The rule's checks: FER+ accuracy at each small size gained by the rule's margin (and where the rule says, the
    smallest FER+ class recall there), at most `max_loss` FER+ and
    consensus accuracy lost on whole faces, and where the rule asks, no more networks (`cost`: the candidate's and
    the incumbent's) a face."""
    checks = [
        Check(f"FER+ accuracy at {size} px", candidate[size].ferplus.accuracy, incumbent[size].ferplus.accuracy, gain)
        for size, gain in rule.small_faces
    ]
    checks += [
        Check(
            f"smallest FER+ class recall at {size} px",
            smallest_recall(candidate[size].ferplus),
            smallest_recall(incumbent[size].ferplus),
            gain,
        )
        for size, gain in rule.smallest_recall
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
    if rule.no_more_networks:
        checks.append(Check("networks run on a face, fewer counted as gain", -cost[0], -cost[1], 0))
    return Verdict(tuple(checks), tuple(round(float(b), 4) for b in candidate_bias))
