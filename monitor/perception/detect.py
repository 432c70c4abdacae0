"""Face detectors behind one small interface: YuNet (default, with landmarks) and OpenCV's Haar cascade."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from monitor.errors import EngageError
from monitor.types import Box, Detection

DEFAULT_DETECTOR = "yunet"
DEFAULT_MIN_SCORE = 0.6
TILE_OVERLAP = 96  # px of a large image that neighbouring quarters share: faces up to this size lie whole in one
_X_COLUMNS, _Y_COLUMNS = [0, 4, 6, 8, 10, 12], [1, 5, 7, 9, 11, 13]  # of a YuNet row: box, 5 landmarks, score


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """All faces of a grey, BGR or BGRA frame, in that frame's pixels."""
        ...

    def for_crops(self) -> FaceDetector:
        """A detector of the same kind and settings with state of its own, for small crops around one face."""
        ...


def _downscaled(image: np.ndarray, width: int) -> tuple[np.ndarray, float]:
    """The image shrunk to at most `width` pixels wide (INTER_AREA), and the scale applied."""
    scale = min(1.0, width / image.shape[1])
    if scale < 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return image, scale


def _grid(width: int, height: int, max_px: int) -> tuple[int, int]:
    """Columns and rows (2x1 up to 3x3, never more rows than columns) whose overlapping parts of a width x height
    image hold at most `max_px` pixels each; the finest grid when none does. The whole image shrunk by the
    columns fits one part, and faces of the overlap's size stay at least 32 px there."""
    for columns, rows in ((2, 1), (2, 2), (3, 2), (3, 3)):
        if _part(width, columns) * _part(height, rows) <= max_px:
            break
    return columns, rows


def _part(length: int, parts: int) -> int:
    """The length of each of `parts` parts of `length` pixels that overlap by TILE_OVERLAP."""
    return -(-(length + TILE_OVERLAP * (parts - 1)) // parts)


def _clipped(x: float, y: float, w: float, h: float, shape: tuple[int, ...]) -> Box:
    """A box rounded to pixels and clipped to the frame."""
    x0, y0 = max(round(x), 0), max(round(y), 0)
    x1, y1 = min(round(x + w), shape[1]), min(round(y + h), shape[0])
    return Box(x0, y0, max(x1 - x0, 0), max(y1 - y0, 0))


def default_yunet_path() -> Path:
    return Path(str(resources.files("monitor") / "models" / "face_detection_yunet_2023mar.onnx"))


class YuNetDetector:
    """YuNet (OpenCV's `FaceDetectorYN`) on a copy downscaled to `detect_width`; boxes and landmarks mapped back.

    The default 1280 px is full resolution for 720p, where faces from about 20 px wide are found;
    `bench/bench_detector.py` measures recall by face size for each width. With `max_input_px`, a larger copy is
    searched by parts of at most that many pixels (`_tiled`): less memory, more time.
    """

    name = "yunet-2023mar"

    def __init__(
        self,
        detect_width: int = 1280,
        min_score: float = DEFAULT_MIN_SCORE,
        nms_threshold: float = 0.3,
        model: Path | None = None,
        max_input_px: int | None = None,
    ) -> None:
        path = model or default_yunet_path()
        if not path.is_file():
            raise EngageError(f"face detector model {path} is missing")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), min_score, nms_threshold, 5000)
        except cv2.error:
            raise EngageError(f"face detector model {path} could not be loaded (not a YuNet ONNX file)") from None
        self.detect_width = detect_width
        self.max_input_px = max_input_px
        self.min_score, self.nms_threshold, self.model = min_score, nms_threshold, path
        self._input_size = (320, 320)

    def _rows(self, image: np.ndarray) -> np.ndarray:
        """YuNet's rows (box, 5 landmarks, score) for one image, in its pixels."""
        size = (image.shape[1], image.shape[0])
        if size != self._input_size:
            self._net.setInputSize(size)
            self._input_size = size
        _, found = self._net.detect(image)
        return np.zeros((0, 15), np.float32) if found is None else found

    def _tiled(self, image: np.ndarray) -> np.ndarray:
        """The rows of a large image from overlapping parts (the small faces) and one pass over the whole image
        shrunk into a part's size (faces larger than the overlap): YuNet's buffers grow with its input, so they stay
        at one part's size, and one input size is never reallocated. A part's face that touches an edge it shares
        with another part is cut, and left to the part or the pass that holds it whole; what two found is kept
        once."""
        height, width = image.shape[:2]
        columns, rows = _grid(width, height, self.max_input_px or width * height)
        tile_w, tile_h = _part(width, columns), _part(height, rows)
        shrunk = cv2.resize(image, (width // columns, height // columns), interpolation=cv2.INTER_AREA)
        padded = cv2.copyMakeBorder(
            shrunk, 0, tile_h - shrunk.shape[0], 0, tile_w - shrunk.shape[1], cv2.BORDER_CONSTANT
        )
        found = [self._rows(padded) * np.array([columns] * 14 + [1], np.float32)]
        for top in np.linspace(0, height - tile_h, rows).round().astype(int):
            for left in np.linspace(0, width - tile_w, columns).round().astype(int):
                part = self._rows(image[top : top + tile_h, left : left + tile_w]).copy()
                x0, y0, x1, y1 = part[:, 0], part[:, 1], part[:, 0] + part[:, 2], part[:, 1] + part[:, 3]
                whole = ((x0 > 1) | (left == 0)) & ((y0 > 1) | (top == 0))
                whole &= ((x1 < tile_w - 1) | (left + tile_w == width)) & ((y1 < tile_h - 1) | (top + tile_h == height))
                part[:, _X_COLUMNS] += left
                part[:, _Y_COLUMNS] += top
                found.append(part[whole])
        every = np.concatenate(found)
        kept = cv2.dnn.NMSBoxes(every[:, :4].tolist(), every[:, 14].tolist(), self.min_score, self.nms_threshold)
        return every[np.asarray(kept, int).reshape(-1)]

    def for_crops(self) -> YuNetDetector:
        return YuNetDetector(self.detect_width, self.min_score, self.nms_threshold, self.model, self.max_input_px)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        small, scale = _downscaled(frame, self.detect_width)
        tiled = self.max_input_px is not None and small.shape[0] * small.shape[1] > self.max_input_px
        found = self._tiled(small) if tiled else self._rows(small)
        detections = []
        for row in found[np.isfinite(found).all(axis=1)]:  # degenerate inputs (a 1x1 frame) can yield inf rows
            box = _clipped(*row[:4] / scale, frame.shape)
            if box.area:
                landmarks = (row[4:14] / scale).reshape(5, 2).astype(np.float32)
                detections.append(Detection(box, float(row[14]), landmarks))
        return detections


class HaarDetector:
    """Haar cascade run on a grey copy downscaled to `detect_width`, boxes mapped back to the frame (no landmarks)."""

    name = "haar-frontalface-alt2"

    def __init__(
        self,
        detect_width: int = 640,
        scale_factor: float = 1.1,
        min_neighbors: int = 4,
        min_face: int = 30,
        cascade: Path | None = None,
    ) -> None:
        path = cascade or Path(cv2.data.haarcascades) / "haarcascade_frontalface_alt2.xml"
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise EngageError(f"face detector cascade {path} could not be loaded")
        self.detect_width = detect_width
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_face = min_face
        self.cascade = path

    def for_crops(self) -> HaarDetector:
        """The crops scale a face to about 32 px: the smallest face looked for is below that."""
        return HaarDetector(self.detect_width, self.scale_factor, self.min_neighbors, 20, self.cascade)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY if frame.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
        grey, scale = _downscaled(frame, self.detect_width)
        found = self._cascade.detectMultiScale(
            cv2.equalizeHist(grey),
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_face, self.min_face),
        )
        rows = np.asarray(found, dtype=np.float64).reshape(-1, 4) / scale
        return [Detection(_clipped(*row, frame.shape), 1.0) for row in rows]


DETECTORS: dict[str, Callable[[float], FaceDetector]] = {
    "yunet": lambda min_score: YuNetDetector(min_score=min_score),
    "haar": lambda _min_score: HaarDetector(),  # the cascade has no confidence score
}


def create_detector(name: str = DEFAULT_DETECTOR, min_score: float = DEFAULT_MIN_SCORE) -> FaceDetector:
    """The detector registered under `name`, with its default settings."""
    factory = DETECTORS.get(name)
    if factory is None:
        raise EngageError(f"unknown face detector {name!r}: choose one of {', '.join(DETECTORS)}")
    return factory(min_score)
