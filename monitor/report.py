"""Session summaries shared by `engage show` and the dashboard's summary cards."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from monitor.console import format_duration
from monitor.core import CLASSES
from monitor.types import IntervalAggregate

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class LowMoment:
    offset_s: float
    start_wall: pd.Timestamp
    engagement: float


@dataclass(frozen=True)
class SessionSummary:
    duration_s: float
    mean_engagement: float | None  # weighted by faces observed
    median_engagement: float | None  # over intervals with faces
    class_shares: dict[str, float | None]  # share of face observations per class
    lowest: list[LowMoment]
    intervals_with_faces: int
    intervals: int
    mean_attention: float | None = None  # share of face observations turned to the front, weighted like engagement
    lowest_attention: tuple[float, float] | None = None  # (offset_s, share) of the interval with the smallest share


def weighted_engagement(intervals: pd.DataFrame) -> float | None:
    """The engagement of an interval table, each interval weighted by the faces it observed; None without faces."""
    seen = intervals[intervals["engagement"].notna()]
    weights = seen["faces_mean"] * seen["frames"]
    return float(np.average(seen["engagement"], weights=weights)) if weights.sum() > 0 else None


def summarize(intervals: pd.DataFrame, lowest: int = 3) -> SessionSummary:
    """Summary figures of one session's interval table (as returned by the store)."""
    seen = intervals[intervals["engagement"].notna()]
    counts = {c: int(intervals[f"n_{c}"].sum()) for c in CLASSES}
    total = sum(counts.values())
    low = _apart(seen.sort_values("engagement", kind="stable"), lowest).sort_values("offset_s")
    posed = intervals[intervals["attention"].notna()]
    posed_weights = posed["faces_mean"] * posed["frames"]
    least = posed.loc[posed["attention"].idxmin()] if len(posed) else None
    return SessionSummary(
        duration_s=float((intervals["offset_s"] + intervals["duration_s"]).max()) if len(intervals) else 0.0,
        mean_engagement=weighted_engagement(intervals),
        median_engagement=float(seen["engagement"].median()) if len(seen) else None,
        class_shares={c: (counts[c] / total if total else None) for c in CLASSES},
        lowest=[LowMoment(r.offset_s, r.start_wall, r.engagement) for r in low.itertuples()],
        intervals_with_faces=len(seen),
        intervals=len(intervals),
        mean_attention=float(np.average(posed["attention"], weights=posed_weights))
        if posed_weights.sum() > 0
        else None,
        lowest_attention=(float(least["offset_s"]), float(least["attention"])) if least is not None else None,
    )


def _apart(ranked: pd.DataFrame, count: int, spacing: int = 3) -> pd.DataFrame:
    """The first `count` rows of `ranked` at least `spacing` intervals apart, so three moments to revisit are three
    moments, not three seconds of one dip."""
    step = float(ranked["duration_s"].median()) if len(ranked) else 0.0
    chosen: list[int] = []
    for label, offset in ranked["offset_s"].items():
        if all(abs(offset - ranked.at[other, "offset_s"]) >= spacing * step for other in chosen):
            chosen.append(label)
        if len(chosen) == count:
            break
    return ranked.loc[chosen]


def sparkline(values: pd.Series, width: int = 60) -> str:
    """Engagement (0..1) over time as block characters; a space where no face was seen."""
    if values.empty:
        return ""
    bins = np.array_split(values.to_numpy(dtype=float), min(width, len(values)))
    chars = []
    for chunk in bins:
        chunk = chunk[~np.isnan(chunk)]
        if chunk.size == 0:
            chars.append(" ")
        else:
            level = int(np.clip(chunk.mean(), 0, 1) * (len(SPARK_BLOCKS) - 1) + 0.5)
            chars.append(SPARK_BLOCKS[level])
    return "".join(chars)


def dip_and_recovery(intervals: list[IntervalAggregate]) -> str:
    """One line on a session's lowest stretch: when engagement fell, from what, and when it came back."""
    read = [i for i in intervals if i.engagement is not None]
    if len(read) < 2:
        return "too few intervals with faces to find a dip"
    low = min(read, key=lambda i: i.engagement)
    before = [i.engagement for i in read if i.offset_s < low.offset_s]
    after = [i for i in read if i.offset_s > low.offset_s]
    start = f"engagement was lowest at {format_duration(low.offset_s)}-{format_duration(low.offset_s + low.duration_s)}"
    line = f"{start} ({low.engagement:.2f}" + (f", down from {max(before):.2f})" if before else ")")
    peak = max(after, key=lambda i: i.engagement, default=None)
    if peak is None or peak.engagement <= low.engagement:
        return line + "; it did not recover before the end"
    return line + f"; it recovered to {peak.engagement:.2f} by {format_duration(peak.offset_s)}"
