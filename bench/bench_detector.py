"""Haar detector settings by measurement: faces found and ms per frame for each detection width / minNeighbors.

Run: python bench/bench_detector.py [--clip ../shared/video/short_hamilton_clip.mp4]
Synthetic 1280x720 frames have 6 known faces (recall); the real clip has no labels, so it reports faces per frame.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

from monitor.demo import render_frame
from monitor.detect import HaarDetector
from monitor.source import open_capture, sample_video

WIDTHS = (480, 640)
NEIGHBOURS = (3, 4)
MIN_FACES = (20, 30)  # pixels at detection scale


def measure(detector: HaarDetector, frames: list) -> tuple[float, float]:
    times, counts = [], []
    for frame in frames:
        clock = time.perf_counter()
        counts.append(len(detector.detect(frame)))
        times.append((time.perf_counter() - clock) * 1e3)
    return statistics.median(times), statistics.mean(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clip", type=Path, default=Path("../shared/video/short_hamilton_clip.mp4"))
    args = parser.parse_args()
    synthetic = [render_frame(1280, 720, 6, t / 3) for t in range(12)]
    clip = [f.image for f in sample_video(open_capture(str(args.clip)), fps=2)] if args.clip.is_file() else []
    print(
        f"{'width':>6} {'minNb':>5} {'minFace':>7} | {'synthetic ms':>12} {'faces/6':>7} | {'clip ms':>8} {'faces':>6}"
    )
    for width, neighbours, min_face in itertools.product(WIDTHS, NEIGHBOURS, MIN_FACES):
        detector = HaarDetector(detect_width=width, min_neighbors=neighbours, min_face=min_face)
        synthetic_ms, synthetic_faces = measure(detector, synthetic)
        clip_ms, clip_faces = measure(detector, clip) if clip else (float("nan"), float("nan"))
        print(
            f"{width:>6} {neighbours:>5} {min_face:>7} | {synthetic_ms:12.1f} {synthetic_faces:7.2f} | "
            f"{clip_ms:8.1f} {clip_faces:6.2f}"
        )


if __name__ == "__main__":
    main()
