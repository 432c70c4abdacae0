"""Central-store load benchmark: many rooms writing to one PostgreSQL, and the dashboard's queries over a year.

Run: python bench/bench_central.py [--rooms 50] [--days 180] [--lectures 4] [--minutes 90] [--rounds 60]
     [--db postgresql://...]
Without --db it starts a throw-away local cluster (Debian's postgresql; tests/postgres.py). Three phases:
1. history: rooms x days x lectures of `minutes` (10 s intervals) loaded through the store's own writer,
   as rooms would have written them (the default is 50 rooms x 180 days x 6 h x 360 intervals = 19.4 M);
2. load: every room a thread with its own connection writing one interval per round as fast as the server
   takes them (a simulated 10 s per round), while a dashboard reader lists lectures and reads timelines;
3. queries: the dashboard's lecture list (all rooms, one room) and one lecture's timeline, over the history.
Prints medians and p95; the machine is shared and noisy, so compare medians and ratios.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards.layout import LECTURES_SHOWN
from monitor.store import SqlStore, StoreLocation
from monitor.types import IntervalAggregate
from tests.postgres import PostgresCluster, server_binaries

INTERVAL_S = 10.0
FIRST_DAY = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def interval(index: int, start: datetime, rng: random.Random) -> IntervalAggregate:
    faces = rng.randint(10, 30)
    counts = [rng.randint(0, faces * 20) for _ in range(3)]
    means = [c / max(sum(counts), 1) for c in counts]
    return IntervalAggregate(
        index=index,
        start_wall=start + timedelta(seconds=INTERVAL_S * index),
        offset_s=INTERVAL_S * index,
        duration_s=INTERVAL_S,
        frames=20,
        skipped_frames=0,
        faces_mean=float(faces),
        faces_max=faces + 2,
        tracks=faces + 4,
        class_counts=dict(zip(("positive", "neutral", "negative"), counts, strict=True)),
        class_means=dict(zip(("positive", "neutral", "negative"), means, strict=True)),
        engagement=means[0] + 0.5 * means[1],
    )


def load_history(store: SqlStore, rooms: int, days: int, lectures: int, minutes: int) -> tuple[int, float]:
    """The history, lecture by lecture through `add_intervals`; (intervals, seconds)."""
    rng = random.Random(7)
    per_lecture = int(minutes * 60 / INTERVAL_S)
    started, total = time.perf_counter(), 0
    for day in range(days):
        for room in range(rooms):
            for lecture in range(lectures):
                start = FIRST_DAY + timedelta(days=day, minutes=(minutes + 10) * lecture)
                sid = store.create_session(
                    f"Lecture {lecture + 1}", "camera 0", {}, start, room=f"room-{room:02d}", host=f"pc-{room:02d}"
                )
                store.add_intervals(sid, [interval(i, start, rng) for i in range(per_lecture)])
                store.finish_session(sid, "completed", start + timedelta(minutes=minutes))
                total += per_lecture
        if day % 10 == 9 or day == days - 1:
            rate = total / (time.perf_counter() - started)
            print(f"  history: day {day + 1}/{days}, {total:,} intervals, {rate:,.0f} intervals/s", flush=True)
    return total, time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_load(location: StoreLocation, rooms: int, rounds: int) -> None:
    """Rooms write one interval per round each, all at once; a reader polls like an open dashboard."""
    latencies: list[float] = []
    reads: dict[str, list[float]] = {"lecture list": [], "timeline": []}
    lock = threading.Lock()
    done = threading.Event()
    barrier = threading.Barrier(rooms)

    def room(number: int) -> None:
        rng = random.Random(number)
        store = SqlStore(location)
        start = datetime.now(UTC)
        sid = store.create_session("Load test", "camera 0", {}, start, room=f"room-{number:02d}", host="bench")
        barrier.wait()
        mine = []
        for i in range(rounds):
            clock = time.perf_counter()
            store.add_interval(sid, interval(i, start, rng))
            mine.append(time.perf_counter() - clock)
        store.finish_session(sid, "completed")
        store.close()
        with lock:
            latencies.extend(mine)

    def dashboard() -> None:
        store = SqlStore(location, create=False)
        while not done.is_set():
            clock = time.perf_counter()
            sessions = store.sessions("room-00", LECTURES_SHOWN)
            reads["lecture list"].append(time.perf_counter() - clock)
            clock = time.perf_counter()
            store.intervals(sessions[0].id)
            reads["timeline"].append(time.perf_counter() - clock)
        store.close()

    writers = [threading.Thread(target=room, args=(n,)) for n in range(rooms)]
    reader = threading.Thread(target=dashboard)
    started = time.perf_counter()
    for thread in writers:
        thread.start()
    reader.start()
    for thread in writers:
        thread.join()
    elapsed = time.perf_counter() - started
    done.set()
    reader.join()
    total = rooms * rounds
    print(
        f"load: {rooms} rooms x {rounds} intervals = {total} in {elapsed:.1f} s: {total / elapsed:,.0f} intervals/s "
        f"sustained (the rooms need {rooms / INTERVAL_S:.1f}/s: {total / elapsed / (rooms / INTERVAL_S):,.0f}x)"
    )
    print(
        f"  write latency: median {statistics.median(latencies) * 1e3:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1e3:.1f} ms, max {max(latencies) * 1e3:.1f} ms"
    )
    for name, times in reads.items():
        print(
            f"  dashboard {name} during the load: median {statistics.median(times) * 1e3:.1f} ms, "
            f"p95 {percentile(times, 0.95) * 1e3:.1f} ms ({len(times)} reads)"
        )


def time_queries(store: SqlStore, room: str, repeats: int = 7) -> None:
    sessions = store.sessions(room)
    target = sessions[len(sessions) // 2].id
    queries = {
        "lecture list, all rooms": lambda: store.sessions(),
        "dashboard lecture list, all rooms": lambda: store.sessions(limit=LECTURES_SHOWN),
        "lecture list, one room": lambda: store.sessions(room),
        "rooms": store.rooms,
        "one lecture's timeline": lambda: store.intervals(target),
    }
    for name, query in queries.items():
        times, rows = [], 0
        for _ in range(repeats):
            clock = time.perf_counter()
            rows = len(query())
            times.append(time.perf_counter() - clock)
        print(f"query {name}: median {statistics.median(times) * 1e3:.1f} ms ({rows:,} rows, {repeats} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--lectures", type=int, default=4, help="lectures per room and day")
    parser.add_argument("--minutes", type=int, default=90, help="minutes per lecture")
    parser.add_argument("--rounds", type=int, default=60, help="intervals each room writes in the load phase")
    parser.add_argument("--db", help="an empty PostgreSQL database (default: a throw-away local cluster)")
    args = parser.parse_args()
    cluster = None
    if args.db:
        location = StoreLocation.parse(args.db)
    else:
        binaries = server_binaries()
        if binaries is None:
            sys.exit("bench_central: PostgreSQL server not installed (Debian: apt-get install postgresql)")
        cluster = PostgresCluster(binaries)
        location = StoreLocation.parse(cluster.new_database())
    try:
        with SqlStore(location) as store:
            per_day = args.rooms * args.lectures * args.minutes * 6
            print(
                f"history: {args.rooms} rooms x {args.days} days x {args.lectures} lectures x {args.minutes} min "
                f"= {per_day * args.days:,} intervals",
                flush=True,
            )
            total, seconds = load_history(store, args.rooms, args.days, args.lectures, args.minutes)
            print(f"history loaded: {total:,} intervals in {seconds / 60:.1f} min ({total / seconds:,.0f}/s)")
            time_queries(store, f"room-{args.rooms // 2:02d}")
        run_load(location, args.rooms, args.rounds)
    finally:
        if cluster:
            cluster.destroy()


if __name__ == "__main__":
    main()
