"""What `engage live` costs a laptop at its defaults: CPU (share of one core) and peak RSS, on a generated 720p
room with six faces played in real time from a file (no webcam here).

Run: python bench/bench_live.py [--seconds 30] [--runs 3] [--model PATH]
Prints the median over the runs. CPU is the process's own user + system time over its wall time, so it changes
little when other programs share the machine; the machine is shared and noisy all the same: compare medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from scenes import room_frames

from monitor.demo import write_frames


def one_run(video: Path, db: Path, seconds: float, model: Path | None) -> tuple[float, float]:
    """(share of one core, peak RSS in MiB) of one `engage live` at its defaults for `seconds`."""
    command = [sys.executable, "-m", "engage.cli", "live", "--source", str(video), "--no-preview", "--db", str(db)]
    command += ["--model", str(model)] if model else []
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watched = psutil.Process(process.pid)
    time.sleep(3.0)  # start-up (imports, model) is the start-up benchmark's
    before, started, peak = watched.cpu_times(), time.monotonic(), 0
    while time.monotonic() - started < seconds and process.poll() is None:
        peak = max(peak, watched.memory_info().rss)
        time.sleep(0.05)
    after, wall = watched.cpu_times(), time.monotonic() - started
    process.terminate()
    process.wait()
    cpu = (after.user + after.system - before.user - before.system) / wall
    return cpu, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", type=Path, help="expression model (default: bundled)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        video = Path(folder) / "room.mp4"
        write_frames(video, room_frames(args.seconds + 5, 30), 30, (1280, 720))
        runs = [one_run(video, Path(folder) / f"{k}.db", args.seconds, args.model) for k in range(args.runs)]
    cpu = statistics.median(r[0] for r in runs)
    rss = statistics.median(r[1] for r in runs)
    print(
        f"engage live, defaults (2 analyzed frames/s), model {args.model or 'bundled'}, 720p 30 fps room, six faces: "
        f"{cpu:.1%} of one core, "
        f"peak RSS {rss:.0f} MiB (medians of {args.runs} runs of {args.seconds:g} s)"
    )


if __name__ == "__main__":
    main()
