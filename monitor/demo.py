"""A synthetic 'lecture' video made from a bundled public-domain portrait, for the demo, tests and benchmarks.

The portrait is NASA's photo of astronaut Eileen Collins (public domain, via scikit-image's `astronaut`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from monitor.errors import EngageError


def portrait() -> np.ndarray:
    data = resources.files("monitor") / "assets" / "astronaut_head.jpg"
    image = cv2.imdecode(np.frombuffer(data.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def face_positions(width: int, height: int, faces: int) -> list[tuple[int, int, int]]:
    """(x, y, size) of each pasted head on a grid of rows like an audience."""
    columns = min(faces, 3)
    rows = -(-faces // columns)
    size = int(min(width / (columns + 0.5), height / (rows + 0.3)) * 0.8)
    positions = []
    for i in range(faces):
        row, column = divmod(i, columns)
        x = int((column + 0.5) * width / columns - size / 2)
        y = int((row + 0.5) * height / rows - size / 2)
        positions.append((x, y, size))
    return positions


def render_frame(width: int, height: int, faces: int, t: float, absent: set[int] = frozenset()) -> np.ndarray:
    """One frame at time `t` (s): heads sway slightly; heads listed in `absent` are left out."""
    frame = np.full((height, width, 3), (62, 56, 52), np.uint8)
    cv2.rectangle(frame, (0, int(height * 0.8)), (width, height), (40, 36, 34), -1)
    head = portrait()
    for i, (x, y, size) in enumerate(face_positions(width, height, faces)):
        if i in absent:
            continue
        tile = cv2.resize(head if i % 2 == 0 else head[:, ::-1], (size, int(size * head.shape[0] / head.shape[1])))
        dx = int(4 * np.sin(t * 1.3 + i))
        dy = int(3 * np.cos(t * 0.9 + i))
        x0, y0 = max(0, x + dx), max(0, y + dy)
        h, w = min(tile.shape[0], height - y0), min(tile.shape[1], width - x0)
        frame[y0 : y0 + h, x0 : x0 + w] = tile[:h, :w]
    return frame


def write_video(
    path: Path,
    *,
    seconds: float = 12.0,
    fps: float = 10.0,
    width: int = 640,
    height: int = 360,
    faces: int = 3,
    leave: tuple[float, float] | None = None,
) -> Path:
    """Write an mp4 where `faces` heads sit in an audience; during `leave` (start, end s) the last one is away."""

    def frames() -> Iterator[np.ndarray]:
        for index in range(round(seconds * fps)):
            t = index / fps
            away = {faces - 1} if leave and leave[0] <= t < leave[1] else set()
            yield render_frame(width, height, faces, t, away)

    return write_frames(path, frames(), fps, (width, height))


def write_frames(path: Path, frames: Iterable[np.ndarray], fps: float, size: tuple[int, int]) -> Path:
    """Write BGR frames of `size` (width, height) as an mp4 video."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise EngageError(f"cannot write the demo video {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
