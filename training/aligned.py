"""Training faces re-framed as the runtime frames faces: YuNet's five landmarks aligned to the FER framing.

At runtime every face the classifier sees is `monitor.perception.align.face_crop`: levelled eyes and the average
FER2013 framing. The training faces are framed by hand, tilted and cropped each their own way; `--align` gives the
model the runtime's crops of them instead. A face the detector misses stays as it is.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from monitor.perception.align import face_crop
from monitor.perception.detect import YuNetDetector
from monitor.types import Detection
from training.data import LabelledImages

BORDER, SCALE = 12, 4  # a replicated border and 4x upscaling let the detector see a whole 48x48 face
MIN_SCORE = 0.5


def detectable(face: np.ndarray) -> np.ndarray:
    """A 48x48 face bordered and upscaled as the detector needs it (coordinates: (x + BORDER) * SCALE)."""
    bordered = cv2.copyMakeBorder(face, *[BORDER] * 4, cv2.BORDER_REPLICATE)
    return cv2.resize(bordered, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)


def likeliest_face(detector: YuNetDetector, face: np.ndarray) -> tuple[np.ndarray, Detection] | None:
    """The upscaled face and the detector's most confident find in it, or None where it finds none."""
    big = detectable(face)
    found = detector.detect(big)
    return (big, max(found, key=lambda d: d.score)) if found else None


def runtime_crop(detector: YuNetDetector, face: np.ndarray) -> np.ndarray | None:
    """The face as the runtime would crop it, at the face's own size (48x48), or None where no face is found."""
    found = likeliest_face(detector, face)
    if found is None:
        return None
    crop = face_crop(*found)
    return cv2.resize(crop, face.shape[::-1], interpolation=cv2.INTER_AREA)


_aligned: dict[str, LabelledImages] = {}  # by the faces' fingerprint: a staged run aligns its data once


def align_dataset(data: LabelledImages) -> LabelledImages:
    """Every face replaced by its runtime crop where the detector finds it (the rest unchanged); the same faces
    again in one process (the next stage of a run) come from the first call."""
    key = data.fingerprint()
    if key not in _aligned:
        detector = YuNetDetector(min_score=MIN_SCORE)
        images, aligned = data.images.copy(), 0
        for index, face in enumerate(data.images):
            crop = runtime_crop(detector, face)
            if crop is not None:
                images[index], aligned = crop, aligned + 1
        source = f"{data.source} (runtime crops of {aligned} of {len(images)} faces)"
        _aligned[key] = replace(data, source=source, images=images)
    return _aligned[key]
