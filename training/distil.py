"""Knowledge distillation: teacher models' averaged predictions blended into the training targets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from monitor.errors import EngageError
from monitor.model import ExpressionClassifier
from training.data import LabelledImages
from training.evaluate import ensemble_predict


def load_teachers(paths: list[Path], mapping: dict[str, str]) -> list[ExpressionClassifier]:
    """The teacher models, each averaging a crop and its mirror image; they must map emotions as the run does."""
    teachers = []
    for path in paths:
        teacher = ExpressionClassifier(path)
        if teacher.card.mapping and teacher.card.mapping != mapping:
            raise EngageError(f"teacher {path} maps emotions to classes differently from this run")
        teacher.card = dataclasses.replace(teacher.card, views=["full", "mirror"])
        teachers.append(teacher)
    return teachers


def distil(train: LabelledImages, teachers: list[ExpressionClassifier], weight: float) -> LabelledImages:
    """The training set with targets (1 - weight) * labels + weight * the teachers' averaged probabilities."""
    blended = (1 - weight) * train.targets + weight * ensemble_predict(teachers, train.images)
    return dataclasses.replace(train, targets=blended.astype(np.float32))
