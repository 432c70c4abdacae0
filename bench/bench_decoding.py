"""Cheaper H.264 decoding, and what each shortcut does to the pictures: the decoding `analyze` uses (skipping the
frames no other frame refers to) against two shortcuts it does not use, skipping every B-frame and skipping the
deblocking filter, each compared picture by picture with the exact decode of the same frames.

Run: python bench/bench_decoding.py [--seconds 60] [--runs 3] [--clip ../shared/video/short_hamilton_clip.mp4]
Decodes the generated 1080p lecture of bench_recordings.py (x264, B-frames) and the clip when given, on one
decoding thread as `analyze` does on two cores. Prints the CPU seconds of decoding (median of the runs) and, for
each shortcut, the largest and 99th-percentile grey-level difference and the lowest PSNR of any picture decoded.
Needs Debian's `ffmpeg` to encode the generated lecture.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from bench_recordings import lecture_clip

SHORTCUTS = {
    "as analyze decodes (frames nothing refers to skipped)": ("NONREF", {}),
    "every B-frame skipped": ("BIDIR", {}),
    "deblocking filter skipped": ("NONREF", {"skip_loop_filter": "all"}),
}


def decode(clip: Path, skip: str, options: dict[str, str]) -> tuple[float, dict[int, np.ndarray]]:
    """CPU seconds to decode `clip` with these settings, and the grey picture of every frame decoded, by time."""
    container = av.open(str(clip))
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    stream.codec_context.skip_frame = skip
    stream.codec_context.options = options
    pictures, cpu = {}, 0.0
    frames = container.decode(stream)
    while True:
        started = time.process_time()
        frame = next(frames, None)
        cpu += time.process_time() - started
        if frame is None:
            break
        pictures[frame.pts] = frame.to_ndarray(format="gray")
    container.close()
    return cpu, pictures


def compare(name: str, clip: Path, runs: int) -> None:
    _, exact = decode(clip, "DEFAULT", {})
    print(f"{name}: {len(exact)} frames")
    for shortcut, (skip, options) in SHORTCUTS.items():
        cpu = []
        for _ in range(runs):
            seconds, pictures = decode(clip, skip, options)
            cpu.append(seconds)
        worst, p99, psnr = 0, 0.0, float("inf")
        for pts, picture in pictures.items():
            difference = np.abs(picture.astype(np.int16) - exact[pts]).astype(np.float64)
            worst, p99 = max(worst, int(difference.max())), max(p99, float(np.percentile(difference, 99)))
            mse = float((difference**2).mean())
            psnr = min(psnr, 10 * np.log10(255**2 / mse) if mse else float("inf"))
        print(
            f"  {shortcut}: {len(pictures)} frames decoded in {statistics.median(cpu):.2f} CPU s; against the exact "
            f"decode: largest difference {worst} grey levels, 99th percentile {p99:.1f}, lowest PSNR {psnr:.1f} dB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clip", type=Path, help="a real recording, e.g. ../shared/video/short_hamilton_clip.mp4")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        compare(f"generated 1080p lecture, {args.seconds:g} s", lecture_clip(Path(folder), args.seconds), args.runs)
    if args.clip:
        compare(args.clip.name, args.clip, args.runs)


if __name__ == "__main__":
    main()
