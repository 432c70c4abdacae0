"""Training settings: every `engage train` option in one dataclass, and progressive-resizing stages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

from monitor.errors import EngageError
from training.labels import LabelMapping


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
    aux_labels: Path | None = None  # a second label set of the same faces learnt by an auxiliary head (not exported)
    aux_weight: float = 0.5
    mixup: float = 0.0  # Beta(a, a) mixing of image pairs and their targets; 0 = off
    ema: float = 0.0  # momentum of an exponential moving average of the weights, used to validate and export; 0 = off
    erase: float = 0.0  # probability that a training face has a random patch replaced by noise; 0 = off
    shrink: float = 0.0  # probability that a training face is shrunk to 20-40 px and upscaled back; 0 = off
    shrink_jpeg: int = 0  # lowest JPEG quality (1-95) a shrunk face is compressed at before upscaling; 0 = off
    version: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y.%m.%d"))

    def __post_init__(self) -> None:
        """Option values out of range are exit-2 errors before any data is read."""
        LabelMapping.parse(self.mapping)
        if self.teachers and not 0 < self.teacher_weight <= 1:
            raise EngageError(f"--teacher-weight {self.teacher_weight}: give a value in (0, 1]")
        if self.teachers and self.head == "emotions":
            raise EngageError("--teacher gives class probabilities; use it with --head classes")
        if self.blend_labels and not 0 < self.blend_weight <= 1:
            raise EngageError(f"--blend-weight {self.blend_weight}: give a value in (0, 1]")
        if self.blend_labels and self.head == "emotions":
            raise EngageError("--blend-labels blends class targets; use it with --head classes")
        if self.aux_labels and self.aux_weight <= 0:
            raise EngageError(f"--aux-weight {self.aux_weight}: give a weight > 0, e.g. 0.5")
        if self.aux_labels and self.head == "emotions":
            raise EngageError("--aux-labels adds a class head beside the main one; use it with --head classes")
        if self.mixup < 0:
            raise EngageError(f"--mixup {self.mixup}: give a Beta parameter > 0, or 0 for no mixup")
        if not 0 <= self.ema < 1:
            raise EngageError(f"--ema {self.ema}: give a momentum in (0, 1), e.g. 0.999, or 0 for no averaging")
        if not 0 <= self.erase <= 1:
            raise EngageError(f"--erase {self.erase}: give a probability in [0, 1], e.g. 0.5, or 0 for no erasing")
        if not 0 <= self.shrink <= 1:
            raise EngageError(f"--shrink {self.shrink}: give a probability in [0, 1], e.g. 0.3, or 0 for no shrinking")
        if self.shrink_jpeg and not 1 <= self.shrink_jpeg <= 95:
            raise EngageError(
                f"--shrink-jpeg {self.shrink_jpeg}: give a JPEG quality in [1, 95], e.g. 40, or 0 for none"
            )
        if self.shrink_jpeg and not self.shrink:
            raise EngageError("--shrink-jpeg compresses the shrunk faces; give --shrink too")

    @classmethod
    def read(cls, run: Path) -> TrainConfig:
        """The config a finished run wrote to its config.json."""
        try:
            raw = json.loads((run / "config.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError) as exc:
            raise EngageError(f"{run}: not a finished training run ({exc})") from None
        config = cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})
        config.data, config.teachers = [Path(p) for p in config.data], [Path(p) for p in config.teachers]
        for name in ("ferplus_images", "superres", "init_from", "blend_labels", "aux_labels"):
            value = getattr(config, name)
            setattr(config, name, Path(value) if value else None)
        config.out = run
        return config

    def describe(self) -> str:
        """The architecture line of the model card."""
        head = "Dense(emotions) softmax summed into 3 classes" if self.head == "emotions" else "Dense(3) softmax"
        if self.aux_labels:
            head += f" (trained beside an auxiliary Dense(3) head on {self.aux_labels}, weight {self.aux_weight:g})"
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
