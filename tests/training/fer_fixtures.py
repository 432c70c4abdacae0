"""Writers of small synthetic FER datasets in the three layouts users hold."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from training.labels import FER2013_EMOTIONS, FERPLUS_EMOTIONS

USAGES = ("Training", "PublicTest", "PrivateTest")


def face(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


def rows(per_usage: int = 14) -> list[tuple[int, str, int]]:
    """(emotion code, usage, seed) with every emotion in every split."""
    return [(i % 7, usage, 1000 * u + i) for u, usage in enumerate(USAGES) for i in range(per_usage)]


def write_fer2013_csv(path: Path, per_usage: int = 14) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        for emotion, usage, seed in rows(per_usage):
            writer.writerow([emotion, " ".join(map(str, face(seed).ravel())), usage])
    return path


def write_image_folders(root: Path, per_usage: int = 14) -> Path:
    for emotion, usage, seed in rows(per_usage):
        folder = root / ("train" if usage == "Training" else "test") / FER2013_EMOTIONS[emotion]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{usage}_{seed}.jpg"), face(seed))
    return root


def write_ferplus(root: Path, per_usage: int = 14) -> Path:
    folders = {"Training": "FER2013Train", "PublicTest": "FER2013Valid", "PrivateTest": "FER2013Test"}
    emotions = list(FERPLUS_EMOTIONS)
    root.mkdir(parents=True, exist_ok=True)
    csv_path = root / "fer2013new.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Usage", "Image name", *emotions, "unknown", "NF"])
        for n, (emotion, usage, seed) in enumerate(rows(per_usage)):
            votes = [0] * len(emotions)
            votes[emotion % len(emotions)] = 7
            votes[(emotion + 1) % len(emotions)] = 3
            name = f"fer{n:07d}.png"
            (root / "images" / folders[usage]).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / "images" / folders[usage] / name), face(seed))
            writer.writerow([usage, name, *votes, 0, 0])
        writer.writerow(["Training", "", 0, 0, 0, 0, 0, 0, 0, 0, 0, 10])  # not a face: no image name
    return csv_path
