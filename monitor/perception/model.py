"""The expression model artifact: an .onnx file and its JSON card, run with ONNX Runtime (wheels on every platform)."""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import cv2
import numpy as np

from monitor.core import CLASSES
from monitor.errors import EngageError
from monitor.perception.views import View, parse_views

DEFAULT_MODEL_NAME = "engage-expression"


@dataclass
class ModelCard:
    """Everything the runtime needs to feed the model, plus how it was made and how well it does."""

    version: str
    input_size: int  # square side in pixels
    color: str = "gray"  # the model takes one grey channel
    preprocessing: str = "grey crop resized with INTER_AREA, float32 0-255 (scaling is inside the model)"
    classes: list[str] = field(default_factory=lambda: list(CLASSES))
    mapping: dict[str, str] = field(default_factory=dict)
    architecture: str = ""
    quantization: str = "float32"
    views: list[str] = field(default_factory=lambda: ["full"])  # test-time views averaged (monitor.perception.views)
    class_bias: list[float] = field(default_factory=lambda: [0.0] * len(CLASSES))  # log-probability offsets
    # a model of several members, each with its own input and output: each member's weight for the faces whose side
    # in px is nearest each key (a member weighed 0 there is not run on them); empty: the model gives one average
    member_weights: dict[str, list[float]] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        """The card at `path`, every field checked against its declared type; anything else is one EngageError."""
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise EngageError(f"model card {path} is missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise EngageError(f"model card {path} is not a valid card: {exc}") from None
        if not isinstance(raw, dict):
            raise EngageError(f"model card {path} is not a valid card: not a JSON object")
        if raw.pop("flip_average", False) and "views" not in raw:  # cards written before views existed
            raw["views"] = ["full", "mirror"]
        hints = get_type_hints(cls)
        values = {}
        for spec in fields(cls):
            if spec.name not in raw:
                if spec.default is MISSING and spec.default_factory is MISSING:
                    raise EngageError(f"model card {path}: {spec.name} is missing")
                continue
            if not _is_a(raw[spec.name], hints[spec.name]):
                raise EngageError(
                    f"model card {path}: {spec.name} must be {_named(hints[spec.name])}, got {raw[spec.name]!r}"
                )
            values[spec.name] = raw[spec.name]
        card = cls(**values)
        if tuple(card.classes) != CLASSES or card.color != "gray" or card.input_size < 8:
            raise EngageError(f"model card {path}: unsupported classes/colour/size {card.classes} {card.color}")
        if len(card.class_bias) != len(CLASSES):
            raise EngageError(f"model card {path}: class_bias must be {len(CLASSES)} numbers, got {card.class_bias}")
        try:
            parse_views(card.views)
            card.weighing()
        except EngageError as exc:
            raise EngageError(f"model card {path}: {exc}") from None
        return card

    def weighing(self) -> MemberWeights | None:
        """The members' weights by face size, checked; None for a model that averages its members itself."""
        if not self.member_weights:
            return None
        try:
            sides = [int(side) for side in self.member_weights]
        except ValueError:
            raise EngageError(f"member_weights: sizes must be whole px, got {list(self.member_weights)}") from None
        rows = list(self.member_weights.values())
        if (
            len({len(row) for row in rows}) != 1
            or len(rows[0]) < 2
            or any(min(row) < 0 or sum(row) <= 0 for row in rows)
        ):
            raise EngageError("member_weights: one list per size of >= 2 weights >= 0 (not all 0), as many each")
        weights = np.array(rows, dtype=np.float32)
        order = np.argsort(sides)
        return MemberWeights(np.array(sides, dtype=np.float32)[order], weights[order] / weights[order].sum(1)[:, None])

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n")


@dataclass(frozen=True)
class MemberWeights:
    """Each member's weight at some face sides (px), rows summing to 1; a face takes the nearest side's row."""

    sides: np.ndarray  # (S,) ascending
    weights: np.ndarray  # (S, members)

    @property
    def members(self) -> int:
        return self.weights.shape[1]

    @property
    def networks(self) -> int:
        """The most members run on one face: those its side weighs above 0."""
        return int((self.weights > 0).sum(axis=1).max())

    def at(self, sides: np.ndarray) -> np.ndarray:
        """The weights for faces of these sides, shape (len(sides), members): the nearest listed side's (midway: the
        larger one's)."""
        bounds = (self.sides[:-1] + self.sides[1:]) / 2
        return self.weights[np.searchsorted(bounds, sides, side="right")]


def _is_a(value: Any, kind: Any) -> bool:
    """Whether a JSON value fits a field type: str, int, float (ints too), list[X], dict[str, X], Any."""
    origin = get_origin(kind)
    if kind is Any:
        return True
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is list:
        return isinstance(value, list) and all(_is_a(item, get_args(kind)[0]) for item in value)
    if origin is dict:
        key, item = get_args(kind)
        return isinstance(value, dict) and all(_is_a(k, key) and _is_a(v, item) for k, v in value.items())
    return isinstance(value, kind)


def _named(kind: Any) -> str:
    return getattr(kind, "__name__", None) if get_origin(kind) is None else str(kind)


def default_model_path() -> Path:
    return Path(str(resources.files("monitor") / "models" / "default.onnx"))


def card_path_for(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def resized(grey: np.ndarray, size: int) -> np.ndarray:
    """A grey image at size x size as the model takes it, for training and runtime alike (INTER_AREA to shrink)."""
    interpolation = cv2.INTER_AREA if min(grey.shape[:2]) >= size else cv2.INTER_LINEAR
    return cv2.resize(grey, (size, size), interpolation=interpolation)


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Log-probabilities floored at 1e-7: where a class bias is added, at runtime and when one is chosen alike."""
    return np.log(np.maximum(probabilities, 1e-7))


def with_class_bias(probabilities: np.ndarray, bias: list[float]) -> np.ndarray:
    """Probabilities re-weighted by per-class log-probability offsets (the card's `class_bias`), rows summing to 1."""
    if not any(bias):
        return probabilities
    logits = log_probabilities(probabilities) + np.asarray(bias, np.float32)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (weights / weights.sum(axis=-1, keepdims=True)).astype(np.float32)


def _session(model_path: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: a failure is our own one line below
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep, not spin
    try:
        return onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own classes for a broken or foreign file
        earlier = model_path.suffix == ".tflite"
        hint = "; a .tflite model of an earlier release: `engage convert` makes it .onnx" if earlier else ""
        raise EngageError(f"model {model_path} could not be loaded: {str(exc).splitlines()[0]}{hint}") from None


class ExpressionClassifier:
    """Classifies grey or colour face crops into positive / neutral / negative probabilities."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        """`threads` for ONNX Runtime; default: one per CPU core, at most 4 (classification waits on detection,
        so the two never compete for cores)."""
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not self.model_path.is_file():
            raise EngageError(f"model file {self.model_path} is missing")
        card = ModelCard.read(card_path_for(self.model_path))
        self._session = _session(self.model_path, threads or min(os.cpu_count() or 1, 4))
        self._inputs = [node.name for node in self._session.get_inputs()]
        expected = (card.input_size, card.input_size, 1)
        for node in self._session.get_inputs():
            if tuple(node.shape[1:]) != expected or node.type != "tensor(float)":
                raise EngageError(
                    f"model {self.model_path} input {node.shape} {node.type} does not match its card {expected} float"
                )
        if any(tuple(node.shape[1:]) != (len(CLASSES),) for node in self._session.get_outputs()):
            raise EngageError(
                f"model {self.model_path} outputs {[node.shape for node in self._session.get_outputs()]} are not "
                f"{len(CLASSES)} class probabilities per face"
            )
        self.card = card

    @property
    def card(self) -> ModelCard:
        return self._card

    @card.setter
    def card(self, card: ModelCard) -> None:
        """A card, its member weights checked against the model's members and read once, not on every `predict`."""
        weighing = card.weighing()
        if (weighing.members if weighing else 1) != len(self._inputs):
            raise EngageError(
                f"model {self.model_path} has {len(self._inputs)} member(s), each with its own input; its card weighs "
                f"{weighing.members if weighing else 1}"
            )
        self._card, self._weighing = card, weighing

    @property
    def version(self) -> str:
        return self.card.version

    @property
    def members(self) -> int:
        return len(self._inputs)

    def predict(self, crops: list[np.ndarray], view: int | None = None) -> np.ndarray:
        """Class probabilities averaged over the card's views (and its members, weighed by each crop's size where the
        card says so, each member run only on the crops it weighs) and shifted by its class bias, shape
        (len(crops), 3), from one model call; with `view`, from that one view alone (its index modulo the card's
        views), at a fraction of the cost."""
        if not crops:
            return np.zeros((0, len(CLASSES)), dtype=np.float32)
        inputs = self._view_inputs(crops, view)
        if self._weighing:
            weights = self._weighing.at(np.array([min(crop.shape[:2]) for crop in crops], dtype=np.float32))
            probabilities = np.einsum("nmc,nm->nc", self._by_member(inputs, weights > 0), weights).astype(np.float32)
        else:
            probabilities = self._by_member(inputs, np.ones((len(crops), 1), bool))[:, 0]
        return with_class_bias(probabilities, self.card.class_bias)

    def predict_members(self, crops: list[np.ndarray]) -> np.ndarray:
        """Every member's probabilities for every crop, averaged over the card's views, before any weighing or class
        bias: shape (len(crops), members, 3), what member weights are fitted on."""
        if not crops:
            return np.zeros((0, self.members, len(CLASSES)), dtype=np.float32)
        return self._by_member(self._view_inputs(crops, None), np.ones((len(crops), self.members), bool))

    def _view_inputs(self, crops: list[np.ndarray], view: int | None) -> np.ndarray:
        """The crops' views as model inputs, shape (crops, views, size, size, 1): the card's views, or one of them."""
        views = parse_views(self.card.views)
        if view is not None:
            views = (views[view % len(views)],)
        return np.stack([self._crop_inputs(crop, views) for crop in crops])

    def _crop_inputs(self, crop: np.ndarray, views: tuple[View, ...]) -> np.ndarray:
        """One crop (grey or BGR, any size) to its views as model inputs, shape (views, size, size, 1) float32."""
        if crop.ndim == 3:
            crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2GRAY if crop.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
        return np.stack([resized(view.of(crop), self.card.input_size) for view in views]).astype(np.float32)[..., None]

    def _by_member(self, inputs: np.ndarray, runs: np.ndarray) -> np.ndarray:
        """Each member's view-averaged probabilities, shape (crops, members, 3), from one model call that feeds each
        member only the crops `runs` (crops, members) marks; 0 where a member did not run."""
        crops, views = inputs.shape[:2]
        batches = [inputs[runs[:, member]].reshape(-1, *inputs.shape[2:]) for member in range(self.members)]
        outputs = self._session.run(None, dict(zip(self._inputs, batches, strict=True)))
        probabilities = np.zeros((crops, self.members, len(CLASSES)), dtype=np.float32)
        for member, output in enumerate(outputs):
            probabilities[runs[:, member], member] = output.reshape(-1, views, len(CLASSES)).mean(axis=1)
        return probabilities

    def predict_inputs(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities for model inputs of shape (n, size, size, 1): one row each, or (n, members, 3) for a model
        of several members, every member run on every input (no view averaging)."""
        batch = batch.astype(np.float32, copy=False)
        outputs = self._session.run(None, dict.fromkeys(self._inputs, batch))
        return outputs[0] if len(outputs) == 1 else np.stack(outputs, axis=1)
