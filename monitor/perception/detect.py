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
    `bench/bench_detector.py` measures recall by face size for each width.
    """

    name = "yunet-2023mar"

    def __init__(
        self,
        detect_width: int = 1280,
        min_score: float = DEFAULT_MIN_SCORE,
        nms_threshold: float = 0.3,
        model: Path | None = None,
    ) -> None:
        path = model or default_yunet_path()
        if not path.is_file():
            raise EngageError(f"face detector model {path} is missing")
        try:
            self._net = cv2.FaceDetectorYN.create(str(path), "", (320, 320), min_score, nms_threshold, 5000)
        except cv2.error:
            raise EngageError(f"face detector model {path} could not be loaded (not a YuNet ONNX file)") from None
        self.detect_width = detect_width
        self.min_score, self.nms_threshold, self.model = min_score, nms_threshold, path
        self._input_size = (320, 320)

    def for_crops(self) -> YuNetDetector:
        return YuNetDetector(self.detect_width, self.min_score, self.nms_threshold, self.model)

    def detect(self, frame: np.ndarray) -> list[Detection]:
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        small, scale = _downscaled(frame, self.detect_width)
        size = (small.shape[1], small.shape[0])
        if size != self._input_size:
            self._net.setInputSize(size)
            self._input_size = size
        _, found = self._net.detect(small)
        if found is None:
            return []
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
