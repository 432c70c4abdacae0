"""The training and validation sets of a run as tf.data pipelines, with their label targets."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from monitor.core import CLASSES
from training.augment import augmenter, mixup, resize_all, sample_weights, shrink
from training.config import TrainConfig
from training.data import LabelledImages, load_dataset
from training.labels import LabelMapping


def head_targets(data: LabelledImages, head: str) -> np.ndarray:
    return data.emotions if head == "emotions" else data.targets


def make_datasets(train: LabelledImages, val: LabelledImages, config: TrainConfig) -> tuple[tf.data.Dataset, ...]:
    x_train = resize_all(train.images, config.input_size)
    x_val = resize_all(val.images, config.input_size)
    weights = sample_weights(train.labels, config.class_weights)
    augment = augmenter(config.erase)
    train_ds = (
        tf.data.Dataset.from_tensor_slices((x_train, head_targets(train, config.head), weights))
        .shuffle(len(x_train), seed=config.seed, reshuffle_each_iteration=True)
        .batch(config.batch_size, drop_remainder=True)
        .map(
            lambda x, y, w: (augment(tf.cast(x, tf.float32), training=True), y, w),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    )
    if config.shrink:
        train_ds = train_ds.map(shrink(config.shrink, config.shrink_jpeg), num_parallel_calls=tf.data.AUTOTUNE)
    if config.mixup:
        train_ds = train_ds.map(mixup(config.mixup), num_parallel_calls=tf.data.AUTOTUNE)
    train_ds = train_ds.prefetch(tf.data.AUTOTUNE)
    val_ds = (
        tf.data.Dataset.from_tensor_slices((x_val, head_targets(val, config.head)))
        .batch(256)
        .map(lambda x, y: (tf.cast(x, tf.float32), y))
        .prefetch(tf.data.AUTOTUNE)
    )
    if config.max_steps:
        train_ds = train_ds.take(config.max_steps)
    return train_ds, val_ds


def load_training_data(config: TrainConfig) -> tuple[LabelledImages, LabelledImages, list[dict]]:
    mapping = LabelMapping.parse(config.mapping)
    parts = [
        load_dataset(p, mapping, soft=config.soft_labels, ferplus_images=config.ferplus_images) for p in config.data
    ]
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
