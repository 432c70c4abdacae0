"""The one face crop the classifier sees: landmark-aligned to the framing of the FER2013 training faces.

With landmarks (YuNet), the crop is the similarity transform (rotation, scale, shift) that best maps the
face's five landmarks onto where they sit in an average FER2013 face, so the eyes come out level and the
face fills the crop as the training faces fill theirs. Without landmarks (Haar) it is the detector's box.
"""

from __future__ import annotations

import cv2
import numpy as np

from monitor.types import Detection

# Median YuNet landmarks of 2,891 FER2013 training faces, as fractions of the 48x48 frame (x, y): right eye,
# left eye, nose tip, right and left mouth corner. `python bench/fer_framing.py DATA/fer2013` measures them.
FER_LANDMARKS = np.array(
    [[0.312, 0.388], [0.689, 0.395], [0.482, 0.599], [0.340, 0.752], [0.648, 0.759]], dtype=np.float64
)
MIN_SIDE = 8


def alignment(landmarks: np.ndarray, template: np.ndarray, rotate: bool = True) -> np.ndarray:
    """The 2x3 similarity transform taking five landmarks onto a template of five (rows: the landmark order).

    It turns the eye line (points 0 -> 1) onto the template's, scales the points' spread to the template's
    and matches their centroids. `rotate=False` skips the turn (the bench's ablation of levelling).
    """
    source_mean, target_mean = landmarks.mean(axis=0), template.mean(axis=0)
    scale = float(np.sqrt(((template - target_mean) ** 2).sum() / max(((landmarks - source_mean) ** 2).sum(), 1e-9)))
    angle = 0.0
    if rotate:
        (sx, sy), (tx, ty) = landmarks[1] - landmarks[0], template[1] - template[0]
        angle = np.arctan2(ty, tx) - np.arctan2(sy, sx)
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([linear, (target_mean - linear @ source_mean)[:, None]])


def face_crop(image: np.ndarray, face: Detection, rotate: bool = True) -> np.ndarray:
    """The face as the classifier takes it (any channels, the face's own resolution; the model resizes it)."""
    if face.landmarks is None:
        return face.box.crop(image)
    to_unit = alignment(face.landmarks.astype(np.float64), FER_LANDMARKS, rotate)
    side = max(round(1.0 / float(np.hypot(*to_unit[:, 0]))), MIN_SIDE)  # the face's side in frame pixels
    return cv2.warpAffine(image, to_unit * side, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
