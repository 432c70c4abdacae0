"""Optional super-resolution of the 48x48 training faces with OpenCV's dnn_superres (opencv-contrib)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from monitor.errors import EngageError
from training.data import LabelledImages

SUPPORTED = ("edsr", "espcn", "fsrcnn", "lapsrn")


def upscale_dataset(data: LabelledImages, model_file: Path, size: int) -> LabelledImages:
    """Upscale every face with the given model (e.g. ESPCN_x4.pb), then resize to the model's input `size`."""
    if not hasattr(cv2, "dnn_superres"):
        raise EngageError("super-resolution needs opencv-contrib-python==4.14.0.94 in place of opencv-python")
    if not model_file.is_file():
        raise EngageError(f"super-resolution model {model_file} not found (download an EDSR/ESPCN .pb yourself)")
    match = re.match(r"([a-z]+)_x(\d)", model_file.stem.lower())
    if not match or match[1] not in SUPPORTED:
        raise EngageError(f"{model_file.name}: name it like ESPCN_x4.pb (one of {SUPPORTED}, scale 2-4)")
    engine = cv2.dnn_superres.DnnSuperResImpl_create()
    engine.readModel(str(model_file))
    engine.setModel(match[1], int(match[2]))
    upscaled = []
    for image in data.images:
        big = engine.upsample(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
        grey = cv2.cvtColor(big, cv2.COLOR_BGR2GRAY)
        upscaled.append(cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA))
    return replace(data, source=f"{data.source} (super-resolved)", images=np.stack(upscaled))
