"""A recording never waits for its store: `WriteBehind` queues a session's writes and a background thread
applies them in order, retrying with back-off while the store refuses them.

A write that fails (SQLite locked by another program past its busy timeout, a full disk, a lost
connection) stays at the head of the queue and the writes behind it wait in memory: at most
`MAX_HELD_INTERVALS` intervals (28 hours of lecture at the default 10 s interval, about 10 MB); beyond
that the oldest held interval is dropped and counted. Every write is idempotent (intervals by index,
markers by time and text), so a retry of a write that did land stores it once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.core import now
from monitor.errors import EngageError
from monitor.store.outbox import jittered
from monitor.store.records import Marker
from monitor.types import IntervalAggregate

if TYPE_CHECKING:
    from monitor.store import SessionWriter

MAX_HELD_INTERVALS = 10_000
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 15.0
SLOW_WRITE_S = 1.0  # a write taking longer than this shows on the status line


class WriteBehind:
    """Writes of session `session_id` to `store`, applied in order by a background thread."""

    def __init__(self, store: SessionWriter, session_id: int, max_held: int = MAX_HELD_INTERVALS) -> None:
        self.store = store
        self.session_id = session_id
        self.max_held = max_held
        self._queue: deque[tuple[str, Callable[[], None]]] = deque()
        self._beat: datetime | None = None  # a heartbeat due once the queue is empty
        self._changed = threading.Condition()
        self._error = ""
        self._writing_since: float | None = None  # when the write in progress began
        self._dropped = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="engage-store-writer", daemon=True)
        self._thread.start()

    # --- what the pipeline calls; none of these waits for the store ---------------------------

    def add_interval(self, aggregate: IntervalAggregate) -> None:
        self._put("interval", lambda: self.store.add_interval(self.session_id, aggregate))

    def add_marker(self, marker: Marker) -> None:
        self._put("marker", lambda: self.store.add_marker(self.session_id, marker))

    def heartbeat(self) -> None:
        with self._changed:
            self._beat = now()
            self._changed.notify_all()

    def finish(self, status: str, ended_at: datetime) -> None:
        self._put("finish", lambda: self.store.finish_session(self.session_id, status, ended_at))

    def _put(self, kind: str, write: Callable[[], None]) -> None:
        with self._changed:
            if kind == "interval" and self.held >= self.max_held:
                oldest = next(i for i, (k, _) in enumerate(self._queue) if k == "interval" and i > 0)
                del self._queue[oldest]
                self._dropped += 1
            self._queue.append((kind, write))
            self._changed.notify_all()

    # --- state ---------------------------------------------------------------------------------

    @property
    def held(self) -> int:
        """Intervals not written yet."""
        return sum(kind == "interval" for kind, _ in self._queue)

    @property
    def status(self) -> str:
        """For the status line: empty while the store takes every write."""
        with self._changed:
            slow = self._writing_since is not None and time.monotonic() - self._writing_since > SLOW_WRITE_S
            if not (self._error or self._dropped or slow):
                return ""
            lost = f", {self._dropped} dropped beyond the bound of {self.max_held}" if self._dropped else ""
            why = f": {self._error}" if self._error else ": waiting for the store"
            return f"store busy, {self.held} intervals held in memory{lost}{why}"

    def wait(self, timeout_s: float) -> bool:
        """Wait until every write so far has landed; False if `timeout_s` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and self._beat is None, timeout_s)

    def close(self, timeout_s: float, notify: Callable[[str], None] | None = None) -> bool:
        """Write what is queued, waiting at most `timeout_s` (telling `notify` after the first second), then stop.
        True if every write landed."""
        if not self.wait(min(1.0, timeout_s)) and notify:
            notify(f"{self.status or 'writing to the store'}; waiting up to {timeout_s:.0f} s (Ctrl-C gives up)")
            self.wait(timeout_s)
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join(5.0)
        with self._changed:
            return not self._queue and not self._dropped

    # --- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        delay = 0.0
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._beat is not None or self._closing)
                if self._closing and (self._error or not (self._queue or self._beat)):
                    return
                kind, write = self._queue[0] if self._queue else ("heartbeat", None)
                moment = self._beat
                self._writing_since = time.monotonic()
            try:
                if write is None:
                    self.store.heartbeat(self.session_id, moment)
                else:
                    write()
            except (EngageError, OSError) as exc:
                delay = min(delay * 2 or RETRY_FIRST_S, RETRY_MAX_S)
                with self._changed:
                    self._error, self._writing_since = str(exc), None
                    self._changed.notify_all()
                    self._changed.wait(jittered(delay))  # `close` wakes it for a last try
                continue
            delay = 0.0
            with self._changed:
                if kind == "heartbeat":
                    self._beat = None if self._beat == moment else self._beat
                else:
                    self._queue.popleft()
                self._error, self._writing_since = "", None
                self._changed.notify_all()
