"""Emotion vocabularies and the configurable mapping from 7/8 emotions to 3 expression classes."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from monitor.core import CLASSES
from monitor.errors import EngageError

# FER2013 emotion codes, in the order of the challenge's `emotion` column.
FER2013_EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

# FER+ vote columns that are emotions (unknown / NF are not), with FER2013 spellings.
FERPLUS_EMOTIONS: dict[str, str] = {
    "neutral": "neutral",
    "happiness": "happy",
    "surprise": "surprise",
    "sadness": "sad",
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "contempt": "contempt",
}

# Every emotion either dataset names, FER2013 spellings in FER+ column order: an emotion head's vocabulary.
EMOTIONS: tuple[str, ...] = tuple(FERPLUS_EMOTIONS.values())

DEFAULT_MAPPING: dict[str, str] = {
    "happy": "positive",
    "surprise": "positive",
    "neutral": "neutral",
    "angry": "negative",
    "disgust": "negative",
    "fear": "negative",
    "sad": "negative",
    "contempt": "negative",
}


@dataclass(frozen=True)
class LabelMapping:
    """Maps emotion names to the 3 expression classes; emotions absent from the mapping are dropped."""

    mapping: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MAPPING))

    def __post_init__(self) -> None:
        unknown = set(self.mapping.values()) - set(CLASSES)
        if unknown:
            raise EngageError(f"label mapping targets unknown classes {sorted(unknown)}; use {list(CLASSES)}")

    @classmethod
    def parse(cls, text: str | None) -> LabelMapping:
        """Parse 'happy=positive,surprise=neutral' overrides on top of the default mapping."""
        mapping = dict(DEFAULT_MAPPING)
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            emotion, sep, target = item.partition("=")
            if not sep:
                raise EngageError(f"--mapping entry {item!r}: expected emotion=class or emotion=drop")
            if emotion.strip() not in EMOTIONS:
                raise EngageError(f"--mapping entry {item!r}: unknown emotion; known: {', '.join(EMOTIONS)}")
            if target.strip() in ("", "drop"):
                mapping.pop(emotion.strip(), None)
            else:
                mapping[emotion.strip()] = target.strip()
        return cls(mapping)

    def class_index(self, emotion: str) -> int | None:
        target = self.mapping.get(emotion)
        return None if target is None else CLASSES.index(target)

    @cached_property
    def emotions(self) -> tuple[str, ...]:
        """The emotions this mapping keeps, in EMOTIONS order."""
        return tuple(e for e in EMOTIONS if e in self.mapping)

    def class_matrix(self) -> np.ndarray:
        """(len(self.emotions), 3) 0/1 matrix that sums emotion probabilities (or votes) into the classes."""
        matrix = np.zeros((len(self.emotions), len(CLASSES)), dtype=np.float32)
        for row, emotion in enumerate(self.emotions):
            matrix[row, CLASSES.index(self.mapping[emotion])] = 1.0
        return matrix
