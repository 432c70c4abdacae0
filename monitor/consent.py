"""Consent by design: opt-out zones (faces there are never analyzed) and the small-group floor (no expression is
stored from fewer than `min_faces` faces in a frame)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.errors import EngageError

if TYPE_CHECKING:  # numpy stays out of `engage --help`
    from monitor.types import Box

MIN_FACES_DEFAULT = 3


@dataclass(frozen=True)
class Zone:
    """A rectangle of the frame whose faces are dropped right after detection: x, y, width and height as fractions
    (0-1) of the frame's width and height, so a zone survives a change of camera resolution."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def parse(cls, text: str) -> Zone:
        """`X,Y,W,H`, e.g. `0.8,0,0.2,0.45`; anything else is an EngageError naming the zone."""
        parts = [part.strip() for part in str(text).split(",")]
        try:
            x, y, w, h = (float(part) for part in parts)
        except ValueError:
            raise EngageError(f"--exclude-zone {text!r}: give four numbers X,Y,W,H, e.g. 0.8,0,0.2,0.45") from None
        if not all(0 <= v <= 1 for v in (x, y, w, h)) or x + w > 1 + 1e-9 or y + h > 1 + 1e-9:
            raise EngageError(f"--exclude-zone {text!r}: X,Y,W,H are fractions of the frame, within 0-1")
        if w <= 0 or h <= 0:
            raise EngageError(f"--exclude-zone {text!r}: the zone has no area (W and H must be above 0)")
        return cls(x, y, w, h)

    @classmethod
    def of_pixels(cls, box: Box, width: int, height: int) -> Zone:
        """The zone a rectangle drawn on a `width` x `height` frame covers (clipped to the frame)."""
        x0, y0 = max(0, box.x) / width, max(0, box.y) / height
        x1, y1 = min(width, box.x + box.w) / width, min(height, box.y + box.h) / height
        return cls(round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4))

    def contains(self, box: Box, width: int, height: int) -> bool:
        """Whether the centre of `box` (pixels of a `width` x `height` frame) lies in the zone."""
        cx, cy = (box.x + box.w / 2) / width, (box.y + box.h / 2) / height
        return self.x <= cx <= self.x + self.w and self.y <= cy <= self.y + self.h

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Corners (x0, y0, x1, y1) on a `width` x `height` frame, for drawing."""
        return (
            round(self.x * width),
            round(self.y * height),
            round((self.x + self.w) * width),
            round((self.y + self.h) * height),
        )

    def __str__(self) -> str:
        return ",".join(f"{v:g}" for v in (self.x, self.y, self.w, self.h))


def outside_zones(boxes: Sequence[Box], zones: Sequence[Zone], width: int, height: int) -> list[bool]:
    """For each box, whether it is analyzed: its centre lies in no zone."""
    return [not any(zone.contains(box, width, height) for zone in zones) for box in boxes]
