"""Fit the head-pose regression (monitor/perception/pose.py) on photos with known poses; its error by yaw range.

Run: python -m training.headpose ../shared/data/headpose [--out monitor/models/headpose.json] [--folds 5]
Reads `labels.csv` (file, yaw_deg, pitch_deg, roll_deg) and `images/`; faces are found by the bundled YuNet
exactly as the runtime finds them. Prints the mean absolute error of a `--folds`-fold cross-validation on those
photos (each face predicted by a fit that never saw it), by yaw range, then fits on all and writes the card.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np

from monitor.perception.detect import create_detector
from monitor.perception.pose import pose_features

RIDGE = 1.0
YAW_RANGES = ((0, 30), (30, 60), (60, 90))


def collect(folder: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """Features and (yaw, pitch) of every photo whose largest YuNet face has landmarks; and how many photos."""
    detector = create_detector("yunet")
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    features, targets = [], []
    for row in rows:
        faces = detector.detect(cv2.imread(str(folder / "images" / row["file"])))
        if faces and (face := max(faces, key=lambda f: f.box.area)).landmarks is not None:
            features.append(pose_features(face.landmarks, face.box))
            targets.append((float(row["yaw_deg"]), float(row["pitch_deg"])))
    return np.array(features), np.array(targets), len(rows)


def fit(features: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Ridge weights (features x 2), the constant column left unpenalised."""
    penalty = RIDGE * np.eye(features.shape[1])
    penalty[0, 0] = 0.0
    return np.linalg.solve(features.T @ features + penalty, features.T @ targets)


def cross_validated(features: np.ndarray, targets: np.ndarray, folds: int) -> np.ndarray:
    order = np.random.default_rng(0).permutation(len(features))
    predicted = np.zeros_like(targets)
    for held in np.array_split(order, folds):
        kept = np.setdiff1d(order, held)
        predicted[held] = features[held] @ fit(features[kept], targets[kept])
    return predicted


def report(targets: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, float]]:
    errors = np.abs(predicted - targets)
    table = {}
    for low, high in YAW_RANGES:
        rows = (np.abs(targets[:, 0]) >= low) & (np.abs(targets[:, 0]) < high)
        table[f"|yaw| {low}-{high}"] = {
            "faces": int(rows.sum()),
            "yaw_mae": round(float(errors[rows, 0].mean()), 2),
            "pitch_mae": round(float(errors[rows, 1].mean()), 2),
        }
    target_yaw = np.abs(targets[:, 0]) < 60
    target_pitch = np.abs(targets[:, 1]) < 45
    table["targets"] = {
        "yaw_mae_below_60": round(float(errors[target_yaw, 0].mean()), 2),
        "pitch_mae_below_45": round(float(errors[target_pitch, 1].mean()), 2),
    }
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, help="folder with labels.csv and images/")
    parser.add_argument("--out", type=Path, default=Path("monitor/models/headpose.json"))
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    features, targets, photos = collect(args.data)
    table = report(targets, cross_validated(features, targets, args.folds))
    for name, figures in table.items():
        print(f"{name:16s} " + "  ".join(f"{k} {v}" for k, v in figures.items()))
    weights = fit(features, targets)
    labels = (args.data / "labels.csv").read_bytes()
    card = {
        "version": "headpose-ridge-1",
        "method": f"ridge regression (lambda {RIDGE}) on monitor.perception.pose.pose_features of YuNet's landmarks "
        "and box",
        "conventions": "yaw > 0: face turned toward the image's left; pitch > 0: chin up; degrees",
        "data": {"photos": photos, "faces": len(features), "labels_sha256": hashlib.sha256(labels).hexdigest()},
        "cross_validation": {"folds": args.folds, **table},
        "yaw_weights": [round(float(w), 6) for w in weights[:, 0]],
        "pitch_weights": [round(float(w), 6) for w in weights[:, 1]],
    }
    args.out.write_text(json.dumps(card, indent=1) + "\n")
    print(f"fitted on {len(features)} faces of {photos} photos; written to {args.out}")


if __name__ == "__main__":
    main()
