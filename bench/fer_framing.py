"""Where YuNet puts the five landmarks in FER2013 training faces: the template monitor/perception/align.py crops to.

Run: python bench/fer_framing.py DATA/fer2013 [--sample 3000]
Each 48x48 face gets a 12 px border (replicated) and is upscaled 4x so the detector sees a whole face (as
`engage train --align` frames them, training/aligned.py); the
median landmark positions of the faces found, as fractions of the 48x48 frame, are the template.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import cv2
import numpy as np

from monitor.perception.align import FER_LANDMARKS
from monitor.perception.detect import YuNetDetector
from training.aligned import BORDER, MIN_SCORE, SCALE, likeliest_face

NAMES = ("right eye", "left eye", "nose tip", "right mouth", "left mouth")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("fer2013", type=Path, help="FER2013 image folders (train/<emotion>/*.jpg)")
    parser.add_argument("--sample", type=int, default=3000, help="training faces to measure (default 3000)")
    args = parser.parse_args()
    files = sorted((args.fer2013 / "train").rglob("*.jpg"))
    files = random.Random(0).sample(files, min(args.sample, len(files)))
    detector, points = YuNetDetector(min_score=MIN_SCORE), []
    for file in files:
        found = likeliest_face(detector, cv2.imread(str(file), cv2.IMREAD_GRAYSCALE))
        if found:
            points.append((found[1].landmarks / SCALE - BORDER) / 48)
    median = np.median(points, axis=0)
    print(f"{len(points)} of {len(files)} faces found; median landmarks (x, y) as fractions of the frame:")
    for name, (x, y), (tx, ty) in zip(NAMES, median, FER_LANDMARKS, strict=True):
        print(f"  {name:12s} {x:.3f} {y:.3f}   (monitor/perception/align.py: {tx:.3f} {ty:.3f})")


if __name__ == "__main__":
    main()
