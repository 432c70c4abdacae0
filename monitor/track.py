"""IoU tracking of faces across analyzed frames, with per-track smoothing of class probabilities."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from monitor.types import Box, TrackedFace


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
        pairs = sorted(
            ((box.iou(track.box), b, t) for b, box in enumerate(boxes) for t, track in enumerate(self._tracks)),
            reverse=True,
        )
        matched_boxes: dict[int, _Track] = {}
        used_tracks: set[int] = set()
        for iou, b, t in pairs:
            if iou < self.iou_threshold:
                break
            if b not in matched_boxes and t not in used_tracks:
                matched_boxes[b] = self._tracks[t]
                used_tracks.add(t)
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
