"""Face detectors behind one small interface; the default is OpenCV's Haar frontalface_alt2."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from monitor.errors import EngageError
from monitor.types import Box


class FaceDetector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Boxes of all faces in a BGR or grey frame, in that frame's pixels."""
        ...


class HaarDetector:
    """Haar cascade run on a grey copy downscaled to `detect_width`, boxes mapped back to the frame."""

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

    def detect(self, frame: np.ndarray) -> list[Box]:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        scale = min(1.0, self.detect_width / grey.shape[1])
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(grey)
        found = self._cascade.detectMultiScale(
            grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(self.min_face, self.min_face)
        )
        return [Box(*(round(int(v) / scale) for v in row)) for row in np.asarray(found).reshape(-1, 4)]
