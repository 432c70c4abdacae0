"""The training and validation sets of a run as NumPy batches (a Keras `PyDataset`), with their label targets."""

from __future__ import annotations

import os

import keras
import numpy as np

from monitor.core import CLASSES
from training.augment import augment, mixup, resize_all, sample_weights, shrink, shrunk
from training.config import TrainConfig
from training.data import LabelledImages, load_dataset
from training.labels import LabelMapping


def head_targets(data: LabelledImages, head: str) -> np.ndarray:
    return data.emotions if head == "emotions" else data.targets


class TrainingBatches(keras.utils.PyDataset):
    """Shuffled, augmented training batches as NumPy arrays (x, targets, weights), for any Keras backend.

    The order and every draw (augmentation, shrinking, mixing) come from the run's seed, the epoch and the batch, so a
    resumed run follows the schedule of an uninterrupted one, whichever loader thread makes a batch. On many cores
    several threads make batches (OpenCV leaves the GIL): one per four cores, one on a laptop, whose cores train."""

    def __init__(self, data: LabelledImages, config: TrainConfig, first_epoch: int = 0) -> None:
        super().__init__(workers=max(1, (os.cpu_count() or 1) // 4), use_multiprocessing=False, max_queue_size=8)
        self.x = resize_all(data.images, config.input_size)
        self.y = head_targets(data, config.head).astype(np.float32)
        self.w = sample_weights(data.labels, config.class_weights)
        self.config = config
        self.epoch = first_epoch
        self.order = self._shuffled()

    def _shuffled(self) -> np.ndarray:
        return np.random.default_rng([self.config.seed, self.epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        batches = len(self.x) // self.config.batch_size
        return min(batches, self.config.max_steps) if self.config.max_steps else batches

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        size = self.config.batch_size
        chosen = self.order[index * size : (index + 1) * size]
        rng = np.random.default_rng([self.config.seed, self.epoch, index])
        x = augment(self.x[chosen].astype(np.float32), rng, self.config.erase)
        y, w = self.y[chosen], self.w[chosen]
        if self.config.shrink:
            x = shrink(
                x,
                rng,
                self.config.shrink,
                self.config.shrink_jpeg,
                self.config.shrink_smallest,
                self.config.shrink_largest,
            )
        if self.config.mixup:
            x, y, w = mixup(x, y, w, rng, self.config.mixup)
        return x.astype(np.float32), y, w

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.order = self._shuffled()


def validation_arrays(val: LabelledImages, config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """The validation faces at the model's size (shrunk to `validate_size` first, if set) and their targets."""
    faces = shrunk(val.images, config.validate_size) if config.validate_size else val.images
    return resize_all(faces, config.input_size).astype(np.float32), head_targets(val, config.head)


def load_training_data(config: TrainConfig) -> tuple[LabelledImages, LabelledImages, list[dict]]:
    mapping = LabelMapping.parse(config.mapping)
    parts = [
        load_dataset(p, mapping, soft=config.soft_labels, ferplus_images=config.ferplus_images) for p in config.data
    ]
    if config.align:
        from training.aligned import align_dataset

        parts = [align_dataset(p) for p in parts]
    if config.superres:
        from training.superres import upscale_dataset

        parts = [upscale_dataset(p, config.superres, config.input_size) for p in parts]
    for part in parts:
        print(part.summary(), flush=True)
    train = _concat([p.subset("train") for p in parts])
    val = _concat([p.subset("val") for p in parts])
    fingerprints = [{"source": p.source, "sha256_16": p.fingerprint(), "images": len(p.images)} for p in parts]
    return train, val, fingerprints


def _concat(parts: list[LabelledImages]) -> LabelledImages:
    return LabelledImages(
        " + ".join(p.source for p in parts),
        np.concatenate([p.images for p in parts]),
        np.concatenate([p.targets for p in parts]),
        np.concatenate([p.splits for p in parts]),
        np.concatenate([p.emotions for p in parts]),
    )


def class_matrix(config: TrainConfig) -> np.ndarray:
    """How the head's outputs sum into the classes: the mapping's matrix, or identity for a class head."""
    if config.head == "emotions":
        return LabelMapping.parse(config.mapping).class_matrix()
    return np.eye(len(CLASSES), dtype=np.float32)
