"""A synthetic 'lecture' video made from a bundled public-domain portrait, for the demo, tests and benchmarks.

The portrait is NASA's photo of astronaut Eileen Collins (public domain, via scikit-image's `astronaut`). Its
smile is the "laugh" expression; "calm" and "frown" are the same photo with the mouth repainted closed (flat or
turned down) and the cheeks, for the frown the brows too, warped down. What engage reads from them is whatever the
model computes on each frame: the demo never writes a number of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from monitor.errors import EngageError


def portrait() -> np.ndarray:
    return _portrait().copy()


@cache
def _portrait() -> np.ndarray:
    data = resources.files("monitor") / "assets" / "astronaut_head.jpg"
    image = cv2.imdecode(np.frombuffer(data.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@dataclass(frozen=True)
class Expression:
    """How the portrait's mouth, cheeks and brows are reshaped (pixels of the 190x220 portrait)."""

    mouth_curve: float | None  # None: the photo's own smile; else the closed mouth's corners, >0 = down
    cheeks_down: float = 0.0
    brows_down: float = 0.0


EXPRESSIONS = {
    "laugh": Expression(None),
    "calm": Expression(mouth_curve=6, cheeks_down=5),
    "frown": Expression(mouth_curve=12, cheeks_down=5, brows_down=6),
}
_MOUTH = (89, 134)  # the portrait's mouth centre (x, y)


@cache
def expression_head(name: str) -> np.ndarray:
    """The portrait with expression `name` (a key of EXPRESSIONS)."""
    look = EXPRESSIONS[name]
    head = _portrait()
    if look.mouth_curve is None:
        return head
    mask = np.zeros(head.shape[:2], np.uint8)
    cv2.ellipse(mask, _MOUTH, (26, 12), 0, 0, 360, 255, -1)
    head = cv2.inpaint(head, mask, 7, cv2.INPAINT_NS)
    xs = np.arange(_MOUTH[0] - 19, _MOUTH[0] + 21, dtype=np.float32)
    t = (xs - _MOUTH[0] - 0.5) / 20
    middle = _MOUTH[1] + look.mouth_curve * (t**2 - 0.3)
    opening = 6 * np.sqrt(1 - t**2)
    outline = np.concatenate(
        [np.stack([xs, middle - 0.5 * opening], 1), np.stack([xs, middle + 0.7 * opening], 1)[::-1]]
    )
    lips = np.zeros(head.shape[:2], np.uint8)
    cv2.fillPoly(lips, [outline.astype(np.int32)], 255)
    alpha = cv2.GaussianBlur(lips, (5, 5), 0).astype(np.float32)[..., None] / 255
    head = (head * (1 - alpha) + np.array((85, 90, 160), np.float32) * alpha).astype(np.uint8)
    cv2.polylines(head, [np.stack([xs, middle], 1).astype(np.int32)], False, (50, 45, 90), 1, cv2.LINE_AA)
    moves = [(60, 118, 0, look.cheeks_down), (118, 118, 0, look.cheeks_down)]
    moves += [(70, 102, 0, 0.6 * look.cheeks_down), (110, 102, 0, 0.6 * look.cheeks_down)]
    brow = look.brows_down
    moves += [
        (80, 82, 2 + brow / 2, brow),
        (100, 82, -2 - brow / 2, brow),
        (62, 80, 0, 0.3 * brow),
        (122, 80, 0, 0.3 * brow),
    ]
    return _warped(head, [move for move in moves if move[2] or move[3]])


def _warped(image: np.ndarray, moves: list[tuple[float, float, float, float]], reach: float = 9.0) -> np.ndarray:
    """`image` with the content at each (x, y) moved by (dx, dy), fading out over `reach` px around it."""
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]].astype(np.float32)
    shift_x, shift_y = np.zeros_like(xs), np.zeros_like(ys)
    for x, y, dx, dy in moves:
        weight = np.exp(-((xs - x - dx) ** 2 + (ys - y - dy) ** 2) / (2 * reach**2))
        shift_x += dx * weight
        shift_y += dy * weight
    return cv2.remap(image, xs - shift_x, ys - shift_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


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


def render_frame(
    width: int,
    height: int,
    faces: int,
    t: float,
    absent: set[int] = frozenset(),
    expressions: Sequence[str] = (),
) -> np.ndarray:
    """One frame at time `t` (s): heads sway slightly; heads listed in `absent` are left out; head i wears
    `expressions[i]` (default: the portrait's own laugh)."""
    frame = np.full((height, width, 3), (62, 56, 52), np.uint8)
    cv2.rectangle(frame, (0, int(height * 0.8)), (width, height), (40, 36, 34), -1)
    for i, (x, y, size) in enumerate(face_positions(width, height, faces)):
        if i in absent:
            continue
        head = expression_head(expressions[i] if i < len(expressions) else "laugh")
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


# The demo lecture: (from s, expression of each of the four students); the fourth is out from 24 s to 38 s.
STORY: tuple[tuple[float, tuple[str, ...]], ...] = (
    (0, ("calm", "laugh", "calm", "calm")),  # an attentive start
    (10, ("calm", "calm", "calm", "laugh")),
    (18, ("frown", "calm", "frown", "calm")),  # the dip: a hard stretch of the lecture
    (24, ("frown", "frown", "frown", "frown")),
    (32, ("laugh", "frown", "laugh", "frown")),  # the recovery, with laughter
    (38, ("laugh", "laugh", "laugh", "laugh")),
    (48, ("calm", "laugh", "calm", "calm")),
)
STORY_AWAY = (24.0, 38.0)
STORY_SECONDS = 60.0


def story_expressions(t: float) -> tuple[str, ...]:
    """Each student's expression at `t` s into the demo lecture."""
    return [looks for start, looks in STORY if start <= t][-1]


def write_story(
    path: Path, seconds: float = STORY_SECONDS, fps: float = 10.0, size: tuple[int, int] = (960, 540)
) -> Path:
    """The demo lecture: four students whose expressions follow STORY; one leaves for a while and comes back."""
    faces = len(STORY[0][1])

    def frames() -> Iterator[np.ndarray]:
        for index in range(round(seconds * fps)):
            t = index / fps
            away = {faces - 1} if STORY_AWAY[0] <= t < STORY_AWAY[1] else set()
            yield render_frame(*size, faces, t, away, story_expressions(t))

    return write_frames(path, frames(), fps, size)


def write_frames(path: Path, frames: Iterable[np.ndarray], fps: float, size: tuple[int, int]) -> Path:
    """Write BGR frames of `size` (width, height) as an mp4 video."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise EngageError(f"cannot write the demo video {path}")
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path
