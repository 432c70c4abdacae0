"""Readers for the three FER layouts users hold, producing one in-memory labelled image set."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from monitor.core import CLASSES
from monitor.errors import EngageError
from training.labels import EMOTIONS, FER2013_EMOTIONS, FERPLUS_EMOTIONS, LabelMapping

IMAGE_SIZE = 48
SPLITS = ("train", "val", "test")
USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}
FERPLUS_FOLDERS = {"Training": "FER2013Train", "PublicTest": "FER2013Valid", "PrivateTest": "FER2013Test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass
class LabelledImages:
    """Grey 48x48 faces with their split and target distributions (one-hot or soft) over classes and emotions."""

    source: str
    images: np.ndarray  # (N, 48, 48) uint8
    targets: np.ndarray  # (N, 3) float32 over CLASSES, rows sum to 1
    splits: np.ndarray  # (N,) str: train / val / test
    emotions: np.ndarray  # (N, E) float32 over the mapping's emotions; summed by the mapping they give `targets`
    skipped: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if len(self.images) == 0:
            raise EngageError(f"{self.source}: no usable images found")

    def subset(self, split: str) -> LabelledImages:
        keep = self.splits == split
        return self.select(keep)

    def select(self, keep: np.ndarray) -> LabelledImages:
        """The images picked by a boolean mask or index array, with their labels."""
        return LabelledImages(
            self.source, self.images[keep], self.targets[keep], self.splits[keep], self.emotions[keep]
        )

    @property
    def labels(self) -> np.ndarray:
        """Hard class index per image (majority of the target distribution)."""
        return self.targets.argmax(axis=1)

    def fingerprint(self) -> str:
        digest = hashlib.sha256(self.images.tobytes())
        digest.update(self.targets.round(4).tobytes())
        digest.update("".join(self.splits).encode())
        return digest.hexdigest()[:16]

    def summary(self) -> str:
        counts = {s: int((self.splits == s).sum()) for s in SPLITS}
        per_class = Counter(CLASSES[i] for i in self.labels)
        text = f"{self.source}: {counts} classes {dict(per_class)}"
        if self.skipped:
            text += f" skipped {dict(self.skipped)}"
        return text


def _one_hot(indices: list[int], width: int) -> np.ndarray:
    return np.eye(width, dtype=np.float32)[np.asarray(indices, dtype=int)].reshape(-1, width)


def _read_grey(path: Path) -> np.ndarray | None:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        return None
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
        image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    return image


def read_fer2013_csv(path: Path, mapping: LabelMapping) -> LabelledImages:
    """The challenge file: `emotion,pixels,Usage` with 2304 grey levels per row."""
    images, labels, splits, skipped = [], [], [], Counter()
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or ())
        if missing:
            raise EngageError(f"{path}: missing column(s) {sorted(missing)}; expected emotion,pixels,Usage")
        for row_number, row in enumerate(reader, start=2):
            where = f"{path} row {row_number}"
            try:
                emotion = FER2013_EMOTIONS[int(row["emotion"])]
            except (ValueError, IndexError):
                raise EngageError(f"{where}: unknown emotion {row['emotion']!r} (expected 0-6)") from None
            split = USAGE_TO_SPLIT.get(row["Usage"])
            if split is None:
                raise EngageError(f"{where}: unknown Usage {row['Usage']!r}; expected {list(USAGE_TO_SPLIT)}")
            try:
                pixels = np.array(row["pixels"].split(), dtype=np.int32)
            except ValueError:
                raise EngageError(f"{where}: pixels are not integers") from None
            if pixels.size != IMAGE_SIZE * IMAGE_SIZE or pixels.min() < 0 or pixels.max() > 255:
                raise EngageError(f"{where}: expected {IMAGE_SIZE * IMAGE_SIZE} grey levels 0-255, got {pixels.size}")
            if emotion not in mapping.emotions:
                skipped[f"unmapped {emotion}"] += 1
                continue
            images.append(pixels.astype(np.uint8).reshape(IMAGE_SIZE, IMAGE_SIZE))
            labels.append(mapping.emotions.index(emotion))
            splits.append(split)
    return _assemble(str(path), mapping, images, _one_hot(labels, len(mapping.emotions)), splits, skipped)


def read_image_folders(root: Path, mapping: LabelMapping) -> LabelledImages:
    """`train/<emotion>/*.jpg` and `test/<emotion>/*.jpg`; test file-name prefixes tell PublicTest/PrivateTest."""
    images, labels, splits, skipped = [], [], [], Counter()
    for folder in ("train", "test"):
        split_root = root / folder
        emotion_dirs = sorted(p for p in split_root.iterdir() if p.is_dir()) if split_root.is_dir() else []
        if not emotion_dirs:
            raise EngageError(f"{split_root}: missing or empty; expected {folder}/<emotion>/ image folders")
        for emotion_dir in emotion_dirs:
            emotion = emotion_dir.name.lower()
            if emotion not in FER2013_EMOTIONS:
                raise EngageError(f"{emotion_dir}: unknown emotion folder; expected one of {list(FER2013_EMOTIONS)}")
            for file in sorted(emotion_dir.iterdir()):
                if file.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                split = "train" if folder == "train" else USAGE_TO_SPLIT.get(file.name.split("_", 1)[0])
                if split is None:
                    raise EngageError(f"{file}: cannot tell the split; expected a PublicTest_ or PrivateTest_ prefix")
                if emotion not in mapping.emotions:
                    skipped[f"unmapped {emotion}"] += 1
                    continue
                image = _read_grey(file)
                if image is None:
                    skipped["unreadable image"] += 1
                    continue
                images.append(image)
                labels.append(mapping.emotions.index(emotion))
                splits.append(split)
    return _assemble(str(root), mapping, images, _one_hot(labels, len(mapping.emotions)), splits, skipped)


def has_clear_majority(votes: np.ndarray) -> bool:
    """The FER+ authors' `majority` rule: with single votes dropped as outliers, one column holds over half the rest."""
    counted = np.where(votes > 1, votes, 0)
    return bool(counted.max() > counted.sum() / 2)


def read_ferplus(
    votes_csv: Path, image_root: Path, mapping: LabelMapping, soft: bool, clear_majority: bool = False
) -> LabelledImages:
    """FER+ votes joined on image name; majority label (or the vote distribution) mapped to 3 classes.

    Following the FER+ authors, images whose majority vote is unknown / not-a-face are excluded; with
    `clear_majority`, so are those without a clear majority (their test protocol).
    """
    kept = [EMOTIONS.index(e) for e in mapping.emotions]
    images, targets, splits, skipped = [], [], [], Counter()
    with votes_csv.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = ["Usage", "Image name", *FERPLUS_EMOTIONS, "unknown", "NF"]
        missing = set(columns) - set(reader.fieldnames or ())
        if missing:
            raise EngageError(f"{votes_csv}: missing FER+ column(s) {sorted(missing)}")
        for row_number, row in enumerate(reader, start=2):
            where = f"{votes_csv} row {row_number}"
            name = row["Image name"].strip()
            if not name:
                skipped["no image name (not a face)"] += 1
                continue
            split = USAGE_TO_SPLIT.get(row["Usage"])
            if split is None:
                raise EngageError(f"{where}: unknown Usage {row['Usage']!r}")
            try:
                all_votes = np.array([float(row[c]) for c in columns[2:]], dtype=np.float32)
            except ValueError:
                raise EngageError(f"{where}: vote counts are not numbers") from None
            votes, other = all_votes[: len(FERPLUS_EMOTIONS)], all_votes[len(FERPLUS_EMOTIONS) :].max()
            if clear_majority and not has_clear_majority(all_votes):
                skipped["no clear majority"] += 1
                continue
            if other >= votes.max():
                skipped["majority unknown / not a face"] += 1
                continue
            mapped_votes = votes[kept]
            if mapped_votes.sum() == 0:
                skipped["no mapped votes"] += 1
                continue
            if soft:
                target = mapped_votes / mapped_votes.sum()
            else:
                majority = EMOTIONS[int(votes.argmax())]
                if majority not in mapping.emotions:
                    skipped["unmapped majority"] += 1
                    continue
                target = _one_hot([mapping.emotions.index(majority)], len(kept))[0]
            file = image_root / FERPLUS_FOLDERS[row["Usage"]] / name
            image = _read_grey(file)
            if image is None:
                raise EngageError(f"{where}: image {file} is missing or unreadable (FER+ rows must match the images)")
            images.append(image)
            targets.append(target)
            splits.append(split)
    kind = "FER+ soft" if soft else "FER+ majority"
    emotion_targets = np.array(targets, np.float32).reshape(-1, len(kept))
    return _assemble(f"{kind} {votes_csv}", mapping, images, emotion_targets, splits, skipped)


def _assemble(
    source: str, mapping: LabelMapping, images: list, emotions: np.ndarray, splits: list, skipped: Counter
) -> LabelledImages:
    """Stack the images; the class targets are the emotion targets summed by the mapping."""
    stacked = np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    targets = (emotions @ mapping.class_matrix()).astype(np.float32)
    return LabelledImages(source, stacked, targets, np.array(splits), emotions.astype(np.float32), skipped)


def load_dataset(
    path: Path,
    mapping: LabelMapping,
    *,
    soft: bool = False,
    ferplus_images: Path | None = None,
    clear_majority: bool = False,
) -> LabelledImages:
    """Detect the layout of `path` and read it (`clear_majority`: FER+ only, see `read_ferplus`)."""
    if not path.exists():
        raise EngageError(f"{path}: no such file or folder")
    if (path / "fer2013new.csv").is_file():
        path = path / "fer2013new.csv"
    if path.is_dir():
        return read_image_folders(path, mapping)
    with path.open(newline="") as handle:
        header = handle.readline().strip().split(",")
    if header[:2] == ["Usage", "Image name"]:
        roots = [ferplus_images] if ferplus_images else [path.parent / "images", path.parent / "data", path.parent]
        root = next((r for r in roots if r and (r / "FER2013Train").is_dir()), None)
        if root is None:
            raise EngageError(f"{path}: FER+ image folders (FER2013Train, ...) not found; pass --images DIR")
        return read_ferplus(path, root, mapping, soft, clear_majority)
    if {"emotion", "pixels"} <= set(header):
        return read_fer2013_csv(path, mapping)
    raise EngageError(f"{path}: not a FER2013 csv, a FER+ fer2013new.csv or a train/ test/ image folder")
