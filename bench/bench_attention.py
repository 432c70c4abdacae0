"""Attention on a generated room of known head poses: does the stored share fall when heads turn away?

Six real face photos with fitted poses (../shared/data/headpose, the development half) sit in a 1280x720 room.
For the first third of the lecture every face looks at the camera (|yaw|, |pitch| < 12 degrees); in the middle
third three of them are replaced by faces turned aside (|yaw| 45-75 degrees); in the last third the room looks
front again. The lecture is written as a video and analyzed by `engage analyze` (the real pipeline at its
defaults, twelve intervals); the bench prints each interval's stored attention beside the truth (the share of the six
faces whose fitted pose lies inside the default cone, 30 and 25 degrees). Run:
python bench/bench_attention.py [--headpose ../shared/data/headpose] [--seconds 60]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import cv2
import numpy as np

from engage.cli import main as engage
from monitor.attention import FacingCone
from monitor.demo import write_frames
from monitor.store import open_store

GRID = [(60 + 400 * column, 40 + 340 * row) for row in range(2) for column in range(3)]  # 6 tiles of 300 px
TURNED = (1, 3, 5)  # the tiles whose faces turn aside in the middle third


def poses(folder: Path) -> list[tuple[Path, float, float]]:
    with (folder / "labels.csv").open() as handle:
        return [
            (folder / "images" / r["file"], float(r["yaw_deg"]), float(r["pitch_deg"])) for r in csv.DictReader(handle)
        ]


def pick(folder: Path) -> tuple[list[tuple[Path, float, float]], list[tuple[Path, float, float]]]:
    """Six frontal faces and three turned aside, the same every run (sorted by file name)."""
    labelled = sorted(poses(folder))
    frontal = [p for p in labelled if abs(p[1]) < 12 and abs(p[2]) < 12][:6]
    turned = [p for p in labelled if 45 <= abs(p[1]) <= 75 and abs(p[2]) < 20][:3]
    return frontal, turned


def tile(path: Path) -> np.ndarray:
    """The photo's central 300 px (the face and a little around it)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return image[75:375, 75:375]


def room_video(path: Path, folder: Path, seconds: float, fps: float) -> list[float]:
    """Write the lecture; return the true facing share of each third."""
    frontal, turned = pick(folder)
    front_tiles = [tile(p[0]) for p in frontal]
    turned_tiles = [tile(p[0]) for p in turned]
    cone = FacingCone()
    inside = [abs(yaw) <= cone.yaw_deg and abs(pitch) <= cone.pitch_deg for _, yaw, pitch in frontal + turned]
    truths = [sum(inside[:6]) / 6, (sum(inside[i] for i in range(6) if i not in TURNED) + sum(inside[6:])) / 6]
    wall = np.full((720, 1280, 3), (70, 64, 60), np.uint8)

    def frames():
        for index in range(round(seconds * fps)):
            t = index / fps
            middle = seconds / 3 <= t < 2 * seconds / 3
            frame = wall.copy()
            for i, (x, y) in enumerate(GRID):
                face = turned_tiles[TURNED.index(i)] if middle and i in TURNED else front_tiles[i]
                dx, dy = int(4 * np.sin(t * 1.1 + i)), int(3 * np.cos(t * 0.8 + i))
                frame[y + 10 + dy : y + 310 + dy, x + 10 + dx : x + 310 + dx] = face
            yield frame

    write_frames(path, frames(), fps, (1280, 720))
    return [truths[0], truths[1], truths[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headpose", type=Path, default=Path("../shared/data/headpose"))
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engage-attention-") as folder:
        video, db = Path(folder) / "room.mp4", Path(folder) / "engage.db"
        truths = room_video(video, args.headpose, args.seconds, fps=10)
        interval = args.seconds / 12
        run = ["analyze", str(video), "--db", str(db), "--interval", f"{interval:g}"]
        assert engage([*run, "--started-at", "2026-12-02T09:00"]) == 0
        with open_store(db) as store:
            (session,) = store.sessions()
            intervals = store.intervals(session.id)
    print(f"{'interval':>10} {'faces':>6} {'attention':>10} {'truth':>6}")
    for a in intervals:
        truth = truths[min(int(3 * a.offset_s / args.seconds), 2)]
        shown = "-" if a.attention is None else f"{a.attention:.2f}"
        print(f"{a.offset_s:>9.1f}s {a.faces_mean:>6.1f} {shown:>10} {truth:>6.2f}")
    thirds = [
        [a.attention for a in intervals if int(3 * a.offset_s / args.seconds) == k and a.attention is not None]
        for k in range(3)
    ]
    means = [float(np.mean(third)) if third else float("nan") for third in thirds]
    print(
        f"mean attention by third: {means[0]:.2f} / {means[1]:.2f} / {means[2]:.2f} "
        f"(truth {truths[0]:.2f} / {truths[1]:.2f} / {truths[2]:.2f})"
    )


if __name__ == "__main__":
    main()
