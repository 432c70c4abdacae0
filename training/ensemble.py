"""Trained runs combined into one model that averages their probabilities: one .onnx + card for the runtime."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import keras

from monitor.errors import EngageError
from monitor.perception.model import DEFAULT_MODEL_NAME, ModelCard
from training.config import TrainConfig
from training.datasets import load_training_data
from training.export import best_model, export_model
from training.labels import LabelMapping


def average_of(models: list[keras.Model], input_size: int) -> keras.Model:
    """One model feeding the same face to every member and averaging their class probabilities."""
    inputs = keras.Input((input_size, input_size, 1), name="face")
    members = [keras.Model(m.input, m.output, name=f"member_{i}") for i, m in enumerate(models)]
    outputs = keras.layers.Average(name="expression")([member(inputs) for member in members])
    return keras.Model(inputs, outputs, name=f"ensemble_of_{len(models)}")


def combine(runs: list[Path], out: Path) -> Path:
    """Export the average of the runs' best checkpoints to `out` (model.onnx, model-int8.onnx, cards)."""
    if len(runs) < 2:
        raise EngageError("give at least two training runs to combine")
    for run in runs:
        if not (run / "best.keras").is_file():
            raise EngageError(f"{run}: not a finished training run (no best.keras)")
    configs = [TrainConfig.read(run) for run in runs]
    sizes = {c.input_size for c in configs}
    if len(sizes) > 1:
        raise EngageError(f"the runs take different input sizes {sorted(sizes)}; combine runs of one size")
    mappings = [LabelMapping.parse(c.mapping).mapping for c in configs]
    if any(m != mappings[0] for m in mappings):
        raise EngageError("the runs map emotions to classes differently; an ensemble needs one mapping")
    model = average_of([best_model(c) for c in configs], configs[0].input_size)
    train_set, val_set, fingerprints = load_training_data(configs[0])  # calibration faces for int8
    card = ModelCard(
        version=f"{DEFAULT_MODEL_NAME}-{configs[0].version}-ensemble{len(runs)}",
        input_size=configs[0].input_size,
        mapping=mappings[0],
        architecture=f"average of {len(runs)} models: " + "; ".join(c.describe() for c in configs),
        training={"members": [asdict(c) for c in configs]},
        data={"fingerprints": fingerprints, "train_images": len(train_set.images), "val_images": len(val_set.images)},
    )
    return export_model(model, card, out, train_set.images)
