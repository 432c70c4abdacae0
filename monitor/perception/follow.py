"""Search the room rarely, follow each face locally.

A full-frame search (the pipeline's detector at its full width, which finds the 20-30 px back row) runs every
`search_period_s` of session time, on the first frame, on a new frame size, when the picture changes a lot (a
cheap difference of small grey copies) and when several faces are lost at once. On the analyzed frames in
between, each known face is detected again by a second detector of the same kind in a small crop around its last
box, scaled so that the face is about `face_px` wide: a fresh box, landmarks and score for the alignment, the head
pose and the tracker, at a fraction of a full search's cost. A face its local search misses `max_misses` analyzed
frames in a row is dropped; a face that enters is found by the next search. `search_period_s = 0` searches every
frame, as engage did before.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from monitor.consent import Zone, outside_zones
from monitor.perception.detect import FaceDetector
from monitor.types import Box, Detection

THUMB_STEP = 8  # the grey copy of each frame whose changes force a search keeps every 8th pixel each way
GUTTER = 16  # black pixels between two crops searched together (less, and a neighbour's edge moves a box)


@dataclass(frozen=True)
class FollowSettings:
    search_period_s: float = 8.0  # full-frame search at most this often (0: on every frame)
    crop_factor: float = 3.0  # side of the local crop, in sides of the face's last box
    face_px: int = 32  # the face's width inside the local crop (a 96 px crop: YuNet's cost is per pixel)
    max_misses: int = 3  # analyzed frames in a row a face's local search may miss before it is dropped
    change: float = 12.0  # mean grey-level difference (0-255) from the last frame's copy that forces a search
    motion_level: int = 30  # a grey-level difference from the last frame that counts as motion
    motion_px: int = 6  # this many moving copy pixels away from every known face (someone entering): search
    lost_share: float = 0.5  # several faces (2 or more, this share of those known) lost in one frame: search


@dataclass
class _Followed:
    face: Detection
    misses: int = 0


def _thumbnail(frame: np.ndarray) -> np.ndarray:
    """A small grey copy of the frame for the change test (every 8th pixel: no full-frame filtering)."""
    sampled = np.ascontiguousarray(frame[::THUMB_STEP, ::THUMB_STEP])
    if sampled.ndim == 3:
        sampled = cv2.cvtColor(sampled, cv2.COLOR_BGRA2GRAY if sampled.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return sampled


class FaceFollower:
    """The faces of each analyzed frame: searched in the whole frame now and then, followed locally in between.

    `search` finds faces in whole frames; `local` (a detector of the same kind with its own input size) re-finds
    one face in its crop. Faces in `zones` are dropped from every result, so they are never followed either."""

    def __init__(
        self,
        search: FaceDetector,
        local: FaceDetector,
        settings: FollowSettings | None = None,
        zones: tuple[Zone, ...] = (),
    ) -> None:
        self.search = search
        self.local = local
        self.settings = settings or FollowSettings()
        self.zones = zones
        self.searches = 0
        self._known: list[_Followed] = []
        self._searched_at: float | None = None
        self._shape: tuple[int, ...] | None = None
        self._thumb: np.ndarray | None = None

    def faces(self, frame: np.ndarray, offset_s: float) -> tuple[list[Detection], bool]:
        """This frame's faces and whether a full search found them (False: followed locally)."""
        if self._search_due(frame, offset_s):
            return self._search(frame, offset_s), True
        found, lost = self._follow(frame)
        known = len(self._known) + lost
        if lost >= 2 and lost >= self.settings.lost_share * known:
            return self._search(frame, offset_s), True
        return found, False

    def reset(self) -> None:
        """Forget every face (after the camera was lost): the next frame is searched."""
        self._known.clear()
        self._searched_at = None

    def _search_due(self, frame: np.ndarray, offset_s: float) -> bool:
        period = self.settings.search_period_s
        thumb, previous = _thumbnail(frame), self._thumb
        self._thumb = thumb
        if self._searched_at is None or period <= 0 or frame.shape != self._shape:
            return True
        if not 0 <= offset_s - self._searched_at < period:
            return True
        return self._changed(cv2.absdiff(thumb, previous))

    def _changed(self, difference: np.ndarray) -> bool:
        """Whether the picture changed a lot since the last analyzed frame (a cut, the lights), or moved away from
        every known face (someone entering)."""
        if float(difference.mean()) > self.settings.change:
            return True
        moving = difference > self.settings.motion_level
        for followed in self._known:  # a known face's own movement (and its head's around it) is followed
            b = followed.face.box
            x0, y0 = (b.x - b.w) // THUMB_STEP, (b.y - b.h) // THUMB_STEP
            moving[max(y0, 0) : (b.y + 2 * b.h) // THUMB_STEP + 1, max(x0, 0) : (b.x + 2 * b.w) // THUMB_STEP + 1] = 0
        return int(np.count_nonzero(moving)) >= self.settings.motion_px

    def _search(self, frame: np.ndarray, offset_s: float) -> list[Detection]:
        faces = self._outside_zones(self.search.detect(frame), frame.shape)
        self._known = [_Followed(face) for face in faces]
        self._searched_at, self._shape = offset_s, frame.shape
        self.searches += 1
        return faces

    def _follow(self, frame: np.ndarray) -> tuple[list[Detection], int]:
        """Each known face re-found in its crop (or missed); the faces found and how many were lost this frame."""
        kept, lost = [], 0
        refound = self._refind([followed.face.box for followed in self._known], frame)
        for followed, face in zip(self._known, refound, strict=True):
            if face is None:
                followed.misses += 1
                if followed.misses >= self.settings.max_misses:
                    lost += 1
                    continue
            else:
                followed.face, followed.misses = face, 0
            kept.append(followed)
        self._known = _without_duplicates(kept)
        found = [f.face for f in self._known if f.misses == 0]
        fresh = self._outside_zones(found, frame.shape)
        if len(fresh) < len(found):  # a face that moved into a zone is no longer followed
            self._known = [f for f in self._known if f.misses or f.face in fresh]
        return fresh, lost

    def _refind(self, boxes: list[Box], frame: np.ndarray) -> list[Detection | None]:
        """For each box, the face overlapping it most in a crop around it scaled so the face is `face_px` wide, or
        None. The crops are laid side by side in one row, a black gutter between, and searched in one call: a
        detector's cost per call, beyond its cost per pixel, is paid once a frame."""
        if not boxes:
            return []
        tile = round(self.settings.face_px * self.settings.crop_factor)
        pitch = tile + GUTTER
        mosaic = np.zeros((tile, len(boxes) * pitch - GUTTER, *frame.shape[2:]), frame.dtype)
        placements = []
        for k, box in enumerate(boxes):
            scale = self.settings.face_px / max(box.w, box.h, 1)
            left = box.x + box.w / 2 - tile / scale / 2
            top = box.y + box.h / 2 - tile / scale / 2
            to_tile = np.array([[scale, 0.0, -scale * left], [0.0, scale, -scale * top]])
            x = k * pitch
            mosaic[:, x : x + tile] = cv2.warpAffine(
                frame, to_tile, (tile, tile), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
            )
            placements.append((scale, left - x / scale, top))
        best: list[Detection | None] = [None] * len(boxes)
        best_iou = [0.2] * len(boxes)
        for candidate in self.local.detect(mosaic):
            k = int((candidate.box.x + candidate.box.w / 2) // pitch)  # the crop its centre lies in
            if k >= len(boxes):
                continue
            face = _to_frame(candidate, *placements[k], frame.shape)
            overlap = face.box.iou(boxes[k])
            if overlap > best_iou[k]:
                best[k], best_iou[k] = face, overlap
        return best

    def _outside_zones(self, faces: list[Detection], shape: tuple[int, ...]) -> list[Detection]:
        if not self.zones:
            return faces
        kept = outside_zones([face.box for face in faces], self.zones, shape[1], shape[0])
        return [face for face, keep in zip(faces, kept, strict=True) if keep]


def _to_frame(face: Detection, scale: float, left: float, top: float, shape: tuple[int, ...]) -> Detection:
    """A detection in crop pixels mapped back to the frame's pixels, its box clipped to the frame."""
    b = face.box
    x0, y0 = max(round(left + b.x / scale), 0), max(round(top + b.y / scale), 0)
    x1, y1 = min(round(left + (b.x + b.w) / scale), shape[1]), min(round(top + (b.y + b.h) / scale), shape[0])
    box = Box(x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))
    landmarks = None if face.landmarks is None else (face.landmarks / scale + (left, top)).astype(np.float32)
    return Detection(box, face.score, landmarks)


def _without_duplicates(followed: list[_Followed], max_iou: float = 0.5) -> list[_Followed]:
    """Two followed faces that converged on one face: the one with the better score stays."""
    kept: list[_Followed] = []
    for item in sorted(followed, key=lambda f: (f.misses, -f.face.score)):
        if all(item.face.box.iou(other.face.box) <= max_iou for other in kept):
            kept.append(item)
    return kept
