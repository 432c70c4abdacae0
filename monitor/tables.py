"""Interval records as a table: the column names every view (report, figures, CSV) shares."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from monitor.core import CLASSES
from monitor.types import IntervalAggregate

INTERVAL_COLUMNS = (
    "interval",
    "start_wall",
    "offset_s",
    "duration_s",
    "frames",
    "skipped_frames",
    "faces_mean",
    "faces_max",
    "tracks",
    *(f"n_{c}" for c in CLASSES),
    *(f"p_{c}" for c in CLASSES),
    "engagement",
    "below_min_faces",
    "attention",
)


def interval_table(intervals: Sequence[IntervalAggregate]) -> pd.DataFrame:
    """One row per interval in time order; `start_wall` in UTC; missing values are NaN (not zero)."""
    rows = [
        (
            a.index,
            a.start_wall,
            a.offset_s,
            a.duration_s,
            a.frames,
            a.skipped_frames,
            a.faces_mean,
            a.faces_max,
            a.tracks,
            *(a.class_counts[c] for c in CLASSES),
            *(a.class_means[c] for c in CLASSES),
            a.engagement,
            int(a.below_min_faces),
            a.attention,
        )
        for a in intervals
    ]
    table = pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))
    table["start_wall"] = pd.to_datetime(table["start_wall"], utc=True)
    for column in (*(f"p_{c}" for c in CLASSES), "engagement", "attention"):
        table[column] = table[column].astype(float)
    return table
