"""Resumable training of the expression model on CPU, ending in an exported .tflite + card."""

from __future__ import annotations

import copy
import csv
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from monitor.core import CLASSES
from monitor.errors import EngageError
from monitor.model import DEFAULT_MODEL_NAME, ModelCard, resized
from training.data import LabelledImages, load_dataset
from training.distil import blend_labels, distil, load_teachers
from training.export import export_tflite
from training.labels import LabelMapping
from training.model import backbone_of, build_model, sum_into_classes


@dataclass
class TrainConfig:
    data: list[Path]
    out: Path
    soft_labels: bool = True
    mapping: str = ""
    ferplus_images: Path | None = None
    input_size: int = 64
    alpha: float = 0.5
    pooling: str = "avg"
    dropout: float = 0.3
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # or "plateau" (reduce-LR-on-plateau)
    patience: int = 12
    class_weights: str = "sqrt"  # "sqrt", "balanced" or "none"
    head: str = "classes"  # or "emotions": one output per mapped emotion, summed into the classes on export
    max_steps: int | None = None  # steps per epoch cap, for smoke runs
    seed: int = 13
    superres: Path | None = None
    init_from: Path | None = None  # start from this .keras model's weights (other labels or input size)
    teachers: list[Path] = field(default_factory=list)  # .tflite models whose predictions join the targets
    teacher_weight: float = 0.5
    blend_labels: Path | None = None  # a second label set of the same faces (e.g. FER2013's) blended into the targets
    blend_weight: float = 0.3
    mixup: float = 0.0  # Beta(a, a) mixing of image pairs and their targets; 0 = off
    ema: float = 0.0  # momentum of an exponential moving average of the weights, used to validate and export; 0 = off
    erase: float = 0.0  # probability that a training face has a random patch replaced by noise; 0 = off
    version: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y.%m.%d"))

    def __post_init__(self) -> None:
        """Option values out of range are exit-2 errors before any data is read."""
        if self.teachers and not 0 < self.teacher_weight <= 1:
            raise EngageError(f"--teacher-weight {self.teacher_weight}: give a value in (0, 1]")
        if self.teachers and self.head == "emotions":
            raise EngageError("--teacher gives class probabilities; use it with --head classes")
        if self.blend_labels and not 0 < self.blend_weight <= 1:
            raise EngageError(f"--blend-weight {self.blend_weight}: give a value in (0, 1]")
        if self.blend_labels and self.head == "emotions":
            raise EngageError("--blend-labels blends class targets; use it with --head classes")
        if self.mixup < 0:
            raise EngageError(f"--mixup {self.mixup}: give a Beta parameter > 0, or 0 for no mixup")
        if not 0 <= self.ema < 1:
            raise EngageError(f"--ema {self.ema}: give a momentum in (0, 1), e.g. 0.999, or 0 for no averaging")
        if not 0 <= self.erase <= 1:
            raise EngageError(f"--erase {self.erase}: give a probability in [0, 1], e.g. 0.5, or 0 for no erasing")

    @classmethod
    def read(cls, run: Path) -> TrainConfig:
        """The config a finished run wrote to its config.json."""
        try:
            raw = json.loads((run / "config.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError) as exc:
            raise EngageError(f"{run}: not a finished training run ({exc})") from None
        config = cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})
        config.data, config.teachers = [Path(p) for p in config.data], [Path(p) for p in config.teachers]
        for name in ("ferplus_images", "superres", "init_from", "blend_labels"):
            value = getattr(config, name)
            setattr(config, name, Path(value) if value else None)
        config.out = run
        return config

    def describe(self) -> str:
        """The architecture line of the model card."""
        head = "Dense(emotions) softmax summed into 3 classes" if self.head == "emotions" else "Dense(3) softmax"
        origin = f"fine-tuned from {self.init_from}" if self.init_from else "trained from scratch"
        return (
            f"MobileNet alpha={self.alpha} {self.input_size}px grey, {self.pooling}-pool + dropout {self.dropout} + "
            f"{head}, {origin}"
        )


@dataclass(frozen=True)
class Stage:
    """One stage of progressive resizing: `engage train --stages SIZE:EPOCHS:LR,...`."""

    input_size: int
    epochs: int
    learning_rate: float

    @classmethod
    def parse_list(cls, text: str) -> list[Stage]:
        """Stages from "64:45:2e-3,96:24:1e-3"; a malformed one is an EngageError naming it."""
        stages = []
        for item in text.split(","):
            try:
                size, epochs, rate = item.split(":")
                stage = cls(int(size), int(epochs), float(rate))
            except ValueError:
                raise EngageError(f"--stages {item!r}: give SIZE:EPOCHS:LR, e.g. 96:24:1e-3") from None
            if stage.input_size < 32 or stage.epochs < 1 or not 0 < stage.learning_rate < 1:
                raise EngageError(f"--stages {item!r}: size >= 32, epochs >= 1 and 0 < LR < 1")
            stages.append(stage)
        return stages


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


class EpochProgress(keras.callbacks.Callback):
    """One line per epoch with validation accuracy, learning rate and the ETA of the whole run."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs
        self.started = time.monotonic()
        self.first_epoch: int | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.first_epoch is None:
            self.first_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        done = epoch + 1 - (self.first_epoch or 0)
        per_epoch = (time.monotonic() - self.started) / max(done, 1)
        eta = per_epoch * (self.epochs - epoch - 1)
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        print(
            f"epoch {epoch + 1}/{self.epochs}  loss {logs.get('loss', math.nan):.4f}  "
            f"acc {logs.get('accuracy', math.nan):.4f}  val_acc {logs.get('val_accuracy', math.nan):.4f}  "
            f"lr {lr:.2e}  {per_epoch:.0f} s/epoch  ETA {eta / 60:.1f} min",
            flush=True,
        )


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


def class_accuracy(class_matrix: np.ndarray) -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """Accuracy over the 3 classes of a head whose outputs the (outputs, 3) matrix sums into the classes."""
    matrix = tf.constant(class_matrix, tf.float32)

    def accuracy(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        return keras.metrics.categorical_accuracy(tf.matmul(y_true, matrix), tf.matmul(y_pred, matrix))

    return accuracy


def class_matrix(config: TrainConfig) -> np.ndarray:
    """How the head's outputs sum into the classes: the mapping's matrix, or identity for a class head."""
    if config.head == "emotions":
        return LabelMapping.parse(config.mapping).class_matrix()
    return np.eye(len(CLASSES), dtype=np.float32)


def train(config: TrainConfig) -> Path:
    """Train (resuming if `out` holds a backup), keep the best epoch on validation accuracy, export it."""
    keras.utils.set_random_seed(config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    train_set, val_set, fingerprints = load_training_data(config)
    if config.blend_labels:
        second = load_dataset(config.blend_labels, LabelMapping.parse(config.mapping)).subset("train")
        train_set, matched = blend_labels(train_set, second, config.blend_weight)
        print(f"blended {config.blend_weight:g} of {second.source} into {matched} training faces", flush=True)
    if config.teachers:
        teachers = load_teachers(config.teachers, LabelMapping.parse(config.mapping).mapping)
        train_set = distil(train_set, teachers, config.teacher_weight)
    train_ds, val_ds = make_datasets(train_set, val_set, config)
    steps = config.max_steps or len(train_set.images) // config.batch_size
    matrix = class_matrix(config)
    model = initial_model(config, outputs=len(matrix))
    if config.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            0.0, config.epochs * steps, warmup_target=config.learning_rate, warmup_steps=steps
        )
    else:
        learning_rate = config.learning_rate
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate, weight_decay=config.weight_decay, use_ema=config.ema > 0, ema_momentum=config.ema
        ),
        loss="categorical_crossentropy",
        metrics=[class_accuracy(matrix)],
        jit_compile=False,  # XLA measured 4.7x slower on this CPU
    )
    best = config.out / "best.keras"
    # with EMA, the averaged weights are swapped in after the backup (which must resume the raw ones),
    # for validation and the best checkpoint
    swap_ema = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.ema else []
    callbacks = [
        keras.callbacks.BackupAndRestore(str(config.out / "backup"), double_checkpoint=True),
        *swap_ema,
        keras.callbacks.ModelCheckpoint(str(best), monitor="val_accuracy", mode="max", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=config.patience),
        keras.callbacks.CSVLogger(str(config.out / "history.csv"), append=True),
        EpochProgress(config.epochs),
    ]
    if config.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.3, patience=4))
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        callbacks=callbacks,
        verbose=1 if sys.stdout.isatty() else 0,
    )
    return export_run(config, train_set, fingerprints, len(val_set.images))


def train_stages(config: TrainConfig, stages: list[Stage]) -> Path:
    """Progressive resizing: one run per stage in `out/stageN-SIZEpx`, each starting from the previous stage's best
    checkpoint (the first from `init_from`, if any). Finished stages are kept, so a rerun resumes where it stopped."""
    init_from, out = config.init_from, config.out
    for number, stage in enumerate(stages, start=1):
        out = config.out / f"stage{number}-{stage.input_size}px"
        origin = f"from {init_from}" if init_from else "from scratch"
        print(
            f"stage {number}/{len(stages)}: {stage.input_size} px, {stage.epochs} epochs, lr {stage.learning_rate:g}, "
            f"{origin} -> {out}",
            flush=True,
        )
        if (out / "model.json").is_file():
            print(f"stage {number} finished earlier: kept", flush=True)
        else:
            train(replace(config, out=out, init_from=init_from, **asdict(stage)))
        init_from = out / "best.keras"
    return out / "model.tflite"


def initial_model(config: TrainConfig, outputs: int) -> keras.Model:
    """A fresh model, or one carrying the weights of `init_from` (any input size: the layers are size-agnostic).

    The backbone always comes from `init_from`; its head too where it has as many outputs.
    """
    model = build_model(config.input_size, config.alpha, config.pooling, config.dropout, outputs)
    if config.init_from:
        source = keras.models.load_model(config.init_from, compile=False)
        weights = backbone_of(source).get_weights()
        if [w.shape for w in weights] != [w.shape for w in backbone_of(model).get_weights()]:
            raise EngageError(
                f"{config.init_from}: its layers do not match MobileNet alpha={config.alpha}; "
                "pass the --alpha it was trained with"
            )
        backbone_of(model).set_weights(weights)
        if source.output.shape == model.output.shape:
            model.layers[-1].set_weights(source.layers[-1].get_weights())
    return model


def export_run(config: TrainConfig, train_set: LabelledImages, fingerprints: list[dict], val_images: int) -> Path:
    """Export the run's best checkpoint as model.tflite (float32) and model-int8.tflite, each with its card."""
    plot_history(config.out / "history.csv", config.out / "history.png")
    card = ModelCard(
        version=f"{DEFAULT_MODEL_NAME}-{config.version}",
        input_size=config.input_size,
        mapping=LabelMapping.parse(config.mapping).mapping,
        architecture=config.describe(),
        training=asdict(config) | {"best_val_accuracy": best_val_accuracy(config.out / "history.csv")},
        data={"fingerprints": fingerprints, "train_images": len(train_set.images), "val_images": val_images},
    )
    (config.out / "config.json").write_text(json.dumps(card.training, indent=2, default=str))
    return export_model(best_model(config), card, config.out, train_set.images)


def best_model(config: TrainConfig) -> keras.Model:
    """A run's best checkpoint, giving the 3 class probabilities (an emotion head summed into them)."""
    model = keras.models.load_model(config.out / "best.keras", compile=False)
    return sum_into_classes(model, class_matrix(config)) if config.head == "emotions" else model


def export_model(model: keras.Model, card: ModelCard, out: Path, train_images: np.ndarray) -> Path:
    """model-int8.tflite (calibrated on about 300 training faces) and model.tflite (float32), each with its card."""
    calibration = resize_all(train_images[:: max(1, len(train_images) // 300)], card.input_size)
    export_tflite(model, out / "model-int8.tflite", copy.deepcopy(card), calibration.astype(np.float32))
    return export_tflite(model, out / "model.tflite", card)


def best_val_accuracy(history_csv: Path) -> float:
    with history_csv.open() as handle:
        return max(float(row["val_accuracy"]) for row in csv.DictReader(handle))


def plot_history(history_csv: Path, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [float(r[metric]) for r in rows], label="train")
        ax.plot(epochs, [float(r[f"val_{metric}"]) for r in rows], label="validation (PublicTest)")
        ax.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
