"""Optional OpenCV preview window with face boxes, labels and the running engagement."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import cv2
import numpy as np

from monitor.consent import Zone
from monitor.console import shown
from monitor.core import CLASS_COLOURS
from monitor.types import FrameResult, Heading

BGR_COLOURS = {name: tuple(int(hex_[i : i + 2], 16) for i in (5, 3, 1)) for name, hex_ in CLASS_COLOURS.items()}


def display_available() -> bool:
    """Whether a window can be opened; opencv-python aborts the process on Linux without a display."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def draw(image: np.ndarray, result: FrameResult | None, zones: Sequence[Zone] = ()) -> np.ndarray:
    """The frame with the opt-out zones shaded and labelled, each face's box, label and direction (a line from the
    nose: long when the face turns aside, a dot when it looks into the camera), and a banner."""
    canvas = image.copy() if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    height, width = canvas.shape[:2]
    for zone in zones:
        x0, y0, x1, y1 = zone.pixels(width, height)
        shaded = canvas[y0:y1, x0:x1]
        shaded[:] = (shaded * 0.35 + 90).astype(np.uint8)  # greyed out: visibly not analyzed
        cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), (200, 200, 200), 1)
        cv2.putText(canvas, "not analyzed", (x0 + 6, y0 + 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    if result is None:
        return canvas
    for face in result.faces:
        b, colour = face.box, BGR_COLOURS[face.label]
        cv2.rectangle(canvas, (b.x, b.y), (b.x + b.w, b.y + b.h), colour, 2)
        text = f"#{face.track_id} {face.label} {face.probabilities.max():.0%}"
        cv2.putText(canvas, text, (b.x, max(b.y - 6, 12)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    for face, heading in zip(result.faces, result.headings, strict=False):
        if heading is not None:
            cv2.line(canvas, *direction_line(heading, face.box.w), (255, 255, 255), 2, cv2.LINE_AA)
    banner = f"engagement {shown(result.engagement)}  faces {len(result.faces)}   q: quit  m: marker"
    cv2.putText(canvas, banner, (10, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
    return canvas


def direction_line(heading: Heading, face_width: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """From the nose along the head's turn, as long as the face is wide at a right angle: a face turned toward the
    image's left (yaw > 0) points left; a raised chin (pitch > 0) points up."""
    x, y = heading.nose
    dx = -np.sin(np.radians(heading.yaw_deg)) * face_width
    dy = -np.sin(np.radians(heading.pitch_deg)) * face_width
    return (round(x), round(y)), (round(x + dx), round(y + dy))


class PreviewWindow:
    """Shows annotated frames; `show` returns the key pressed (or '')."""

    title = "engage - live preview (frames are never saved)"

    def __init__(self, zones: Sequence[Zone] = ()) -> None:
        self.zones = tuple(zones)

    def show(self, image: np.ndarray, result: FrameResult | None) -> str:
        cv2.imshow(self.title, draw(image, result, self.zones))
        key = cv2.waitKey(1) & 0xFF
        return chr(key).lower() if key != 0xFF else ""

    def close(self) -> None:
        cv2.destroyAllWindows()
