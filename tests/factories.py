"""Small hand-made records for tests: interval aggregates and interval tables as the store returns them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from monitor.types import IntervalAggregate

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ROOM = "room 101"


def aggregate(
    index: int, engagement: float | None = 0.5, faces: float = 2.0, attention: float | None = None
) -> IntervalAggregate:
    seen = engagement is not None
    return IntervalAggregate(
        index=index,
        start_wall=START + timedelta(seconds=10 * index),
        offset_s=10.0 * index,
        duration_s=10.0,
        frames=20,
        skipped_frames=0,
        faces_mean=faces if seen else 0.0,
        faces_max=3 if seen else 0,
        tracks=3 if seen else 0,
        class_counts={"positive": 10, "neutral": 20, "negative": 10}
        if seen
        else {"positive": 0, "neutral": 0, "negative": 0},
        class_means={c: (1 / 3 if seen else None) for c in ("positive", "neutral", "negative")},
        engagement=engagement,
        attention=attention if seen else None,
    )


def intervals(engagement: list[float | None]) -> pd.DataFrame:
    n = len(engagement)
    seen = [e is not None for e in engagement]
    return pd.DataFrame(
        {
            "offset_s": np.arange(n) * 30.0,
            "duration_s": [30.0] * n,
            "start_wall": pd.date_range("2026-11-02 09:00", periods=n, freq="30s", tz="UTC"),
            "engagement": [np.nan if e is None else e for e in engagement],
            "faces_mean": [3.0 if s else 0.0 for s in seen],
            "frames": [60] * n,
            "n_positive": [30 if s else 0 for s in seen],
            "n_neutral": [60 if s else 0 for s in seen],
            "n_negative": [90 if s else 0 for s in seen],
            "below_min_faces": [0] * n,
            "attention": [np.nan] * n,
        }
    )


def taught(path: Path, moment: datetime) -> Path:
    """The recording with `moment` as its MP4 creation time (the mvhd box; OpenCV writes zero there)."""
    data = bytearray(path.read_bytes())
    box = data.index(b"mvhd")
    assert data[box + 4] == 0  # version 0: 32-bit seconds since 1904
    data[box + 8 : box + 12] = int((moment - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds()).to_bytes(4, "big")
    path.write_bytes(bytes(data))
    return path
