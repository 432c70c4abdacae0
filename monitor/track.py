"""IoU tracking of faces across analyzed frames, with per-track smoothing of class probabilities."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from monitor.types import Box, TrackedFace


def match_boxes(first: list[Box], second: list[Box], min_iou: float) -> dict[int, int]:
    """Greedy one-to-one matching by IoU, best overlap first: index in `first` -> index in `second`."""
    pairs = sorted(((a.iou(b), i, j) for i, a in enumerate(first) for j, b in enumerate(second)), reverse=True)
    matched: dict[int, int] = {}
    used: set[int] = set()
    for iou, i, j in pairs:
        if iou < min_iou:
            break
        if i not in matched and j not in used:
            matched[i] = j
            used.add(j)
    return matched


@dataclass
class _Track:
    track_id: int
    box: Box
    history: deque[np.ndarray]
    missed: int = 0


@dataclass
class IoUTracker:
    """Greedy IoU matching; a track survives `max_missed` frames unseen and averages its last `window` outputs."""

    iou_threshold: float = 0.3
    max_missed: int = 4
    window: int = 5
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 1

    def update(self, boxes: list[Box], probabilities: np.ndarray) -> list[TrackedFace]:
        pairs = match_boxes(boxes, [track.box for track in self._tracks], self.iou_threshold)
        matched_boxes = {b: self._tracks[t] for b, t in pairs.items()}
        used_tracks = set(pairs.values())
        for t, track in enumerate(self._tracks):
            if t not in used_tracks:
                track.missed += 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        faces = []
        for b, box in enumerate(boxes):
            track = matched_boxes.get(b)
            if track is None:
                track = _Track(self._next_id, box, deque(maxlen=self.window))
                self._next_id += 1
                self._tracks.append(track)
            track.box, track.missed = box, 0
            track.history.append(probabilities[b])
            faces.append(TrackedFace(track.track_id, box, np.mean(track.history, axis=0)))
        return faces

    def reset(self) -> None:
        """Forget all tracks (e.g. after the camera was lost)."""
        self._tracks.clear()
