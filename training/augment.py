"""Training-time augmentation and sample weighting, on batches of grey faces: NumPy and OpenCV, so the same on every
Keras backend and cheap enough for one loader thread to feed a GPU."""

from __future__ import annotations

import cv2
import numpy as np

from monitor.core import CLASSES
from monitor.perception.model import resized


def resize_all(images: np.ndarray, size: int) -> np.ndarray:
    """Resize 48x48 faces to the model size exactly as the runtime does, shape (N, size, size, 1)."""
    return np.stack([resized(im, size) for im in images])[..., None]


def shrunk(images: np.ndarray, size: int) -> np.ndarray:
    """Faces downscaled to size x size (INTER_AREA), as the camera sees a face that small; the model upscales them."""
    return np.stack([cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA) for image in images])


def augment(faces: np.ndarray, rng: np.random.Generator, erase: float = 0.0) -> np.ndarray:
    """A batch (N, size, size, 1) float32 of faces each flipped left-right half the time, shifted up to 10% each way,
    turned up to 18 degrees, zoomed from 15% in to 10% out (one affine warp, the borders reflected), brightened by
    up to 20% of the range either way and its contrast raised by 0-30% about its mean (Keras 3's RandomContrast(0.3)
    draws its factor from 1.0-1.3, measured: the recipe always had that); with `erase` > 0, that share
    of faces then gets a patch of 2-33% of its area replaced by noise. The draws of Keras's RandomFlip,
    RandomTranslation, RandomRotation, RandomZoom, RandomBrightness and RandomContrast, in OpenCV and NumPy: the same
    on every Keras backend, from `rng` alone (a resumed run draws the same), and one warp per face."""
    count, size = len(faces), faces.shape[1]
    flip = rng.random(count) < 0.5
    shift = rng.uniform(-0.1, 0.1, (count, 2)) * size
    angle = rng.uniform(-0.05, 0.05, count) * 2 * np.pi
    zoom = 1 + rng.uniform(-0.15, 0.1, count)  # the input span one output pixel covers: < 1 zooms in
    brightness = (rng.uniform(-0.2, 0.2, count) * 255).astype(np.float32)[:, None, None, None]
    contrast = rng.uniform(1.0, 1.3, count).astype(np.float32)[:, None, None, None]  # Keras's RandomContrast(0.3) did
    centre = (size - 1) / 2
    cos, sin, mirror = np.cos(angle) * zoom, np.sin(angle) * zoom, np.where(flip, -1.0, 1.0)
    linear = np.stack([np.stack([cos * mirror, -sin], -1), np.stack([sin * mirror, cos], -1)], 1)  # zoom, turn, flip
    to_input = np.concatenate([linear, (centre - linear.sum(2) * centre - shift)[..., None]], 2)  # output -> input
    out = np.empty(faces.shape, np.float32)
    for k in range(count):
        out[k, ..., 0] = cv2.warpAffine(
            np.ascontiguousarray(faces[k, ..., 0], np.float32),
            to_input[k],
            (size, size),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REFLECT,
        )
    out = np.clip(out + brightness, 0, 255, out=out)
    means = out.mean(axis=(1, 2, 3), keepdims=True)
    out = np.clip((out - means) * contrast + means, 0, 255, out=out)
    if erase:
        _erase(out, rng, erase)
    return out


def _erase(faces: np.ndarray, rng: np.random.Generator, share: float) -> None:
    """In place: `share` of the faces each get a rectangle of 2-33% of their area, of aspect 0.3-3.3, filled with
    uniform noise over 0-255 (Keras's RandomErasing)."""
    size = faces.shape[1]
    for k in np.flatnonzero(rng.random(len(faces)) < share):
        area = rng.uniform(0.02, 0.33) * size * size
        aspect = np.exp(rng.uniform(np.log(0.3), np.log(1 / 0.3)))
        height = int(min(size, max(1, round(np.sqrt(area * aspect)))))
        width = int(min(size, max(1, round(np.sqrt(area / aspect)))))
        top, left = int(rng.integers(0, size - height + 1)), int(rng.integers(0, size - width + 1))
        faces[k, top : top + height, left : left + width, 0] = rng.uniform(0, 255, (height, width))


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
