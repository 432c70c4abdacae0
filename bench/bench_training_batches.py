"""How fast training batches are made: engage's augmentation (OpenCV and NumPy) against the Keras preprocessing
layers it replaced, on the Keras backend this runs under, and one whole training batch (augmentation, shrinking with
JPEG noise) as the back-row recipe makes it.

Run: [KERAS_BACKEND=jax] python bench/bench_training_batches.py [--size 96] [--batches 30] [--faces DIR]
Needs the training extra. Times random faces (the cost does not depend on what they show); prints medians of ms per
batch of 64. With `--faces DIR` (e.g. /work/data/images/FER2013Train), also how alike the two augmentations leave the
first 512 PNG faces there: mean absolute change, the spread of the faces' brightness and their mean contrast.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import keras
import numpy as np

from training.augment import augment, resize_all
from training.config import TrainConfig
from training.data import LabelledImages
from training.datasets import TrainingBatches


def keras_layers() -> keras.Sequential:
    """The Keras layers engage augmented with before (same ranges)."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect"),
            keras.layers.RandomRotation(0.05, fill_mode="reflect"),
            keras.layers.RandomZoom((-0.15, 0.1), fill_mode="reflect"),
            keras.layers.RandomBrightness(0.2, value_range=(0, 255)),
            keras.layers.RandomContrast(0.3),
        ]
    )


def median_ms(make, batches: int) -> float:
    make(0)
    times = []
    for index in range(1, batches + 1):
        started = time.perf_counter()
        make(index)
        times.append((time.perf_counter() - started) * 1e3)
    return statistics.median(times)


def alike(folder: Path, size: int, layers: keras.Sequential) -> None:
    files = sorted(folder.glob("*.png"))[:512]
    faces = resize_all(np.stack([cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files]), size).astype(np.float32)
    made = {
        "engage": np.concatenate([augment(faces[k : k + 64], np.random.default_rng(k)) for k in range(0, 512, 64)]),
        "Keras's layers": np.concatenate(
            [keras.ops.convert_to_numpy(layers(faces[k : k + 64], training=True)) for k in range(0, 512, 64)]
        ),
    }
    for name, augmented in made.items():
        print(
            f"{name} on {len(files)} faces of {folder}: mean absolute change "
            f"{np.abs(augmented - faces).mean():.1f} grey levels, spread of brightness "
            f"{augmented.mean(axis=(1, 2, 3)).std():.1f}, mean contrast {augmented.std(axis=(1, 2, 3)).mean():.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--faces", type=Path, help="a folder of face PNGs to compare the two augmentations on")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    faces = rng.uniform(0, 255, (64, args.size, args.size, 1)).astype(np.float32)
    layers = keras_layers()
    ours = median_ms(lambda k: augment(faces, np.random.default_rng(k)), args.batches)
    theirs = median_ms(lambda k: keras.ops.convert_to_numpy(layers(faces, training=True)), args.batches)
    count = 64 * (args.batches + 2)
    data = LabelledImages(
        "random",
        rng.integers(0, 256, (count, 48, 48), np.uint8),
        np.full((count, 3), 1 / 3, np.float32),
        np.array(["train"] * count),
        np.full((count, 3), 1 / 3, np.float32),
    )
    batches = TrainingBatches(data, TrainConfig(input_size=args.size, shrink=0.3, shrink_jpeg=40))
    whole = median_ms(lambda k: batches[k], args.batches)
    if args.faces:
        alike(args.faces, args.size, layers)
    print(
        f"batch of 64 faces at {args.size} px on Keras's {keras.backend.backend()} backend: augmentation {ours:.1f} ms "
        f"(Keras's layers {theirs:.1f} ms, {theirs / ours:.1f}x); a whole back-row training batch {whole:.1f} ms "
        f"(medians of {args.batches})"
    )


if __name__ == "__main__":
    main()
