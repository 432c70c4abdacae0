"""Training-time augmentation and sample weighting, on batches of grey faces: Keras layers, NumPy and OpenCV, so the
same on every Keras backend."""

from __future__ import annotations

import cv2
import keras
import numpy as np

from monitor.core import CLASSES
from monitor.perception.model import resized


def resize_all(images: np.ndarray, size: int) -> np.ndarray:
    """Resize 48x48 faces to the model size exactly as the runtime does, shape (N, size, size, 1)."""
    return np.stack([resized(im, size) for im in images])[..., None]


def augmenter(erase: float = 0.0) -> keras.Sequential:
    """Flips, shifts, small rotations, zoom, brightness and contrast; with `erase` > 0, random erasing after them
    (that share of faces gets a patch of 2-33% of its area replaced by noise)."""
    erasing = [keras.layers.RandomErasing((erase, erase), value_range=(0, 255))] if erase else []
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect"),
            keras.layers.RandomRotation(0.05, fill_mode="reflect"),
            keras.layers.RandomZoom((-0.15, 0.1), fill_mode="reflect"),
            keras.layers.RandomBrightness(0.2, value_range=(0, 255)),
            keras.layers.RandomContrast(0.3),
            *erasing,
        ],
        name="augment",
    )


def shrink(
    faces: np.ndarray, rng: np.random.Generator, share: float, jpeg: int = 0, smallest: int = 20, largest: int = 40
) -> np.ndarray:
    """A batch (N, size, size, 1) whose `share` of faces are shrunk to a random smallest-largest px (area) and
    upscaled back (bilinear), as a back-row face reaches the model; one size per batch. With `jpeg` > 0 the small
    faces are JPEG-compressed first, at one random quality from `jpeg` to 95 per batch, as a webcam's or a video's
    compressed frame leaves them. NumPy and OpenCV: the same on every Keras backend."""
    px = int(rng.integers(smallest, largest + 1))
    quality = int(rng.integers(jpeg, 96)) if jpeg else 0
    size = faces.shape[1]
    out = faces.copy()
    for k in np.flatnonzero(rng.random(len(faces)) < share):
        small = cv2.resize(faces[k, ..., 0], (px, px), interpolation=cv2.INTER_AREA)
        if quality:
            grey = np.clip(np.round(small), 0, 255).astype(np.uint8)
            small = cv2.imdecode(
                cv2.imencode(".jpg", grey, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_GRAYSCALE
            )
        out[k, ..., 0] = cv2.resize(small.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    return out


def sample_weights(labels: np.ndarray, mode: str) -> np.ndarray:
    """Per-image loss weights from its class: inverse class frequency ("balanced"), its square root, or 1."""
    if mode == "none":
        return np.ones(len(labels), np.float32)
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(float)
    weights = counts.sum() / (len(CLASSES) * np.maximum(counts, 1))
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return (weights / weights.mean())[labels].astype(np.float32)


def mixup(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, rng: np.random.Generator, alpha: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each image blended with a batch-mate by a Beta(alpha, alpha) share, and its target and weight likewise."""
    share = rng.beta(alpha, alpha, len(x)).astype(np.float32)
    mate = rng.permutation(len(x))

    def blend(t: np.ndarray) -> np.ndarray:
        s = share.reshape(-1, *[1] * (t.ndim - 1))
        return (s * t + (1 - s) * t[mate]).astype(np.float32)

    return blend(x), blend(y), blend(w)
