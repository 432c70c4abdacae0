"""Resumable training of the expression model on CPU: fit, checkpoint, progressive-resizing stages."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np

from monitor.errors import EngageError
from training.config import TRAINED_ON, Stage, TrainConfig
from training.data import load_dataset
from training.datasets import TrainingBatches, class_matrix, load_training_data, validation_arrays
from training.distil import append_aux_targets, blend_labels, distil, load_teachers
from training.labels import LabelMapping
from training.model import AUX_HEAD, backbone_of, build_model, head_of


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


def class_accuracy(class_matrix: np.ndarray) -> Callable[[Any, Any], Any]:
    """Accuracy over the 3 classes of the main head, whose outputs the (outputs, 3) matrix sums into the classes
    (an auxiliary head's outputs follow them and are left out)."""
    matrix = class_matrix.astype(np.float32)
    width = len(class_matrix)

    def accuracy(y_true: Any, y_pred: Any) -> Any:
        summed = (keras.ops.matmul(y_true[:, :width], matrix), keras.ops.matmul(y_pred[:, :width], matrix))
        return keras.metrics.categorical_accuracy(*summed)

    return accuracy


def heads_crossentropy(main_outputs: int, aux_weight: float) -> Callable[[Any, Any], Any]:
    """Cross-entropy of the main head (the first `main_outputs`) plus `aux_weight` times the auxiliary head's."""

    def loss(y_true: Any, y_pred: Any) -> Any:
        main = keras.losses.categorical_crossentropy(y_true[:, :main_outputs], y_pred[:, :main_outputs])
        aux = keras.losses.categorical_crossentropy(y_true[:, main_outputs:], y_pred[:, main_outputs:])
        return main + aux_weight * aux

    return loss


RUN_RECORD = "run.json"


class ResumedCheckpoint(keras.callbacks.ModelCheckpoint):
    """The best-epoch checkpoint, which on a resumed run only replaces `best.keras` when it beats the epochs before."""

    def __init__(self, path: Path, earlier: list[float]) -> None:
        super().__init__(
            str(path),
            monitor="val_accuracy",
            mode="max",
            save_best_only=True,
            initial_value_threshold=max(earlier) if earlier else None,
        )


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping whose patience counts the epochs a resumed run finished before it was stopped."""

    def __init__(self, patience: int, earlier: list[float]) -> None:
        super().__init__(monitor="val_accuracy", mode="max", patience=patience)
        self.earlier = earlier

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        if self.earlier:
            self.best = max(self.earlier)
            self.best_weights = None
            self.wait = len(self.earlier) - 1 - self.earlier.index(self.best)


def finished_epochs(out: Path) -> list[float]:
    """The validation accuracy of each epoch a run folder's history.csv holds, up to its last backup's epoch (a
    run killed between the log and the backup repeats that epoch)."""
    history = out / "history.csv"
    if not history.is_file():
        return []
    with history.open() as handle:
        scores = [float(row["val_accuracy"]) for row in csv.DictReader(handle)]
    metadata = out / "backup" / "training_metadata.json"
    if metadata.is_file():
        scores = scores[: json.loads(metadata.read_text())["epoch"]]
    elif not (out / "best.keras").is_file():
        scores = []
    return scores


def train(config: TrainConfig) -> Path:
    """Train (resuming if `out` holds a backup), keep the best epoch on validation accuracy, export it.

    A resumed run restores the weights, optimizer state and epoch from the backup, the best epoch's score and the
    early-stopping count from history.csv, and reseeds shuffling and augmentation from the seed and that epoch."""
    earlier = finished_epochs(config.out)
    fitted = bool(earlier) and (config.out / "best.keras").is_file() and not (config.out / "backup").is_dir()
    keras.utils.set_random_seed(config.seed)
    train_set, val_set, fingerprints = load_training_data(config)
    config.out.mkdir(parents=True, exist_ok=True)  # after the data loaded: a bad --data leaves no empty run
    mapping = LabelMapping.parse(config.mapping)
    if config.blend_labels:
        second = load_dataset(config.blend_labels, mapping).subset("train")
        train_set, matched = blend_labels(train_set, second, config.blend_weight)
        print(f"blended {config.blend_weight:g} of {second.source} into {matched} training faces", flush=True)
    if config.teachers:
        teachers = load_teachers(config.teachers, mapping.mapping)
        train_set = distil(train_set, teachers, config.teacher_weight)
    if config.aux_labels:
        second = load_dataset(config.aux_labels, mapping)
        train_set, matched = append_aux_targets(train_set, second.subset("train"))
        val_set, _ = append_aux_targets(val_set, second.subset("val"))
        print(f"auxiliary head learns {second.source} on {matched} training faces", flush=True)
    batches = TrainingBatches(train_set, config, first_epoch=len(earlier))
    steps = len(batches)
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
        loss=heads_crossentropy(len(matrix), config.aux_weight) if config.aux_labels else "categorical_crossentropy",
        metrics=[class_accuracy(matrix)],
        jit_compile=keras.backend.backend() == "jax",  # XLA measured 4.7x slower on this CPU under TensorFlow
    )
    best = config.out / "best.keras"
    if earlier and not fitted:
        print(f"resuming {config.out} after epoch {len(earlier)}/{config.epochs}", flush=True)
        keras.utils.set_random_seed(config.seed + 1000 * len(earlier))
        _rewrite_history(config.out / "history.csv", len(earlier))
    # with EMA, the averaged weights are swapped in after the backup (which must resume the raw ones),
    # for validation and the best checkpoint
    swap_ema = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if config.ema else []
    callbacks = [
        keras.callbacks.BackupAndRestore(str(config.out / "backup"), double_checkpoint=True),
        *swap_ema,
        ResumedCheckpoint(best, earlier),
        ResumedEarlyStopping(config.patience, earlier),
        keras.callbacks.CSVLogger(str(config.out / "history.csv"), append=True),
        EpochProgress(config.epochs),
    ]
    if config.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.3, patience=4))
    if not fitted:  # a run killed while it exported goes straight to the export
        record_machine(config.out)
        model.fit(
            batches,
            validation_data=validation_arrays(val_set, config),
            validation_batch_size=256,
            epochs=config.epochs,
            callbacks=callbacks,
            verbose=1 if sys.stdout.isatty() else 0,
        )
    if keras.backend.backend() != "tensorflow":  # `engage train --export RUN` exports it where TensorFlow is
        return config.out / "best.keras"
    from training.export import export_run  # TensorFlow's converter: on the TensorFlow side only

    return export_run(config, train_set, fingerprints, len(val_set.images))


def record_machine(out: Path) -> None:
    """Which Keras backend and machine train the run (`trained-on.json`): the card names them."""
    import platform

    devices = [str(d) for d in keras.distribution.list_devices()]
    machine = {
        "backend": keras.backend.backend(),
        "host": platform.node(),
        "cpu_cores": os.cpu_count(),
        "devices": devices,
    }
    (out / TRAINED_ON).write_text(json.dumps(machine, indent=2))


def _rewrite_history(history: Path, epochs: int) -> None:
    """Keep the header and the first `epochs` rows of history.csv (a killed run may have logged one epoch more than
    its backup holds), so the resumed epochs append after them."""
    lines = history.read_text().splitlines(keepends=True)
    history.write_text("".join(lines[: epochs + 1]))


def record_run(config: TrainConfig, stages: list[Stage]) -> None:
    """Write the run's settings to `out/run.json` at its start, so `engage train --resume OUT` continues it."""
    config.out.mkdir(parents=True, exist_ok=True)
    record = {"config": asdict(config), "stages": [asdict(stage) for stage in stages]}
    (config.out / RUN_RECORD).write_text(json.dumps(record, indent=2, default=str))


def resumed_run(run: Path) -> tuple[TrainConfig, list[Stage]]:
    """The settings and stages a run started with, read from its run.json."""
    try:
        record = json.loads((run / RUN_RECORD).read_text())
    except FileNotFoundError:
        raise EngageError(f"{run}: no {RUN_RECORD}, so not a run engage train started; give its --data again") from None
    except json.JSONDecodeError as exc:
        raise EngageError(f"{run / RUN_RECORD}: not valid JSON ({exc})") from None
    return TrainConfig.from_dict(record["config"], run), [Stage(**stage) for stage in record["stages"]]


def stage_runs(config: TrainConfig, stages: list[Stage]) -> list[TrainConfig]:
    """Each stage's run: its folder `out/stageN-SIZEpx`, its settings, and the previous stage's best checkpoint to
    start from (the first stage from `init_from`, if any); the run itself when it has no stages."""
    runs, init_from = [], config.init_from
    for number, stage in enumerate(stages, start=1):
        out = config.out / f"stage{number}-{stage.input_size}px"
        runs.append(replace(config, out=out, init_from=init_from, **asdict(stage)))
        init_from = out / "best.keras"
    return runs or [config]


def train_stages(config: TrainConfig, stages: list[Stage]) -> Path:
    """Progressive resizing: one run per stage, each starting from the previous stage's best checkpoint. Finished
    stages are kept, so a rerun resumes where it stopped."""
    runs = stage_runs(config, stages)
    for number, (stage, run) in enumerate(zip(stages, runs, strict=True), start=1):
        origin = f"from {run.init_from}" if run.init_from else "from scratch"
        print(
            f"stage {number}/{len(stages)}: {stage.input_size} px, {stage.epochs} epochs, lr {stage.learning_rate:g}, "
            f"{origin} -> {run.out}",
            flush=True,
        )
        if (run.out / "model.json").is_file():
            print(f"stage {number} finished earlier: kept", flush=True)
        else:
            train(run)
    last = runs[-1].out
    return last / "model.onnx" if keras.backend.backend() == "tensorflow" else last / "best.keras"


def export_trained(run: Path) -> Path:
    """Export a run trained where TensorFlow is not (Keras on JAX, on a lent GPU): each stage's best checkpoint
    not exported yet becomes model.onnx, model-int8.onnx and their cards, naming the backend and machine that
    trained it. The last stage's model."""
    from training.export import export_run

    config, stages = resumed_run(run)
    train_set, val_set, fingerprints = load_training_data(config)
    for step in stage_runs(config, stages):
        if not (step.out / "best.keras").is_file():
            raise EngageError(f"{step.out}: not trained yet (no best.keras); resume the run first")
        if not (step.out / "model.json").is_file():
            export_run(step, train_set, fingerprints, len(val_set.images))
    return step.out / "model.onnx"


def initial_model(config: TrainConfig, outputs: int) -> keras.Model:
    """A fresh model, or one carrying the weights of `init_from` (any input size: the layers are size-agnostic).

    The backbone always comes from `init_from`; its head too where it has as many outputs, and an auxiliary head
    starts from the source's auxiliary head, or else from its main head.
    """
    model = build_model(
        config.input_size, config.alpha, config.pooling, config.dropout, outputs, aux_head=config.aux_labels is not None
    )
    if config.init_from:
        source = keras.models.load_model(config.init_from, compile=False)
        weights = backbone_of(source).get_weights()
        if [w.shape for w in weights] != [w.shape for w in backbone_of(model).get_weights()]:
            raise EngageError(
                f"{config.init_from}: its layers do not match MobileNet alpha={config.alpha}; "
                "pass the --alpha it was trained with"
            )
        backbone_of(model).set_weights(weights)
        pairs = [(head_of(source), head_of(model))]
        if config.aux_labels:
            has_aux = AUX_HEAD in [layer.name for layer in source.layers]
            pairs.append((source.get_layer(AUX_HEAD) if has_aux else head_of(source), model.get_layer(AUX_HEAD)))
        for origin, head in pairs:
            if origin.kernel.shape == head.kernel.shape:
                head.set_weights(origin.get_weights())
    return model
