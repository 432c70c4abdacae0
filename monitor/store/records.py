"""Typed records the store takes and returns (besides `monitor.types.IntervalAggregate`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.core import now

STATUSES = ("running", "completed", "interrupted")
HEARTBEAT_S = 30.0  # a running session's writer touches it at least this often
STALE_AFTER = timedelta(seconds=4 * HEARTBEAT_S)  # a running session silent this long reads as interrupted


@dataclass(frozen=True)
class Marker:
    """A time-stamped note in a session (`engage mark`, the preview's m key)."""

    offset_s: float
    wall: datetime
    text: str


@dataclass(frozen=True)
class SessionInfo:
    """One recorded session with its summary figures."""

    id: int
    uid: str  # the same on the outbox and the central store
    name: str
    room: str
    host: str
    source: str
    started_at: datetime
    ended_at: datetime | None
    recorded_status: str  # as the writer last stored it
    heartbeat_at: datetime
    settings: dict[str, Any]
    intervals: int
    media_end_s: float | None
    mean_engagement: float | None
    faces_seen: int  # largest number of faces in one analyzed frame

    @property
    def status(self) -> str:
        """`running` only while the writer's heartbeat is fresh: a silent writer's session reads as interrupted."""
        if self.recorded_status == "running" and now() - self.heartbeat_at > STALE_AFTER:
            return "interrupted"
        return self.recorded_status

    @property
    def duration_s(self) -> float:
        """Seconds recorded: to the last interval; a session without one lasts until it ended, or, silent, until
        its writer's last heartbeat (an interrupted session does not grow with the clock)."""
        if self.media_end_s is not None:
            return self.media_end_s
        end = self.ended_at or (now() if self.status == "running" else self.heartbeat_at)
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def empty(self) -> bool:
        """Finished without a single interval: nothing to show (a lecture that failed at its start)."""
        return self.intervals == 0 and self.status != "running"

    @property
    def described(self) -> str:
        """`12 (Physics 9b, room B12, 2026-12-02 09:00, 0:45:10)`: enough to tell two lectures apart."""
        seconds = round(self.duration_s)
        length = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        return f"{self.id} ({self.name}, room {self.room}, {self.started_at:%Y-%m-%d %H:%M}, {length})"


@dataclass(frozen=True)
class RoomState:
    """A recording room's last report to the store (`engage live`, `engage room`)."""

    room: str
    host: str
    state: str  # recording, camera lost, idle (next lecture ...), stopped
    queued: int  # intervals its outbox still holds for the store
    version: str
    seen_at: datetime

    @property
    def silent(self) -> bool:
        """It said it was recording but has not reported for longer than a writer may stay silent."""
        return (
            self.state not in ("stopped",) and not self.state.startswith("idle") and now() - self.seen_at > STALE_AFTER
        )
