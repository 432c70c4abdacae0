"""Pipeline benchmark: throughput of `engage analyze`, ms per stage, ms per face, peak RSS and start-up of `live`.

Run: python bench/bench_pipeline.py [--detector yunet|haar] [--detect-period S] [--model PATH] [--seconds 20]
     [--scene room|demo] [--clip ../shared/video/short_hamilton_clip.mp4]
The default scene is a generated 1280x720, 30 fps lecture room (bench/scenes.py): six heads with faces of
22-72 px before a cluttered background, as a webcam sees a room. `--scene demo` is the flat demo video with
six large faces that earlier versions measured. With `--clip`, the `engage analyze` throughput is also
measured on that real recording upscaled to 1280x720. Prints medians over all analyzed frames; the machine
is shared and noisy, so compare medians and ratios.
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

import cv2
import numpy as np
import psutil
from scenes import room_frames

from monitor.demo import write_frames, write_video
from monitor.perception.detect import create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings, Recording
from monitor.source import open_capture, sample_video
from monitor.store import open_store
from monitor.tables import interval_table
from monitor.track import match_boxes


def analyze_in_process(video: Path, detector: str, model: Path | None, db: Path, period: float) -> dict[str, float]:
    """Every frame of the video through the real pipeline, timing decode and each stage."""
    classifier = ExpressionClassifier(model)
    store = open_store(db)
    settings = PipelineSettings(fps=30, interval_s=10, detect_period_s=period)
    pipeline = Pipeline(
        create_detector(detector), classifier, store, settings, Recording("bench", str(video), "bench", "bench")
    )
    capture = open_capture(str(video))
    decode_ms, detect_ms, faces, stages = [], [], [], defaultdict(list)
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
        if result.detected:
            detect_ms.append(result.timings_ms["detect"])
        for stage, ms in result.timings_ms.items():
            stages[stage].append(ms)
        index += 1
    elapsed = time.perf_counter() - started
    pipeline.finish("completed", index / 30)
    figures = {"frames": index, "analyzed_fps": index / elapsed, "decode_ms": statistics.median(decode_ms)}
    for stage, values in stages.items():
        figures[f"{stage}_ms"] = statistics.median(values)
    figures["detect_ms"] = statistics.median(detect_ms)  # on the frames that ran the detector
    figures["detect_ms_per_frame"] = statistics.mean(stages["detect"])
    per_face = [ms / n for ms, n in zip(stages["classify"], faces, strict=True) if n]
    figures["classify_ms_per_face"] = statistics.median(per_face)
    figures["faces_median"] = statistics.median(faces)
    return figures


def analyze_cli_fps(video: Path, detector: str, model: Path | None, db: Path, period: float) -> float:
    """Wall-clock analyzed frames per second of the `engage analyze` command, start-up included."""
    args = [sys.executable, "-m", "engage.cli", "analyze", str(video), "--fps", "30", "--detector", detector]
    args += ["--detect-period", str(period)]
    args += ["--db", str(db)]
    args += ["--model", str(model)] if model else []
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    with open_store(db) as store:
        frames = int(interval_table(store.intervals(store.sessions()[0].id))["frames"].sum())
    return frames / elapsed


def live_footprint(video: Path, detector: str, model: Path | None, db: Path, seconds: float) -> dict[str, float]:
    """Peak RSS of `engage live` on the video at 15 fps, and the time from launch to the first analyzed frame."""
    args = [
        sys.executable,
        "-m",
        "engage.cli",
        "live",
        "--source",
        str(video),
        "--no-preview",
        "--fps",
        "15",
        "--detector",
        detector,
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


def carry_cost(video: Path, detector: str, model: Path | None, folder: Path) -> dict[str, float]:
    """What reusing faces between detections costs. On the frames that reuse them (every second one at 30 fps):
    the IoU of each freshly detected face with its carried box (a face without one counts 0). Per stored
    10 s interval: how far engagement and faces per frame move against detecting on every frame."""
    find, classifier = create_detector(detector), ExpressionClassifier(model)
    every_frame, carrying = (
        Pipeline(
            find,
            classifier,
            open_store(Path(f"{folder}{name}.db")),
            settings,
            Recording(name, str(video), "bench", "bench"),
        )
        for name, settings in (
            ("every", PipelineSettings(30, 10, detect_period_s=0)),
            ("carry", PipelineSettings(30, 10)),
        )
    )
    ious = []
    for frame in sample_video(open_capture(str(video)), 30):
        fresh, carried = (pipeline.process(frame.image, frame.offset_s) for pipeline in (every_frame, carrying))
        if fresh and carried and not carried.detected:
            truth, reused = [f.box for f in fresh.faces], [f.box for f in carried.faces]
            pairs = match_boxes(truth, reused, min_iou=0.01)
            ious += [truth[i].iou(reused[pairs[i]]) if i in pairs else 0.0 for i in range(len(truth))]
    tables = []
    for pipeline in (every_frame, carrying):
        pipeline.finish("completed")
        tables.append(interval_table(pipeline.store.intervals(pipeline.session_id)))
    return {
        "carried_box_iou_median": statistics.median(ious),
        "carried_box_iou_below_0.5": float(np.mean(np.array(ious) < 0.5)),
        "interval_engagement_move": float((tables[0]["engagement"] - tables[1]["engagement"]).abs().mean()),
        "interval_faces_mean_move": float((tables[0]["faces_mean"] - tables[1]["faces_mean"]).abs().mean()),
    }


def upscaled(clip: Path, out: Path) -> Path:
    """The recording resized to 1280x720 at its own frame rate."""
    capture = open_capture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = (f.image for f in sample_video(capture, fps))
    return write_frames(
        out, (cv2.resize(f, (1280, 720), interpolation=cv2.INTER_CUBIC) for f in frames), fps, (1280, 720)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", default="yunet", help="face detector (default: yunet)")
    parser.add_argument("--model", type=Path, help="model to benchmark (default: bundled)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the synthetic 1280x720 video")
    parser.add_argument("--scene", choices=("room", "demo"), default="room", help="generated video (default: room)")
    parser.add_argument("--clip", type=Path, help="a real recording, also measured upscaled to 1280x720")
    parser.add_argument(
        "--detect-period", type=float, default=PipelineSettings.detect_period_s, help="as for `engage analyze`"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "bench.mp4"
        if args.scene == "room":
            write_frames(video, room_frames(args.seconds, 30), 30, (1280, 720))
        else:
            write_video(video, seconds=args.seconds, fps=30, width=1280, height=720, faces=6)
        figures = analyze_in_process(video, args.detector, args.model, Path(folder) / "a.db", args.detect_period)
        figures["cli_analyzed_fps"] = analyze_cli_fps(
            video, args.detector, args.model, Path(folder) / "b.db", args.detect_period
        )
        figures |= live_footprint(video, args.detector, args.model, Path(folder) / "c.db", min(args.seconds, 15))
        figures |= carry_cost(video, args.detector, args.model, Path(folder) / "room-")
        if args.clip:
            clip = upscaled(args.clip, Path(folder) / "clip.mp4")
            figures["clip_cli_analyzed_fps"] = analyze_cli_fps(
                clip, args.detector, args.model, Path(folder) / "d.db", args.detect_period
            )
            clip_cost = carry_cost(clip, args.detector, args.model, Path(folder) / "clip-")
            figures |= {f"clip_{name}": value for name, value in clip_cost.items()}
    model = ExpressionClassifier(args.model)
    print(
        f"{args.scene} scene, 1280x720, detector {args.detector}, model {model.version} "
        f"({model.card.input_size}px, {model.card.quantization}), {psutil.cpu_count()} CPUs"
    )
    for name, value in figures.items():
        print(f"{name:32s} {value:10.3f}")


if __name__ == "__main__":
    main()
