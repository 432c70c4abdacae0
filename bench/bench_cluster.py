"""`engage analyze --cluster` on this machine: one Dask worker against two, on four generated 720p recordings.

Run: python bench/bench_cluster.py [--seconds 60] [--runs 3]
A scheduler and 1 or 2 worker processes (one thread each) start on 127.0.0.1, with a throw-away PostgreSQL as the
central store (Debian's `postgresql`); each run analyzes the same four recordings (the generated room of
bench/scenes.py, dated differently so each is its own session) into a fresh database. Prints the median wall time
of each, the ratio, media hours per worker-hour, and intervals the central store took per second. The machine is
shared and noisy: compare medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scenes import room_frames

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tests/ (tf2onnx installs a `tests` too)

from monitor.demo import write_frames
from monitor.store import open_store
from tests.factories import taught
from tests.local_dask import LocalDask
from tests.postgres import PostgresCluster, server_binaries


def recordings(folder: Path, count: int, seconds: float) -> list[Path]:
    first = write_frames(folder / "room-0.mp4", room_frames(seconds, 30), 30, (1280, 720))
    paths = [taught(first, datetime(2026, 11, 2, 9, tzinfo=UTC))]
    for k in range(1, count):
        path = folder / f"room-{k}.mp4"
        path.write_bytes(first.read_bytes())
        paths.append(taught(path, datetime(2026, 11, 2, 9, tzinfo=UTC) + timedelta(days=k)))
    return paths


def one_run(videos: list[Path], workers: int, database: str) -> float:
    cluster = LocalDask(workers)
    try:
        command = [sys.executable, "-m", "engage", "analyze", *map(str, videos), "--cluster", cluster.address]
        started = time.perf_counter()
        subprocess.run([*command, "--db", database, "--room", "bench"], check=True, capture_output=True)
        return time.perf_counter() - started
    finally:
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each recording")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    binaries = server_binaries()
    if binaries is None:
        sys.exit("bench_cluster: PostgreSQL server not installed (Debian: apt-get install postgresql)")
    postgres = PostgresCluster(binaries)
    try:
        with tempfile.TemporaryDirectory() as folder:
            videos = recordings(Path(folder), 4, args.seconds)
            walls: dict[int, list[float]] = {1: [], 2: []}
            intervals = 0
            for _ in range(args.runs):  # alternated, so both see the same machine
                for workers in walls:
                    database = postgres.new_database()
                    walls[workers].append(one_run(videos, workers, database))
                    with open_store(database, create=False) as store:
                        intervals = sum(s.intervals for s in store.sessions())
        media_h = 4 * args.seconds / 3600
        for workers, times in walls.items():
            wall = statistics.median(times)
            print(
                f"{workers} worker(s): {wall:.1f} s for 4 x {args.seconds:g} s of 720p ({4 * args.seconds / wall:.1f}x "
                f"real time, start-up included); {media_h / (wall * workers / 3600):.1f} media hours per worker-hour; "
                f"the central store took {intervals / wall:.1f} intervals/s"
            )
        one, two = (statistics.median(walls[n]) for n in (1, 2))
        print(f"2 workers against 1: {one / two:.2f}x (medians of {args.runs} runs on this {2}-core machine)")
    finally:
        postgres.destroy()


if __name__ == "__main__":
    main()
