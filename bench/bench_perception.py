"""Searching rarely against searching every frame: the same frames through both designs of the real pipeline.

The reference is engage before following faces: a full search and every view of the model card on every analyzed
frame (`--search-period 0 --views all`); each other design searches every period and classifies one view a face
and frame, in turn (`--views rotate`, the default), unless `--all-views`.

Run: python bench/bench_perception.py [--seconds 60] [--periods 0,2,4,8,16] [--all-views]
     [--clip ../shared/video/short_hamilton_clip.mp4]
Scenes (analyzed at `analyze`'s default 2 frames a second): the generated 720p room (six heads, faces of 22-72 px;
one student leaves for 10 s), a generated back row (twelve faces of 20-24 px), and the real clip when given
(upscaled to 1280x720). For each search period it prints, against searching every frame (period 0): faces found per
analyzed frame, the smallest face found, box IoU with the full search's boxes of the same frame (median and 10th
percentile), the largest difference of any stored interval's faces, expression shares, engagement and attention,
and the detection time per analyzed frame (median and mean). The machine is shared and noisy: compare medians and
ratios in one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import cv2
import numpy as np
from scenes import BACK_ROW_HEADS, room_frames

from monitor.core import CLASSES
from monitor.perception.detect import create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings, Recording
from monitor.source import open_capture, sample_video
from monitor.store import open_store
from monitor.tables import interval_table
from monitor.track import match_boxes
from monitor.types import FrameResult

FPS = 2.0
cv2.setNumThreads(1)  # as engage's recording commands run it


def run(frames: list[np.ndarray], period: float, db: Path, rotate: bool) -> tuple[list[FrameResult], object]:
    """Every frame through a pipeline searching every `period` s: its frame results and interval table."""
    settings = PipelineSettings(fps=FPS, interval_s=10, search_period_s=period, min_faces=1, rotate_views=rotate)
    with open_store(db) as store:
        pipeline = Pipeline(
            create_detector("yunet"), ExpressionClassifier(), store, settings, Recording("b", "b", "b", "b")
        )
        results = [pipeline.process(frame, k / FPS) for k, frame in enumerate(frames)]
        pipeline.finish("completed", len(frames) / FPS)
        return results, interval_table(store.intervals(pipeline.session_id))


def shares(table: object) -> np.ndarray:
    counts = np.stack([table[f"n_{c}"].to_numpy(float) for c in CLASSES], axis=1)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)


def perception_ms(result: FrameResult) -> float:
    return result.timings_ms["detect"] + result.timings_ms["classify"]


def compare(name: str, frames: list[np.ndarray], periods: list[float], folder: Path, rotate: bool) -> None:
    reference, ref_table = run(frames, 0.0, folder / f"{name}-ref.db", rotate=False)
    ref_faces = sum(len(r.faces) for r in reference)
    ref_ms = [r.timings_ms["detect"] for r in reference]
    ref_total = statistics.mean(perception_ms(r) for r in reference)
    smallest = min((f.box.w for r in reference for f in r.faces), default=0)
    print(
        f"{name}: {len(frames)} analyzed frames; searching every frame finds {ref_faces / len(frames):.2f} faces a "
        f"frame (smallest {smallest} px), detection {statistics.median(ref_ms):.1f} ms median / "
        f"{statistics.mean(ref_ms):.1f} ms mean; detection and classification {ref_total:.1f} ms mean"
    )
    for period in periods:
        results, table = run(frames, period, folder / f"{name}-{period}.db", rotate)
        found = sum(len(r.faces) for r in results)
        ious = []
        for ours, theirs in zip(results, reference, strict=True):
            a, b = [f.box for f in ours.faces], [f.box for f in theirs.faces]
            ious += [a[i].iou(b[j]) for i, j in match_boxes(a, b, 0.1).items()]
        ms = [r.timings_ms["detect"] for r in results]
        worst = {
            "faces": np.nanmax(np.abs(table["faces_mean"].to_numpy() - ref_table["faces_mean"].to_numpy())),
            "shares": np.nanmax(np.abs(shares(table) - shares(ref_table))),
            "engagement": np.nanmax(np.abs(table["engagement"].to_numpy() - ref_table["engagement"].to_numpy())),
            "attention": np.nanmax(np.abs(table["attention"].to_numpy() - ref_table["attention"].to_numpy())),
        }
        print(
            f"  search every {period:g} s, views {'rotate' if rotate else 'all'}: faces found "
            f"{found / max(ref_faces, 1):.1%} of searching every frame, "
            f"smallest {min((f.box.w for r in results for f in r.faces), default=0)} px, box IoU median "
            f"{np.median(ious):.3f} / p10 {np.percentile(ious, 10):.3f}, "
            f"{sum(r.searched for r in results)} searches; largest interval difference: "
            + ", ".join(f"{k} {v:.3f}" for k, v in worst.items())
            + f"; detection {statistics.median(ms):.1f} ms median / {statistics.mean(ms):.1f} ms mean "
            f"({statistics.mean(ref_ms) / statistics.mean(ms):.1f}x less); with classification "
            f"{statistics.mean(perception_ms(r) for r in results):.1f} ms mean "
            f"({ref_total / statistics.mean(perception_ms(r) for r in results):.1f}x less)"
        )


def clip_frames(clip: Path) -> list[np.ndarray]:
    return [cv2.resize(f.image, (1280, 720)) for f in sample_video(open_capture(str(clip)), FPS)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--periods", default="0,2,4,8,16", help="search periods in seconds, comma-separated")
    parser.add_argument("--all-views", action="store_true", help="every view on every frame, as the reference")
    parser.add_argument("--clip", type=Path, help="a real recording, e.g. ../shared/video/short_hamilton_clip.mp4")
    args = parser.parse_args()
    periods = [float(p) for p in args.periods.split(",")]
    scenes = {
        "generated room, one student away 20-30 s": list(room_frames(args.seconds, FPS, away={4: (20.0, 30.0)})),
        "generated back row, faces 20-24 px": list(room_frames(args.seconds, FPS, seed=1, heads=BACK_ROW_HEADS)),
    }
    if args.clip:
        scenes[f"{args.clip.name} at 1280x720"] = clip_frames(args.clip)
    with tempfile.TemporaryDirectory() as folder:
        for name, frames in scenes.items():
            compare(name, frames, periods, Path(folder), rotate=not args.all_views)


if __name__ == "__main__":
    main()
