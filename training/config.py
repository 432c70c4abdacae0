"""Training settings: every `engage train` option in one dataclass, and progressive-resizing stages."""

from __future__ import annotations

import argparse
import json
import types
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args, get_type_hints

from monitor.errors import EngageError

TRAINED_ON = "trained-on.json"  # in a run folder: the Keras backend and machine that trained it


def option(default: Any = MISSING, help: str = "", *, flag: str = "", **cli: Any) -> Any:
    """A TrainConfig field that carries its own `engage train` option: flag (default: the name with dashes), help
    and argparse extras (choices, action). The default is written here once, for the CLI and the dataclass alike."""
    factory = {"default_factory": lambda: list(default)} if isinstance(default, list) else {"default": default}
    return field(**factory, metadata={"help": help, "flag": flag, **cli})


@dataclass
class TrainConfig:
    """Every setting of a training run; `engage train`'s options are made from these fields (`add_train_options`)."""

    data: list[Path] = option([], "fer2013.csv, a train/ test/ image folder or FER+ fer2013new.csv (repeatable)")
    out: Path = option(Path("runs/model"), "run folder (resumes if present)")
    soft_labels: bool = option(True, "FER+: majority labels instead of vote shares", flag="--hard-labels")
    mapping: str = option("", "overrides such as 'surprise=neutral,contempt=drop'")
    ferplus_images: Path | None = option(
        None, "FER+ image root holding FER2013Train/ (default: beside the csv)", flag="--images"
    )
    input_size: int = option(64, "input size in px")
    alpha: float = option(0.75, "MobileNet width multiplier")
    pooling: str = option("avg", "global pooling", choices=("avg", "max"))
    dropout: float = option(0.3, "dropout before the head")
    epochs: int = option(45, "epochs")
    batch_size: int = option(64, "batch size")
    learning_rate: float = option(2e-3, "peak learning rate", flag="--lr")
    weight_decay: float = option(1e-4, "AdamW decoupled weight decay")
    schedule: str = option(
        "cosine", "learning-rate schedule (plateau: reduce on plateau)", choices=("cosine", "plateau")
    )
    patience: int = option(45, "early-stopping patience in epochs")
    class_weights: str = option("sqrt", "class weights", choices=("sqrt", "balanced", "none"))
    head: str = option(
        "classes",
        "emotions: learn every mapped emotion (FER+ votes), summed into the 3 classes in the exported model",
        choices=("classes", "emotions"),
    )
    max_steps: int | None = option(None, "cap steps per epoch (smoke runs)")
    seed: int = option(
        13, "seed of the initial weights, shuffling and augmentation (another seed: another ensemble member)"
    )
    superres: Path | None = option(None, "EDSR/ESPCN/FSRCNN/LapSRN .pb for cv2.dnn_superres")
    align: bool = option(
        False,
        "re-frame every face as the runtime crops faces (YuNet's landmarks aligned to the FER framing, when the "
        "data loads)",
    )
    init_from: Path | None = option(None, "start from this .keras model's weights (same --alpha, any --input-size)")
    teachers: list[Path] = option(
        [],
        "distil: an .onnx whose mirror-averaged predictions join the training targets (repeatable)",
        flag="--teacher",
    )
    teacher_weight: float = option(0.5, "share of the teachers in the targets (0-1]")
    blend_labels: Path | None = option(
        None,
        "a second label set of the same faces (FER2013's csv or image folders) whose label joins each matched "
        "face's target",
    )
    blend_weight: float = option(0.3, "share of --blend-labels in the targets (0-1]")
    aux_labels: Path | None = option(
        None,
        "a second label set of the same faces learnt by an auxiliary head that shares the features (the exported "
        "model keeps the main head)",
    )
    aux_weight: float = option(0.5, "weight of the auxiliary head's loss (> 0)")
    mixup: float = option(0.0, "mixup Beta(a, a) parameter, e.g. 0.2 (0 = off)")
    ema: float = option(0.0, "validate and export an EMA of the weights, e.g. 0.999 (0 = off)")
    erase: float = option(0.0, "random erasing: share of faces given a noise patch (0 = off)")
    shrink: float = option(
        0.0,
        "share of faces shrunk to --shrink-smallest to --shrink-largest px and upscaled back, as back-row faces "
        "look (0 = off)",
    )
    shrink_smallest: int = option(20, "the smallest side in px a face is shrunk to (8-48)")
    shrink_largest: int = option(40, "the largest side in px a face is shrunk to (8-48)")
    validate_size: int | None = option(
        None,
        "keep the epoch that classifies the validation faces best when shrunk to this many px, as the run's target "
        "faces look (8-48; default: the whole faces)",
    )
    shrink_jpeg: int = option(
        0, "JPEG-compress the shrunk faces at a random quality from this to 95, as a webcam frame (0 = off)"
    )
    version: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y.%m.%d"))  # not an option

    def __post_init__(self) -> None:
        """Option values out of range are exit-2 errors before any data is read."""
        from training.labels import LabelMapping  # numpy: kept out of `engage --help`

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
        if self.align and (self.blend_labels or self.aux_labels):
            raise EngageError(
                "--align re-frames the faces, and --blend-labels and --aux-labels find their faces by the pixels; "
                "use one or the other"
            )
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
        if not 8 <= self.shrink_smallest <= self.shrink_largest <= 48:
            raise EngageError(
                f"--shrink-smallest {self.shrink_smallest} --shrink-largest {self.shrink_largest}: give 8 <= smallest "
                "<= largest <= 48 px (FER faces are 48 px)"
            )
        if self.validate_size is not None and not 8 <= self.validate_size <= 48:
            raise EngageError(f"--validate-size {self.validate_size}: give 8-48 px (FER faces are 48 px)")
        if self.shrink_jpeg and not self.shrink:
            raise EngageError("--shrink-jpeg compresses the shrunk faces; give --shrink too")

    @classmethod
    def read(cls, run: Path) -> TrainConfig:
        """The config a finished run wrote to its config.json."""
        try:
            raw = json.loads((run / "config.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError) as exc:
            raise EngageError(f"{run}: not a finished training run ({exc})") from None
        return cls.from_dict(raw, run)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], run: Path) -> TrainConfig:
        """A config from its JSON form (`asdict` with paths as strings), its `out` set to `run`."""
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


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """`engage train`'s options, one per TrainConfig field that has a help text: flag, type, default and help all
    come from the field."""
    hints = get_type_hints(TrainConfig)
    for spec in fields(TrainConfig):
        if "help" not in spec.metadata:
            continue
        extras = {k: v for k, v in spec.metadata.items() if k not in ("help", "flag")}
        flag = spec.metadata["flag"] or "--" + spec.name.replace("_", "-")
        kind = hints[spec.name]
        if kind is bool:
            action = "store_false" if spec.default else "store_true"
            parser.add_argument(flag, dest=spec.name, action=action, help=spec.metadata["help"], **extras)
            parser.set_defaults(**{spec.name: spec.default})
            continue
        default = spec.default_factory() if spec.default is MISSING else spec.default  # type: ignore[misc]
        if isinstance(kind, types.UnionType):  # X | None
            kind = next(arg for arg in get_args(kind) if arg is not type(None))
        if getattr(kind, "__origin__", None) is list:
            kind, extras = get_args(kind)[0], {"action": "append", **extras}
        shown = "" if default in (None, [], "") or extras.get("required") else " (default: %(default)s)"
        metavar = flag.removeprefix("--").upper().replace("-", "_")
        parser.add_argument(
            flag,
            dest=spec.name,
            type=kind,
            default=default,
            metavar=metavar,
            help=spec.metadata["help"] + shown,
            **extras,
        )
