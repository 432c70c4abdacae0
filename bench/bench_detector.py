"""Detector settings by measurement: recall by face size, precision and ms per frame on scenes with known faces.

Run: python bench/bench_detector.py [--faces DATA/fer2013/test] [--scenes 20]
     [--clip ../shared/video/short_hamilton_clip.mp4]
Each 1280x720 scene holds 30 faces pasted at face widths of 16-80 px (log-uniform) into room-like clutter
(bench/scenes.py): FER2013 faces (tight crops, the hard case) or, without --faces, the bundled portrait's head
(a face with hair and background around it). A detection counts when its IoU with a pasted face is >= 0.5.
The real clip has no labels: faces per frame.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from scenes import face_images, scene

from monitor.perception.detect import FaceDetector, HaarDetector, YuNetDetector
from monitor.source import open_capture, sample_video
from monitor.track import match_boxes
from monitor.types import Detection

SIZE_BUCKETS = ((16, 19), (20, 29), (30, 49), (50, 80))
YUNET_WIDTHS = (640, 800, 960, 1280)
SCORES = (0.5, 0.6, 0.7, 0.8)


def run(detector: FaceDetector, frames: list[np.ndarray]) -> tuple[list[list[Detection]], float]:
    found, times = [], []
    detector.detect(frames[0])  # warm-up: the first call allocates
    for frame in frames:
        clock = time.perf_counter()
        found.append(detector.detect(frame))
        times.append((time.perf_counter() - clock) * 1e3)
    return found, statistics.median(times)


def scores(truth: list[list], found: list[list[Detection]], min_score: float) -> dict[str, float]:
    """Recall per size bucket and overall, and precision, of the detections scoring at least `min_score`."""
    hits: dict[tuple[int, int], list[bool]] = {bucket: [] for bucket in SIZE_BUCKETS}
    detections = correct = 0
    for pasted, faces in zip(truth, found, strict=True):
        boxes = [f.box for f in faces if f.score >= min_score]
        matched = match_boxes([p.box for p in pasted], boxes, min_iou=0.5)
        detections += len(boxes)
        correct += len(matched)
        for i, face in enumerate(pasted):
            bucket = next((b for b in SIZE_BUCKETS if face.box.w <= b[1]), SIZE_BUCKETS[-1])
            hits[bucket].append(i in matched)
    figures = {f"{low}-{high}px": float(np.mean(h)) for (low, high), h in hits.items()}
    figures["recall"] = correct / sum(len(p) for p in truth)
    figures["precision"] = correct / detections if detections else float("nan")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=Path, help="folder of face images (default: the bundled portrait)")
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--clip", type=Path, default=Path("../shared/video/short_hamilton_clip.mp4"))
    args = parser.parse_args()
    faces = face_images(args.faces)
    rng = np.random.default_rng(0)
    generated = [
        scene(rng, [faces.images[i] for i in rng.integers(len(faces.images), size=30)], (16, 80), faces.region)
        for _ in range(args.scenes)
    ]
    frames, truth = [g[0] for g in generated], [g[1] for g in generated]
    clip = [f.image for f in sample_video(open_capture(str(args.clip)), fps=2)] if args.clip.is_file() else []

    candidates: list[tuple[str, FaceDetector, tuple[float, ...]]] = [
        ("haar 640 px, min 30", HaarDetector(), (1.0,)),
        ("haar 1280 px, min 20", HaarDetector(detect_width=1280, min_face=20), (1.0,)),
    ]
    candidates += [
        (f"yunet {w} px", YuNetDetector(detect_width=w, min_score=min(SCORES)), SCORES) for w in YUNET_WIDTHS
    ]
    buckets = [f"{low}-{high}px" for low, high in SIZE_BUCKETS]
    header = f"{'detector':22s} {'score':>5s} " + " ".join(f"{b:>8s}" for b in buckets)
    print(f"{len(frames)} scenes of 1280x720, {sum(map(len, truth))} faces from {faces.name}")
    print(header + f" {'recall':>7s} {'precis.':>7s} {'ms/frame':>8s} | {'clip ms':>7s} {'faces':>5s}")
    for label, detector, thresholds in candidates:
        found, ms = run(detector, frames)
        clip_found, clip_ms = run(detector, clip) if clip else ([], float("nan"))
        for threshold in thresholds:
            figures = scores(truth, found, threshold)
            clip_faces = np.mean([sum(f.score >= threshold for f in fs) for fs in clip_found]) if clip else np.nan
            cells = " ".join(f"{figures[b]:8.3f}" for b in buckets)
            print(
                f"{label:22s} {threshold:5.2f} {cells} {figures['recall']:7.3f} {figures['precision']:7.3f} "
                f"{ms:8.1f} | {clip_ms:7.1f} {clip_faces:5.2f}"
            )


if __name__ == "__main__":
    main()
