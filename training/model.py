"""The MobileNet expression classifier: grey input, scaling inside, pooled features, a softmax head (and, in
training only, an auxiliary head learning a second label set of the same faces)."""

from __future__ import annotations

import keras
import numpy as np

from monitor.core import CLASSES

AUX_HEAD = "aux_expression"


def build_model(
    input_size: int,
    alpha: float,
    pooling: str = "avg",
    dropout: float = 0.3,
    outputs: int = len(CLASSES),
    aux_head: bool = False,
) -> keras.Model:
    """MobileNet backbone (random init: ImageNet weights cannot be fetched offline) with a softmax head.

    The model takes float32 grey levels 0-255 of shape (input_size, input_size, 1) and gives `outputs`
    probabilities: the 3 classes, or one per emotion for a model that `sum_into_classes` finishes. With
    `aux_head`, a second 3-class softmax on the same features follows them (outputs + 3 in all); `main_head`
    cuts it off for export.
    """
    inputs = keras.Input((input_size, input_size, 1), name="face")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    backbone = keras.applications.MobileNet(
        input_shape=(input_size, input_size, 1), alpha=alpha, include_top=False, weights=None
    )
    x = backbone(x)
    pool = keras.layers.GlobalAveragePooling2D if pooling == "avg" else keras.layers.GlobalMaxPooling2D
    x = pool()(x)
    x = keras.layers.Dropout(dropout)(x)
    head = "expression" if outputs == len(CLASSES) else "emotion"
    probabilities = keras.layers.Dense(outputs, activation="softmax", name=head)(x)
    if aux_head:
        aux = keras.layers.Dense(len(CLASSES), activation="softmax", name=AUX_HEAD)(x)
        probabilities = keras.layers.Concatenate(name="both_heads")([probabilities, aux])
    return keras.Model(inputs, probabilities, name=f"mobilenet_a{alpha}_{input_size}px")


def sum_into_classes(model: keras.Model, class_matrix: np.ndarray) -> keras.Model:
    """The emotion model followed by a fixed (emotions, 3) 0/1 matrix: class probability = sum of its emotions'."""
    summing = keras.layers.Dense(len(CLASSES), use_bias=False, trainable=False, name="expression")
    outputs = summing(model.output)
    summing.set_weights([class_matrix.astype(np.float32)])
    return keras.Model(model.input, outputs, name=model.name)


def main_head(model: keras.Model) -> keras.Model:
    """A model built with `aux_head`, giving its main head's probabilities alone."""
    return keras.Model(model.input, head_of(model).output, name=model.name)


def head_of(model: keras.Model) -> keras.layers.Dense:
    """The main softmax head of a model built by `build_model`."""
    return next(layer for layer in model.layers if layer.name in ("expression", "emotion"))


def backbone_of(model: keras.Model) -> keras.Model:
    """The MobileNet inside a model built by `build_model`."""
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))
