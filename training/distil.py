"""Training targets from a second source: teacher models' averaged predictions (knowledge distillation), or the
original FER2013 labels of the same faces, blended into the targets or learnt by an auxiliary head."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from monitor.errors import EngageError
from monitor.perception.model import ExpressionClassifier
from training.data import LabelledImages
from training.evaluate import ensemble_predict, match_faces


def load_teachers(paths: list[Path], mapping: dict[str, str]) -> list[ExpressionClassifier]:
    """The teacher models, each averaging a crop and its mirror image without its class bias (soft targets are the
    networks' own probabilities); they must map emotions as the run does."""
    teachers = []
    for path in paths:
        teacher = ExpressionClassifier(path)
        if teacher.card.mapping and teacher.card.mapping != mapping:
            raise EngageError(f"teacher {path} maps emotions to classes differently from this run")
        teacher.card = dataclasses.replace(teacher.card, views=["full", "mirror"], class_bias=[0.0, 0.0, 0.0])
        teachers.append(teacher)
    return teachers


def distil(train: LabelledImages, teachers: list[ExpressionClassifier], weight: float) -> LabelledImages:
    """The training set with targets (1 - weight) * labels + weight * the teachers' averaged probabilities."""
    blended = (1 - weight) * train.targets + weight * ensemble_predict(teachers, train.images)
    return dataclasses.replace(train, targets=blended.astype(np.float32))


def blend_labels(train: LabelledImages, second: LabelledImages, weight: float) -> tuple[LabelledImages, int]:
    """The training set with targets (1 - weight) * its labels + weight * the second label set's target of the
    same face (faces only in one set keep their own), and how many faces were matched."""
    theirs, found = matched_targets(train, second)
    targets = np.where(found[:, None], (1 - weight) * train.targets + weight * theirs, train.targets)
    return dataclasses.replace(train, targets=targets.astype(np.float32)), int(found.sum())


def append_aux_targets(data: LabelledImages, second: LabelledImages) -> tuple[LabelledImages, int]:
    """The set with the second label set's target of each face appended to its own, for an auxiliary head (all zero
    where the face is not in the second set, so it adds no auxiliary loss), and how many faces were matched."""
    theirs, found = matched_targets(data, second)
    targets = np.concatenate([data.targets, theirs], axis=1)
    return dataclasses.replace(data, targets=targets.astype(np.float32)), int(found.sum())


def matched_targets(data: LabelledImages, second: LabelledImages) -> tuple[np.ndarray, np.ndarray]:
    """For each face of `data`, the second set's target of the same face (matched by pixels; zero where there is
    none), and whether it was matched."""
    mine, theirs = match_faces(data.images, second.images)
    targets = np.zeros_like(data.targets)
    targets[mine] = second.targets[theirs]
    found = np.zeros(len(data.targets), bool)
    found[mine] = True
    return targets, found
