"""What consent costs per frame: the opt-out zone test after each detection and the small-group floor in the
aggregation, against a detection's cost (README: YuNet at 1280 px ~31 ms).

Run: python bench/bench_consent.py [--faces 6] [--zones 2]
Prints the median of 7 timings of each, in microseconds. The machine is shared and noisy: compare medians.
"""

from __future__ import annotations

import argparse
import statistics
import timeit
from datetime import UTC, datetime

import numpy as np

from monitor.aggregate import IntervalAggregator
from monitor.consent import Zone, outside_zones
from monitor.types import Box, FrameResult, TrackedFace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=6)
    parser.add_argument("--zones", type=int, default=2)
    args = parser.parse_args()
    boxes = [Box(100 + 180 * i, 200, 60, 60) for i in range(args.faces)]
    zones = [Zone(0.05 * k, 0.0, 0.04, 0.4) for k in range(args.zones)]
    faces = [TrackedFace(i, box, np.array([0.2, 0.7, 0.1], np.float32)) for i, box in enumerate(boxes)]
    number = 2000

    def per_call(work: object) -> float:
        runs = timeit.repeat(work, number=number, repeat=7)
        return statistics.median(runs) / number * 1e6

    zone_us = per_call(lambda: outside_zones(boxes, zones, 1280, 720))
    for floor in (1, 3):
        aggregator = IntervalAggregator(3600.0, datetime.now(UTC), floor)
        results = iter(FrameResult(k * 0.5, faces) for k in range(10**7))
        add_us = per_call(lambda aggregator=aggregator, results=results: aggregator.add(next(results)))
        print(f"aggregating a frame of {args.faces} faces, --min-faces {floor}: {add_us:.1f} us")
    print(f"zone test, {args.faces} faces x {args.zones} zones: {zone_us:.1f} us per detection")


if __name__ == "__main__":
    main()
