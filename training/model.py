"""The MobileNet expression classifier: grey input, scaling inside, pooled features, 3-way softmax."""

from __future__ import annotations

import keras

from training.labels import CLASSES


def build_model(input_size: int, alpha: float, pooling: str = "avg", dropout: float = 0.3) -> keras.Model:
    """MobileNet backbone (random init: ImageNet weights cannot be fetched offline) with a 3-class head.

    The model takes float32 grey levels 0-255 of shape (input_size, input_size, 1).
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
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax", name="expression")(x)
    return keras.Model(inputs, outputs, name=f"mobilenet_a{alpha}_{input_size}px")
