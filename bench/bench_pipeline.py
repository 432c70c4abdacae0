"""Pipeline benchmark: throughput of `engage analyze`, ms per stage, ms per face, peak RSS and start-up of `live`.

Run: python bench/bench_pipeline.py [--model PATH] [--seconds 20]
Prints medians over all analyzed frames; the machine is shared and noisy, so compare medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psutil

from monitor.demo import write_video
from monitor.detect import HaarDetector
from monitor.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings
from monitor.source import open_capture
from monitor.store import SessionStore


def analyze_in_process(video: Path, model: Path | None, db: Path) -> dict[str, float]:
    """Every frame of the video through the real pipeline, timing decode and each stage."""
    classifier = ExpressionClassifier(model)
    store = SessionStore(db)
    pipeline = Pipeline(
        HaarDetector(), classifier, store, PipelineSettings(fps=30, interval_s=10), name="bench", source=str(video)
    )
    capture = open_capture(str(video))
    decode_ms, faces, stages = [], [], defaultdict(list)
    started = time.perf_counter()
    index = 0
    while True:
        clock = time.perf_counter()
        ok, image = capture.read()
        if not ok:
            break
        decode_ms.append((time.perf_counter() - clock) * 1e3)
        result = pipeline.process(image, index / 30)
        faces.append(len(result.faces))
        for stage, ms in result.timings_ms.items():
            stages[stage].append(ms)
        index += 1
    elapsed = time.perf_counter() - started
    pipeline.finish("completed", index / 30)
    figures = {"frames": index, "analyzed_fps": index / elapsed, "decode_ms": statistics.median(decode_ms)}
    for stage, values in stages.items():
        figures[f"{stage}_ms"] = statistics.median(values)
    per_face = [ms / n for ms, n in zip(stages["classify"], faces, strict=True) if n]
    figures["classify_ms_per_face"] = statistics.median(per_face)
    figures["faces_median"] = statistics.median(faces)
    return figures


def analyze_cli_fps(video: Path, model: Path | None, db: Path) -> float:
    """Wall-clock analyzed frames per second of the `engage analyze` command, start-up included."""
    args = [sys.executable, "-m", "monitor.cli", "analyze", str(video), "--fps", "30", "--db", str(db)]
    args += ["--model", str(model)] if model else []
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    with SessionStore(db) as store:
        frames = int(store.intervals(store.sessions()[0].id)["frames"].sum())
    return frames / elapsed


def live_footprint(video: Path, model: Path | None, db: Path, seconds: float) -> dict[str, float]:
    """Peak RSS of `engage live` on the video at 15 fps, and the time from launch to the first analyzed frame."""
    args = [
        sys.executable,
        "-m",
        "monitor.cli",
        "live",
        "--source",
        str(video),
        "--no-preview",
        "--fps",
        "15",
        "--db",
        str(db),
    ]
    args += ["--model", str(model)] if model else []
    started = time.perf_counter()
    process = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    first_seen: list[float] = []

    def watch_stderr() -> None:
        for line in process.stderr:
            if "first frame analyzed" in line and not first_seen:
                first_seen.append(time.perf_counter() - started)

    threading.Thread(target=watch_stderr, daemon=True).start()
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None and time.perf_counter() - started < seconds:
        peak = max(peak, watched.memory_info().rss)
        time.sleep(0.02)
    process.terminate()
    process.wait()
    return {"live_peak_rss_mib": peak / 2**20, "first_frame_s": first_seen[0] if first_seen else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="model to benchmark (default: bundled)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the synthetic 1280x720 video")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        video = write_video(Path(folder) / "bench.mp4", seconds=args.seconds, fps=30, width=1280, height=720, faces=6)
        figures = analyze_in_process(video, args.model, Path(folder) / "a.db")
        figures["cli_analyzed_fps"] = analyze_cli_fps(video, args.model, Path(folder) / "b.db")
        figures |= live_footprint(video, args.model, Path(folder) / "c.db", seconds=min(args.seconds, 15))
    model = ExpressionClassifier(args.model)
    print(
        f"model {model.version} ({model.card.input_size}px, {model.card.quantization}), 1280x720, 6 faces, "
        f"{psutil.cpu_count()} CPUs"
    )
    for name, value in figures.items():
        print(f"{name:24s} {value:10.2f}")


if __name__ == "__main__":
    main()
