"""Engagement read against the instructor's usual level, not against an absolute 0-1 scale.

A calm, attentive room of neutral faces has an index a little under 0.5, which anyone reads as failing. What an
instructor can act on is whether this lecture runs above, at or below their own usual: the median of the room's
last USUAL_LECTURES finished lectures, or, for the first lecture of a room, the first OPENING_S of this lecture.
Within AT_USUAL of it the room reads as "at your usual". The stored index and shares are unchanged: this is only
how they are shown.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import pandas as pd

from monitor.report import weighted_engagement
from monitor.store import SessionReader
from monitor.store.records import SessionInfo

USUAL_LECTURES = 10  # the usual level is the median over at most this many earlier lectures of the room
OPENING_S = 600.0  # the opening that stands in for earlier lectures
AT_USUAL = 0.05  # within this of the usual level (on the 0-1 index) a lecture reads as at the usual


@dataclass(frozen=True)
class Usual:
    """The reference level and where it comes from, in words an instructor reads."""

    level: float
    basis: str  # e.g. "the median of this room's last 6 lectures"


@dataclass(frozen=True)
class Reading:
    """A value of the engagement index read against a usual level."""

    value: float
    usual: Usual

    @property
    def difference(self) -> float:
        return self.value - self.usual.level

    @property
    def word(self) -> str:
        """above, at or below."""
        if abs(self.difference) <= AT_USUAL:
            return "at"
        return "above" if self.difference > 0 else "below"

    @property
    def headline(self) -> str:
        """`At your usual`, `Above your usual`, `Below your usual`."""
        return f"{self.word.capitalize()} your usual"

    @property
    def detail(self) -> str:
        """The difference and the reference, e.g. `0.08 above 0.39, the median of this room's last 6 lectures`."""
        side = "above" if self.difference >= 0 else "below"
        return f"{abs(self.difference):.2f} {side} {self.usual.level:.2f}, {self.usual.basis}"

    def sentence(self) -> str:
        return f"{self.headline.lower()}: {self.detail}"


def usual_level(store: SessionReader, session: SessionInfo, intervals: pd.DataFrame) -> Usual | None:
    """The usual level `session` is read against: the median of its room's earlier finished lectures, else (a room's
    first lecture) its own opening (`intervals` is its interval table); None when neither has faces yet."""
    earlier = [
        other.mean_engagement
        for other in store.sessions(session.room, USUAL_LECTURES * 3)
        if other.started_at < session.started_at and other.status == "completed" and other.mean_engagement is not None
    ][:USUAL_LECTURES]
    if len(earlier) == 1:
        return Usual(earlier[0], "this room's one earlier lecture")
    if earlier:
        return Usual(statistics.median(earlier), f"the median of this room's last {len(earlier)} lectures")
    opening = weighted_engagement(intervals[intervals["offset_s"] < OPENING_S])
    if opening is None:
        return None
    return Usual(opening, f"this lecture's first {OPENING_S / 60:.0f} minutes (the room's first lecture)")


def read(value: float | None, usual: Usual | None) -> Reading | None:
    """`value` against `usual`; None when either is missing."""
    return None if value is None or usual is None else Reading(value, usual)
