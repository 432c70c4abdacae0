"""`engage classify`: one row per face in still images (or per image, when images are face crops)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import pandas as pd

from monitor.core import CLASSES
from monitor.errors import EngageError
from monitor.perception.align import face_crop
from monitor.perception.detect import FaceDetector
from monitor.perception.model import ExpressionClassifier
from monitor.perception.pose import HeadPoseModel
from monitor.types import Box, Detection

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
COLUMNS = ("file", "face", "x", "y", "w", "h", "label", *(f"p_{c}" for c in CLASSES), "yaw", "pitch")


def image_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise EngageError(f"folder {path} holds no images")
            yield from files
        elif path.is_file():
            yield path
        else:
            raise EngageError(f"{path}: no such file or folder")


def classify_images(
    paths: list[Path], classifier: ExpressionClassifier, detector: FaceDetector | None, pose: HeadPoseModel
) -> pd.DataFrame:
    """One row per face: its box, expression and probabilities, and head pose (empty without landmarks)."""
    rows = []
    for file in image_files(paths):
        image = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
        if image is None or image.size == 0:
            raise EngageError(f"{file} is not a readable image")
        if image.dtype != "uint8":
            image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
        if image.ndim == 3 and image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        faces = detector.detect(image) if detector else [Detection(Box(0, 0, image.shape[1], image.shape[0]), 1.0)]
        probabilities = classifier.predict([face_crop(image, face) for face in faces])
        for index, (face, probs) in enumerate(zip(faces, probabilities, strict=True)):
            box, label = face.box, CLASSES[int(probs.argmax())]
            turned = pose.estimate(face)
            angles = (round(turned[0], 1), round(turned[1], 1)) if turned else (None, None)
            rows.append(
                (str(file), index, box.x, box.y, box.w, box.h, label, *(round(float(p), 4) for p in probs), *angles)
            )
    return pd.DataFrame(rows, columns=list(COLUMNS))
