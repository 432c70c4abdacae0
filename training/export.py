"""The one artifact a run produces: its best checkpoint as .onnx (float32 and int8), each with its JSON card.

TensorFlow's own converter folds and quantizes the Keras model (LiteRT flatbuffer); tf2onnx turns that into the
ONNX graph the runtime loads with ONNX Runtime, int8 tensors kept as QuantizeLinear / DequantizeLinear pairs."""

from __future__ import annotations

import copy
import csv
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from monitor.errors import EngageError
from monitor.perception.model import DEFAULT_MODEL_NAME, ModelCard, card_path_for
from training.augment import resize_all
from training.config import TRAINED_ON, TrainConfig
from training.data import LabelledImages
from training.datasets import class_matrix
from training.labels import LabelMapping
from training.model import main_head, sum_into_classes

ONNX_OPSET = 17


def export_onnx(model: keras.Model, path: Path, card: ModelCard, calibration: np.ndarray | None = None) -> Path:
    """Write `path` (.onnx) and its card; with `calibration` inputs, quantize weights and activations to int8."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if calibration is not None:

        def representative() -> Iterator[list[np.ndarray]]:
            for sample in calibration:
                yield [sample[None].astype(np.float32)]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        card.quantization = "int8"
    else:
        card.quantization = "float32"
    with tempfile.TemporaryDirectory(prefix="engage-export-") as folder:
        flatbuffer = Path(folder) / "model.tflite"
        flatbuffer.write_bytes(converter.convert())
        return convert_tflite(flatbuffer, path, card)


def convert_tflite(flatbuffer: Path, path: Path, card: ModelCard) -> Path:
    """Convert a LiteRT flatbuffer (what earlier engage releases shipped) to `path` (.onnx) and write its card."""
    import tf2onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        tf2onnx.convert.from_tflite(str(flatbuffer), opset=ONNX_OPSET, output_path=str(path))
    except Exception as exc:  # tf2onnx raises whatever its parser meets in a foreign file
        raise EngageError(f"{flatbuffer} could not be converted to ONNX: {str(exc).splitlines()[0]}") from None
    card.training = card.training | {"exported": f"LiteRT flatbuffer -> ONNX opset {ONNX_OPSET} by tf2onnx"}
    card.write(card_path_for(path))
    return path


def export_run(config: TrainConfig, train_set: LabelledImages, fingerprints: list[dict], val_images: int) -> Path:
    """Export the run's best checkpoint as model.onnx (float32) and model-int8.onnx, each with its card."""
    validation = f"PublicTest at {config.validate_size} px" if config.validate_size else "PublicTest"
    plot_history(config.out / "history.csv", config.out / "history.png", validation)
    card = ModelCard(
        version=f"{DEFAULT_MODEL_NAME}-{config.version}",
        input_size=config.input_size,
        mapping=LabelMapping.parse(config.mapping).mapping,
        architecture=config.describe(),
        training=asdict(config)
        | {"best_val_accuracy": best_val_accuracy(config.out / "history.csv"), "trained_on": trained_on(config.out)},
        data={"fingerprints": fingerprints, "train_images": len(train_set.images), "val_images": val_images},
    )
    (config.out / "config.json").write_text(json.dumps(card.training, indent=2, default=str))
    return export_model(best_model(config), card, config.out, train_set.images)


def trained_on(out: Path) -> dict:
    """The Keras backend and machine that trained a run (its trained-on.json); empty for runs from before it."""
    path = out / TRAINED_ON
    return json.loads(path.read_text()) if path.is_file() else {}


def best_model(config: TrainConfig) -> keras.Model:
    """A run's best checkpoint, giving the 3 class probabilities (an emotion head summed into them; an auxiliary
    head cut off)."""
    model = keras.models.load_model(config.out / "best.keras", compile=False)
    if config.aux_labels:
        model = main_head(model)
    return sum_into_classes(model, class_matrix(config)) if config.head == "emotions" else model


def export_model(model: keras.Model, card: ModelCard, out: Path, train_images: np.ndarray) -> Path:
    """model-int8.onnx (calibrated on about 300 training faces) and model.onnx (float32), each with its card."""
    calibration = resize_all(train_images[:: max(1, len(train_images) // 300)], card.input_size)
    export_onnx(model, out / "model-int8.onnx", copy.deepcopy(card), calibration.astype(np.float32))
    return export_onnx(model, out / "model.onnx", card)


def best_val_accuracy(history_csv: Path) -> float:
    with history_csv.open() as handle:
        return max(float(row["val_accuracy"]) for row in csv.DictReader(handle))


def plot_history(history_csv: Path, png: Path, validation: str = "PublicTest") -> None:
    """Loss and accuracy by epoch, training against `validation` (what the best epoch was chosen on)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with history_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) + 1 for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, [float(r[metric]) for r in rows], label="train")
        ax.plot(epochs, [float(r[f"val_{metric}"]) for r in rows], label=f"validation ({validation})")
        ax.set(xlabel="epoch", ylabel=metric, title=metric.capitalize())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
