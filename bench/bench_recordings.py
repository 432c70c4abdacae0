"""How fast recorded lectures are analyzed: `engage analyze` at its defaults on a generated 1080p H.264 lecture
(x264, B-frames, a keyframe every 250 frames, as cameras and screen recorders write them), against real time and
against the decoding floor (OpenCV grabbing every frame and doing nothing else).

Run: python bench/bench_recordings.py [--seconds 60] [--runs 3]
Needs Debian's `ffmpeg` to encode the clip (apt-get install ffmpeg). Prints medians over the runs; the machine
is shared and noisy: compare medians and ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from scenes import room_frames

from monitor.demo import write_frames


def lecture_clip(folder: Path, seconds: float) -> Path:
    """The generated room (bench/scenes.py) upscaled to 1080p and encoded with x264 by ffmpeg."""
    raw = write_frames(folder / "room.mp4", room_frames(seconds, 30), 30, (1280, 720))
    clip = folder / "lecture-1080p.mp4"
    encode = ["ffmpeg", "-v", "error", "-i", str(raw), "-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "fast"]
    subprocess.run([*encode, "-bf", "3", "-g", "250", "-pix_fmt", "yuv420p", str(clip)], check=True)
    return clip


def decoding_floor(clip: Path) -> float:
    capture = cv2.VideoCapture(str(clip))
    started = time.perf_counter()
    while capture.grab():
        pass
    capture.release()
    return time.perf_counter() - started


def analyze_seconds(clip: Path, db: Path) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "engage.cli", "analyze", str(clip), "--db", str(db)]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("needs ffmpeg to encode the H.264 clip (Debian: apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as folder:
        clip = lecture_clip(Path(folder), args.seconds)
        floor = statistics.median(decoding_floor(clip) for _ in range(args.runs))
        wall = statistics.median(analyze_seconds(clip, Path(folder) / f"{k}.db") for k in range(args.runs))
    print(
        f"{args.seconds:g} s of 1080p H.264 lecture: engage analyze {wall:.1f} s ({args.seconds / wall:.1f}x real "
        f"time, start-up included); decoding every frame alone {floor:.1f} s ({args.seconds / floor:.1f}x); "
        f"analyze / decoding floor {wall / floor:.2f} (medians of {args.runs})"
    )


if __name__ == "__main__":
    main()
