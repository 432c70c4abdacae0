"""Generated scenes with known faces for the benchmarks: faces pasted at chosen sizes into cluttered frames.

Faces come from a folder of face images (e.g. FER2013's test/ folders: `DATA/fer2013/test`) or, without one,
from the bundled portrait; the background is a room-like clutter of walls, desks, boards and noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from monitor.demo import portrait
from monitor.types import Box


@dataclass(frozen=True)
class PastedFace:
    box: Box  # the face in the frame (before the image's rotation)
    source: int  # index of the face image in the list given to `scene`


@dataclass(frozen=True)
class FaceImages:
    """Grey face images and where the face lies in each, as fractions (x, y, w, h) of the image."""

    images: list[np.ndarray]
    region: tuple[float, float, float, float]
    name: str


def face_images(folder: Path | None) -> FaceImages:
    """Grey face images from `folder` (FER2013-style tight crops: the face is the image), else the bundled portrait
    (its head with hair and background: the face is the detector's box on the full portrait)."""
    if folder is None:
        grey = cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY)
        return FaceImages([grey[40:170, 30:160]], (0.13, 0.12, 0.71, 0.86), "the bundled portrait's head")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in {".jpg", ".png"})
    if not paths:
        raise SystemExit(f"no face images under {folder}")
    return FaceImages([cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in paths], (0.0, 0.0, 1.0, 1.0), str(folder))


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A cluttered room: a shaded wall, boards, windows, desks and chairs, sensor noise."""
    frame = np.empty((height, width, 3), np.float32)
    frame[:] = rng.uniform(40, 170, 3)
    frame *= np.linspace(0.7, 1.2, height, dtype=np.float32)[:, None, None]
    for _ in range(rng.integers(12, 30)):
        x, y = rng.integers(0, width), rng.integers(0, height)
        w, h = rng.integers(20, width // 3), rng.integers(8, height // 4)
        cv2.rectangle(frame, (int(x), int(y)), (int(x + w), int(y + h)), rng.uniform(0, 255, 3).tolist(), -1)
    for _ in range(rng.integers(10, 25)):
        points = rng.integers(0, max(width, height), 4)
        cv2.line(
            frame, points[:2].tolist(), points[2:].tolist(), rng.uniform(0, 255, 3).tolist(), int(rng.integers(1, 5))
        )
    frame = cv2.GaussianBlur(frame, (0, 0), 1.2)
    frame += rng.normal(0, 6, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8)


def paste(frame: np.ndarray, face: np.ndarray, x: int, y: int, size: int, roll: float) -> None:
    """Paste a grey face at (x, y) as size x size, turned by `roll` degrees, edges feathered, tinted warm."""
    tile = cv2.resize(face, (size, size), interpolation=cv2.INTER_AREA if size < face.shape[0] else cv2.INTER_CUBIC)
    tint = np.array([0.82, 0.92, 1.08], np.float32)  # BGR: a skin-like warm cast on the grey face
    colour = np.clip(tile[..., None].astype(np.float32) * tint, 0, 255)
    mask = np.zeros((size, size), np.float32)
    border = max(size // 12, 1)
    mask[border:-border, border:-border] = 1.0
    mask = cv2.GaussianBlur(mask, (0, 0), border / 2 + 0.5)
    if roll:
        turn = cv2.getRotationMatrix2D((size / 2, size / 2), roll, 1.0)
        colour = cv2.warpAffine(colour, turn, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        mask = cv2.warpAffine(mask, turn, (size, size), flags=cv2.INTER_LINEAR)
    region = frame[y : y + size, x : x + size].astype(np.float32)
    frame[y : y + size, x : x + size] = (region * (1 - mask[..., None]) + colour * mask[..., None]).astype(np.uint8)


def scene(
    rng: np.random.Generator,
    faces: list[np.ndarray],
    sizes: tuple[int, int],
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0),
    width: int = 1280,
    height: int = 720,
    max_roll: float = 0.0,
) -> tuple[np.ndarray, list[PastedFace]]:
    """A frame with all `faces` at log-uniform face widths in `sizes` px (`region`: the face within each image),
    on a jittered grid so that none overlap."""
    frame = background(rng, width, height)
    rx, ry, rw, rh = region
    cell = int(sizes[1] / rw * 1.3)
    cells = [(cx, cy) for cy in range(0, height - cell + 1, cell) for cx in range(0, width - cell + 1, cell)]
    pasted = []
    if len(faces) > len(cells):
        raise ValueError(f"{len(faces)} faces of up to {sizes[1]} px do not fit a {width}x{height} frame")
    for source, (cx, cy) in enumerate(cells[i] for i in rng.permutation(len(cells))[: len(faces)]):
        face_width = min(np.exp(rng.uniform(np.log(sizes[0]), np.log(sizes[1] + 1))), sizes[1] + 0.49)
        side = round(face_width / rw)
        x, y = cx + int(rng.integers(0, cell - side + 1)), cy + int(rng.integers(0, cell - side + 1))
        paste(frame, faces[source], x, y, side, float(rng.uniform(-max_roll, max_roll)))
        box = Box(x + round(rx * side), y + round(ry * side), round(rw * side), round(rh * side))
        pasted.append(PastedFace(box, source))
    return frame, pasted


# (x, y, size) of six heads in a 1280x720 room, front row to back row: 150 px down to 46 px (faces of 72 down to 22 px).
ROOM_HEADS = ((120, 380, 150), (520, 400, 130), (930, 390, 110), (300, 200, 76), (760, 210, 60), (1040, 150, 46))


# (x, y, size) of twelve heads of 42-50 px (faces of 20-24 px): a back row seen by a 720p camera.
BACK_ROW_HEADS = tuple((60 + 100 * i, 300 + 40 * (i % 3), 42 + (i * 5) % 9) for i in range(12))


def room_frames(
    seconds: float,
    fps: float,
    seed: int = 0,
    heads: tuple[tuple[int, int, int], ...] = ROOM_HEADS,
    away: dict[int, tuple[float, float]] | None = None,
) -> Iterator[np.ndarray]:
    """A 1280x720 lecture room: bundled-portrait heads (default: six of 46-150 px) that sway, before a cluttered
    background; `away` gives the seconds (from, to) during which a head (by index) is not in its seat."""
    room = background(np.random.default_rng(seed), 1280, 720)
    head = portrait()
    for index in range(round(seconds * fps)):
        t = index / fps
        frame = room.copy()
        for i, (x, y, size) in enumerate(heads):
            if away and i in away and away[i][0] <= t < away[i][1]:
                continue
            tile = cv2.resize(head if i % 2 else head[:, ::-1], (size, round(size * head.shape[0] / head.shape[1])))
            x0, y0 = x + int(6 * np.sin(t * 1.3 + i)), y + int(4 * np.cos(t * 0.9 + i))
            frame[y0 : y0 + tile.shape[0], x0 : x0 + tile.shape[1]] = tile
        yield frame
