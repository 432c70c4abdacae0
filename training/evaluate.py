"""PrivateTest evaluation of a shipped-format model (.onnx + card) through the runtime's own classifier."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from monitor.core import CLASSES
from monitor.perception.model import ExpressionClassifier, log_probabilities
from training.data import LabelledImages

Scored = tuple[np.ndarray, np.ndarray]  # (probabilities, labels) of one label set


@dataclass(frozen=True)
class Metrics:
    accuracy: float
    balanced_accuracy: float  # mean of the per-class recalls
    macro_f1: float
    per_class: dict[str, dict[str, float]]
    confusion: list[list[int]]  # rows: true class, columns: predicted class, in CLASSES order
    images: int

    def as_dict(self) -> dict[str, object]:
        return {
            "accuracy": round(self.accuracy, 4),
            "balanced_accuracy": round(self.balanced_accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "per_class": self.per_class,
            "confusion": self.confusion,
            "images": self.images,
        }


def metrics(labels: np.ndarray, predicted: np.ndarray) -> Metrics:
    n = len(CLASSES)
    confusion = np.zeros((n, n), dtype=int)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = {}
    for i, name in enumerate(CLASSES):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(confusion[i].sum()),
        }
    return Metrics(
        accuracy=float(np.trace(confusion) / max(confusion.sum(), 1)),
        balanced_accuracy=float(np.mean([c["recall"] for c in per_class.values()])),
        macro_f1=float(np.mean([c["f1"] for c in per_class.values()])),
        per_class=per_class,
        confusion=confusion.tolist(),
        images=int(confusion.sum()),
    )


@dataclass(frozen=True)
class LabelAgreement:
    """How often two label sets of the same faces name the same class.

    On the shared faces no model can score more than `1 + agreement` in the two accuracies summed:
    where the labels differ, a prediction can match at most one of them.
    """

    shared: int  # faces present in both sets, matched by their pixels
    agreement: float
    confusion: list[list[int]]  # rows: the first set's class, columns: the second set's, in CLASSES order

    def as_dict(self) -> dict[str, object]:
        return {"shared": self.shared, "agreement": round(self.agreement, 4), "confusion": self.confusion}


def match_faces(
    first: np.ndarray, second: np.ndarray, max_rms: float = 4.0, candidates: int = 4, chunk: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one index pairs of the same faces in two image stacks, closest first (JPEG noise tolerated).

    Each face's `candidates` nearest faces by 12x12 thumbnail are checked on every pixel, a chunk of faces at a
    time, so whole training sets (30k x 30k faces) match in seconds and little memory.
    """

    def thumbnails(images: np.ndarray) -> np.ndarray:
        small = [cv2.resize(image, (12, 12), interpolation=cv2.INTER_AREA) for image in images]
        return np.array(small, np.float32).reshape(len(images), -1)

    k = min(candidates, len(second))
    if not len(first) or not k:
        return np.zeros(0, int), np.zeros(0, int)
    a_small, b_small = thumbnails(first), thumbnails(second)
    b_norms = (b_small**2).sum(axis=1)
    a, b = first.reshape(len(first), -1).astype(np.float32), second.reshape(len(second), -1).astype(np.float32)
    rows, cols, distances = [], [], []
    for start in range(0, len(first), chunk):
        block = a_small[start : start + chunk]
        squared = (block**2).sum(axis=1)[:, None] - 2 * block @ b_small.T + b_norms[None]
        nearest = np.argpartition(squared, k - 1, axis=1)[:, :k]
        for offset, near in enumerate(nearest):
            rms = np.sqrt(((a[start + offset] - b[near]) ** 2).mean(axis=1))
            close = rms <= max_rms
            rows += [start + offset] * int(close.sum())
            cols += near[close].tolist()
            distances += rms[close].tolist()
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for index in np.argsort(distances, kind="stable"):
        i, j = rows[index], cols[index]
        if i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    return np.array(list(pairs), dtype=int), np.array(list(pairs.values()), dtype=int)


def compare_labels(first: LabelledImages, second: LabelledImages) -> tuple[LabelAgreement, LabelledImages | None]:
    """How often the two sets' labels agree on their shared faces, and those consensus faces (None if none)."""
    i, j = match_faces(first.images, second.images)
    confusion = metrics(first.labels[i], second.labels[j]).confusion
    agreed = i[first.labels[i] == second.labels[j]]
    agreement = LabelAgreement(len(i), len(agreed) / max(len(i), 1), confusion)
    if not len(agreed):
        return agreement, None
    return agreement, replace(first.select(agreed), source=f"{first.source} where {second.source} agrees")


def predict(
    classifier: ExpressionClassifier, images: np.ndarray, batch_size: int = 256, by_member: bool = False
) -> np.ndarray:
    """Probabilities for grey face images, preprocessed and averaged over views exactly as at runtime; `by_member`:
    every member's, shape (N, members, 3), before weighing and class bias."""
    run = classifier.predict_members if by_member else classifier.predict
    outputs = [run(list(images[start : start + batch_size])) for start in range(0, len(images), batch_size)]
    empty = (0, classifier.members, len(CLASSES)) if by_member else (0, len(CLASSES))
    return np.concatenate(outputs) if outputs else np.zeros(empty, np.float32)


def ensemble_predict(classifiers: list[ExpressionClassifier], images: np.ndarray) -> np.ndarray:
    """The models' probabilities averaged (one model: its own), shape (N, 3)."""
    return np.mean([predict(c, images) for c in classifiers], axis=0)


def bias_grid(limit: float = 1.5, step: float = 0.05) -> list[np.ndarray]:
    """Every log-probability offset per class (positive fixed at 0) from -limit to limit in steps of `step`."""
    offsets = np.round(np.arange(-limit, limit + step / 2, step), 6)
    return [np.array([0.0, neutral, negative]) for neutral in offsets for negative in offsets]


def fit_class_bias(scored: dict[str, Scored]) -> np.ndarray:
    """Log-probability offsets per class (positive fixed at 0) that maximise the balanced accuracy averaged over
    label sets, given each set's (probabilities, labels); a grid search, ties broken towards the smaller offset."""
    logs = [(log_probabilities(p), labels) for p, labels in scored.values()]

    def score(bias: np.ndarray) -> tuple[float, float]:
        balanced = np.mean([metrics(labels, (log + bias).argmax(axis=1)).balanced_accuracy for log, labels in logs])
        return round(float(balanced), 9), -float(np.abs(bias).sum())

    return max(bias_grid(), key=score)


def weight_grid(members: int, step: float = 0.05, most: int | None = None) -> list[np.ndarray]:
    """Every weighting of the members in steps of `step` (rows summing to 1) that weighs at most `most` of them above
    0 (default: all), the equal one first where it may."""
    parts, most = round(1 / step), most or members
    grid = [
        np.array(c) / parts
        for c in itertools.product(range(parts + 1), repeat=members)
        if sum(c) == parts and np.count_nonzero(c) <= most
    ]
    return [np.full(members, 1 / members), *grid] if most >= members else grid


def fit_member_weights(by_side: dict[int, Scored], most: int | None = None) -> dict[str, list[float]]:
    """Each face side's member weights that maximise the balanced accuracy of the weighed probabilities there, given
    (per-member probabilities (N, members, classes), labels) at each side, at most `most` members run on a face;
    ties go to the smaller log loss, then to the equal weighting."""
    fitted = {}
    for side, (probabilities, labels) in sorted(by_side.items()):

        def score(
            weights: np.ndarray, probabilities: np.ndarray = probabilities, labels: np.ndarray = labels
        ) -> tuple[float, float]:
            weighed = np.einsum("nmc,m->nc", probabilities, weights)
            log_loss = -log_probabilities(weighed)[np.arange(len(labels)), labels].mean()
            return round(metrics(labels, weighed.argmax(axis=1)).balanced_accuracy, 9), -round(float(log_loss), 9)

        best = max(weight_grid(probabilities.shape[1], most=most), key=score)
        fitted[str(side)] = [round(float(w), 4) for w in best]
    return fitted


@dataclass(frozen=True)
class TradeoffPoint:
    """A floor on the first label set's recall of one class, and the second set's accuracy under it: the most its
    labels allow any model, and what the model reaches with its best class bias (None where no bias meets it)."""

    floor: float
    label_ceiling: float
    accuracy: float | None
    smallest_recall: float | None  # the second set's smallest per-class recall at that bias
    bias: list[float] | None

    def as_dict(self) -> dict[str, object]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def accuracy_ceiling(
    agreement: LabelAgreement, first_labels: np.ndarray, second_faces: int, cls: int, floor: float
) -> float:
    """The most accuracy on the second label set any model can have while it recalls at least `floor` of the first
    set's faces of class `cls`.

    Such a model calls `cls` on ceil(floor x support) of those faces. The ones the second set labels `cls` too, or
    does not hold, cost nothing; each further one is a face the second set labels otherwise, so one miss there.
    """
    support = int((first_labels == cls).sum())
    row = agreement.confusion[cls]
    free = row[cls] + support - sum(row)
    forced = max(0, math.ceil(round(floor * support, 6)) - free)
    return 1 - forced / second_faces


def recall_tradeoff(
    first: Scored, second: Scored, agreement: LabelAgreement, cls: int, floors: tuple[float, ...]
) -> list[TradeoffPoint]:
    """For each floor on the first set's recall of `cls`: the labels' ceiling on the second set's accuracy, and the
    class bias (over `bias_grid`) giving the model's best accuracy on the second set while its recall meets it."""
    (first_p, first_labels), (second_p, second_labels) = first, second
    first_log, second_log = log_probabilities(first_p), log_probabilities(second_p)
    of_class = first_labels == cls
    candidates = []
    for bias in bias_grid():
        recall = float(((first_log[of_class] + bias).argmax(axis=1) == cls).mean())
        accuracy = float(((second_log + bias).argmax(axis=1) == second_labels).mean())
        candidates.append((recall, accuracy, -float(np.abs(bias).sum()), bias))
    points = []
    for floor in floors:
        ceiling = accuracy_ceiling(agreement, first_labels, len(second_labels), cls, floor)
        meeting = [c for c in candidates if c[0] >= floor]
        if not meeting:
            points.append(TradeoffPoint(floor, ceiling, None, None, None))
            continue
        _, accuracy, _, bias = max(meeting, key=lambda c: (c[1], c[2]))
        recalls = metrics(second_labels, (second_log + bias).argmax(axis=1)).per_class.values()
        smallest = min(r["recall"] for r in recalls)
        points.append(TradeoffPoint(floor, ceiling, accuracy, smallest, [round(float(b), 4) for b in bias]))
    return points


def plot_confusion(result: Metrics, title: str, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    confusion = np.array(result.confusion)
    shares = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(CLASSES)):
        for j in range(len(CLASSES)):
            colour = "white" if shares[i, j] > 0.5 else "black"
            ax.text(j, i, f"{shares[i, j]:.0%}\n({confusion[i, j]})", ha="center", va="center", color=colour)
    ax.set_xticks(range(len(CLASSES)), CLASSES)
    ax.set_yticks(range(len(CLASSES)), CLASSES)
    ax.set(
        xlabel="predicted",
        ylabel="true",
        title=f"{title}\naccuracy {result.accuracy:.3f}, balanced {result.balanced_accuracy:.3f}, "
        f"macro-F1 {result.macro_f1:.3f}",
    )
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def write_report(
    results: dict[str, Metrics],
    out: Path,
    agreements: dict[str, LabelAgreement],
    tradeoffs: dict[str, list[TradeoffPoint]],
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for name, result in results.items():
        plot_confusion(result, name, out / f"confusion-{name}.png")
    path = out / "evaluation.json"
    report: dict[str, object] = {k: v.as_dict() for k, v in (results | agreements).items()}
    report |= {name: [point.as_dict() for point in points] for name, points in tradeoffs.items()}
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path
