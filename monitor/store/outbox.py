"""A lecture never waits for the network: `live` writes to a local SQLite outbox, and a background
`Sender` pushes what the central store lacks, retrying with back-off while it is unreachable.

Pushes are idempotent (sessions by uid, intervals by index, markers by time and text), so a push
that fails half-way or is repeated stores every row once. Sessions fully pushed and finished leave
the outbox.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor import __version__
from monitor.core import now
from monitor.errors import EngageError
from monitor.store import open_store
from monitor.store.location import StoreLocation
from monitor.store.records import RoomState

if TYPE_CHECKING:
    from monitor.store.sql import SqlStore

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


def jittered(delay_s: float) -> float:
    """`delay_s` moved at random by up to a quarter either way, so rooms that lost the central store together do
    not retry in step when it comes back."""
    return delay_s * random.uniform(0.75, 1.25)


@dataclass(frozen=True)
class SendState:
    """What the sender knows: whether the central store answered last time, and rows not sent yet."""

    reachable: bool
    queued: int  # intervals in the outbox that the central store lacks
    error: str = ""


def push(outbox: SqlStore, central: SqlStore, prune: bool = True) -> dict[str, int]:
    """Push every outbox session to `central`; with `prune`, finished sessions, once pushed, leave the outbox.
    Returns how many intervals of each session (by uid) the central store now holds."""
    held = {}
    for local in outbox.sessions():
        central_id = central.upsert_session(local)
        pushed = central.last_interval_index(central_id)
        central.add_intervals(central_id, outbox.intervals(local.id, after=pushed))
        central.add_markers(central_id, outbox.markers(local.id))
        held[local.uid] = local.intervals
        if prune and local.recorded_status != "running":
            outbox.delete([local.id])
    return held


def queued(outbox: SqlStore, held: Mapping[str, int]) -> int:
    """Intervals of the outbox that the central store was not known to hold (`held`, from `push`)."""
    return sum(max(0, s.intervals - held.get(s.uid, 0)) for s in outbox.sessions())


class Sender(threading.Thread):
    """Pushes the outbox to the central store every `period_s`, backing off while it is unreachable."""

    def __init__(
        self, outbox: SqlStore, central: StoreLocation, period_s: float = 2.0, room: str = "", host: str = ""
    ) -> None:
        super().__init__(name="engage-sender", daemon=True)
        self.room, self.host = room, host
        self.activity = "recording"  # reported with each push: recording, camera lost, stopped
        self.outbox = outbox
        self.central_location = central
        self.period_s = period_s
        self._central: SqlStore | None = None
        self._held: dict[str, int] = {}
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.state = SendState(reachable=True, queued=0)

    def run(self) -> None:
        retry = 0.0  # 0 while the last push went through; else the back-off, doubling to RETRY_MAX_S
        while not self._stopping.is_set():
            retry = 0.0 if self.send_once() else min(retry * 2 or RETRY_FIRST_S, RETRY_MAX_S)
            self._wake.wait(jittered(retry) if retry else self.period_s)  # an interval closing (`nudge`) sends at once
            self._wake.clear()

    def send_once(self, prune: bool = False, wait_s: float = -1) -> bool:
        """One push; True if the central store took everything. The recording's own session stays in the
        outbox until `stop` (its command still reads it). Waits at most `wait_s` (-1: as long as it takes) for a
        push in progress."""
        if not self._lock.acquire(timeout=wait_s):
            return False
        try:
            if self._central is None:
                self._central = open_store(self.central_location)
            self._held = push(self.outbox, self._central, prune)
            self.state = SendState(reachable=True, queued=queued(self.outbox, self._held))
            if self.room:
                report = RoomState(self.room, self.host, self.activity, self.state.queued, __version__, now())
                self._central.report_room(report)
            return self.state.queued == 0
        except EngageError as exc:  # unreachable, or refusing us (say, a newer schema): the outbox keeps all
            self.state = SendState(reachable=False, queued=queued(self.outbox, self._held), error=str(exc))
            return False
        finally:
            self._lock.release()

    def nudge(self) -> None:
        """Send now (an interval just closed)."""
        self._wake.set()

    def stop(self, flush_timeout_s: float = 10.0) -> SendState:
        """Stop the thread after a last push (waiting at most `flush_timeout_s`)."""
        self._stopping.set()
        self.activity = "stopped"
        self._wake.set()
        started = time.monotonic()
        if self.is_alive():
            self.join(flush_timeout_s)
        self.send_once(prune=True, wait_s=max(0.0, flush_timeout_s - (time.monotonic() - started)))
        if self._central is not None:
            self._central.close()
        return self.state

    @property
    def status(self) -> str:
        """For the live status line: empty while all is sent."""
        state = self.state
        if not state.reachable:
            return f"central store unreachable, {state.queued} intervals queued"
        return f"{state.queued} intervals queued" if state.queued else ""
