"""Per-interval aggregation of analyzed frames into the records the store keeps."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from monitor.core import CLASSES, engagement_index
from monitor.types import FrameResult, IntervalAggregate


class IntervalAggregator:
    """Collects frame results into fixed `interval_s` windows of session time and closes them in order.

    Windows that pass with no analyzed frame (a lost camera) are still emitted, with frames = 0. A frame's
    expressions count only when it holds at least `min_faces` faces (the small-group floor), so no stored share
    or engagement comes from fewer; a window with faces but no frame that reached the floor is flagged. Attention,
    the share of face observations turned to the front, follows the same floor.
    """

    def __init__(self, interval_s: float, start_wall: datetime, min_faces: int = 1) -> None:
        self.interval_s = interval_s
        self.start_wall = start_wall
        self.min_faces = min_faces
        self._index = 0
        self._reset()

    def _reset(self) -> None:
        self._frames = 0
        self._skipped = 0
        self._face_counts: list[int] = []
        self._tracks: set[int] = set()
        self._probabilities: list[np.ndarray] = []
        self._facing: list[bool] = []

    def add(self, result: FrameResult) -> list[IntervalAggregate]:
        closed = self.advance(result.offset_s)
        self._frames += 1
        self._face_counts.append(len(result.faces))
        self._tracks.update(f.track_id for f in result.faces)
        if len(result.faces) >= self.min_faces:
            self._probabilities.extend(f.probabilities for f in result.faces)
            self._facing.extend(facing for facing in result.facing if facing is not None)
        return closed

    def add_skipped(self, offset_s: float) -> list[IntervalAggregate]:
        """Count a garbage frame that could not be analyzed."""
        closed = self.advance(offset_s)
        self._skipped += 1
        return closed

    def advance(self, offset_s: float) -> list[IntervalAggregate]:
        """Close every window that ends at or before `offset_s`."""
        closed = []
        while offset_s >= (self._index + 1) * self.interval_s:
            closed.append(self._close(self.interval_s))
        return closed

    def flush(self, end_offset_s: float) -> list[IntervalAggregate]:
        """Close every window up to session end, including the partial one in progress."""
        closed = self.advance(end_offset_s)
        duration = end_offset_s - self._index * self.interval_s
        if duration > 0 or self._frames or self._skipped:
            closed.append(self._close(max(duration, 0.0)))
        return closed

    def _close(self, duration_s: float) -> IntervalAggregate:
        offset = self._index * self.interval_s
        if self._probabilities:
            probs = np.stack(self._probabilities)
            labels = probs.argmax(axis=1)
            counts = {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)}
            means: dict[str, float | None] = {c: float(probs[:, i].mean()) for i, c in enumerate(CLASSES)}
            engagement: float | None = float(engagement_index(probs).mean())
        else:
            counts = {c: 0 for c in CLASSES}
            means = {c: None for c in CLASSES}
            engagement = None
        aggregate = IntervalAggregate(
            index=self._index,
            start_wall=self.start_wall + timedelta(seconds=offset),
            offset_s=offset,
            duration_s=duration_s,
            frames=self._frames,
            skipped_frames=self._skipped,
            faces_mean=float(np.mean(self._face_counts)) if self._face_counts else 0.0,
            faces_max=max(self._face_counts, default=0),
            tracks=len(self._tracks),
            class_counts=counts,
            class_means=means,
            engagement=engagement,
            below_min_faces=not self._probabilities and any(self._face_counts),
            attention=float(np.mean(self._facing)) if self._facing else None,
        )
        self._index += 1
        self._reset()
        return aggregate
