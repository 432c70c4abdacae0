"""Typed records passed between pipeline stages: frame -> faces -> tracks -> interval aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from monitor.core import CLASSES, engagement_index


@dataclass(frozen=True)
class Box:
    """Axis-aligned face box in frame pixels."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def iou(self, other: Box) -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0

    def crop(self, frame: np.ndarray) -> np.ndarray:
        return frame[max(self.y, 0) : self.y + self.h, max(self.x, 0) : self.x + self.w]


@dataclass(frozen=True, eq=False)
class Detection:
    """One face found in a frame: its box, the detector's confidence and, where the detector gives them,
    five landmarks in frame pixels (right eye, left eye, nose tip, right and left mouth corner; the
    face's own right and left)."""

    box: Box
    score: float
    landmarks: np.ndarray | None = None  # (5, 2) float32


@dataclass(frozen=True)
class TrackedFace:
    """One face in one analyzed frame: its track, box and smoothed class probabilities."""

    track_id: int
    box: Box
    probabilities: np.ndarray  # (3,) smoothed over the track's recent frames

    @property
    def label(self) -> str:
        return CLASSES[int(self.probabilities.argmax())]


@dataclass(frozen=True)
class Heading:
    """A face's direction as the preview draws it: the nose tip (frame pixels) and the head's yaw and pitch."""

    nose: tuple[float, float]
    yaw_deg: float
    pitch_deg: float


@dataclass
class FrameResult:
    """What the pipeline learnt from one analyzed frame."""

    offset_s: float  # seconds since session start (media time for recorded video)
    faces: list[TrackedFace]
    detected: bool = True  # False: the faces' positions were carried from an earlier frame
    searched: bool = True  # False: the faces were followed from the last full-frame search, not searched for
    facing: list[bool | None] = field(default_factory=list)  # per face: turned to the front (None: pose unknown)
    headings: list[Heading | None] = field(default_factory=list)  # per face: where its nose points (for the preview)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def engagement(self) -> float | None:
        if not self.faces:
            return None
        return float(engagement_index(np.stack([f.probabilities for f in self.faces])).mean())


@dataclass
class IntervalAggregate:
    """Aggregates of one closed interval; class and engagement fields are None when no face was seen."""

    index: int
    start_wall: datetime
    offset_s: float
    duration_s: float
    frames: int
    skipped_frames: int
    faces_mean: float
    faces_max: int
    tracks: int
    class_counts: dict[str, int]
    class_means: dict[str, float | None]
    engagement: float | None
    below_min_faces: bool = False  # faces were seen, but no frame held the floor's number: expressions not kept
    attention: float | None = None  # share of face observations turned to the front; None: no pose (or floor)
