"""Export a trained Keras model to the runtime artifact: .tflite (float32 or int8) plus its JSON card."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from monitor.model import ModelCard, card_path_for


def export_tflite(model: keras.Model, path: Path, card: ModelCard, calibration: np.ndarray | None = None) -> Path:
    """Write `path` (.tflite) and its card; with `calibration` inputs, quantize weights and activations to int8."""
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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(converter.convert())
    card.write(card_path_for(path))
    return path
