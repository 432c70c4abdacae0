"""Training-time augmentation and sample weighting, on batches of grey faces."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

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


def shrink(share: float, jpeg: int = 0, smallest: int = 20, largest: int = 40) -> Callable[..., tuple[tf.Tensor, ...]]:
    """A batch map that shrinks `share` of the faces to a random smallest-largest px (area) and upscales them back
    (bilinear), as a back-row face reaches the model; one size per batch, so it is a single resize. With `jpeg` > 0
    the small faces are JPEG-compressed first, at one random quality from `jpeg` to 95 per batch, as a webcam's or a
    video's compressed frame leaves them."""

    def compressed(faces: tf.Tensor) -> tf.Tensor:
        quality = tf.random.uniform([], jpeg, 96, tf.int32)
        grey = tf.cast(tf.clip_by_value(tf.round(faces), 0, 255), tf.uint8)
        return tf.cast(tf.map_fn(lambda face: tf.image.adjust_jpeg_quality(face, quality), grey), tf.float32)

    def apply(x: tf.Tensor, y: tf.Tensor, w: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        px = tf.random.uniform([], smallest, largest + 1, tf.int32)
        small = tf.image.resize(x, [px, px], method="area")
        if jpeg:
            small = compressed(small)
        small = tf.image.resize(small, tf.shape(x)[1:3], method="bilinear")
        chosen = tf.random.uniform([tf.shape(x)[0], 1, 1, 1]) < share
        return tf.where(chosen, small, x), y, w

    return apply


def sample_weights(labels: np.ndarray, mode: str) -> np.ndarray:
    """Per-image loss weights from its class: inverse class frequency ("balanced"), its square root, or 1."""
    if mode == "none":
        return np.ones(len(labels), np.float32)
    counts = np.bincount(labels, minlength=len(CLASSES)).astype(float)
    weights = counts.sum() / (len(CLASSES) * np.maximum(counts, 1))
    if mode == "sqrt":
        weights = np.sqrt(weights)
    return (weights / weights.mean())[labels].astype(np.float32)


def mixup(alpha: float) -> Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor, tf.Tensor]]:
    """A batch map blending each image with a batch-mate by a Beta(alpha, alpha) share, and its target and weight."""

    def mix(x: tf.Tensor, y: tf.Tensor, w: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        n = tf.shape(x)[0]
        a, b = tf.random.gamma([n], alpha), tf.random.gamma([n], alpha)
        share = a / (a + b)
        mate = tf.random.shuffle(tf.range(n))

        def blend(t: tf.Tensor) -> tf.Tensor:
            s = tf.reshape(tf.cast(share, t.dtype), [-1] + [1] * (len(t.shape) - 1))
            return s * t + (1 - s) * tf.gather(t, mate)

        return blend(x), blend(y), blend(w)

    return mix
