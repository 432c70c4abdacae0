"""`RoomScope`: a reader that sees only some rooms of a store, so a staff dashboard for one room (or a group of
rooms) never reads another room's lectures, whatever the browser asks for."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from monitor.errors import EngageError
from monitor.store import SessionInfo, SessionReader, StoreLocation
from monitor.store.records import Marker, RoomState
from monitor.types import IntervalAggregate


class RoomScope:
    """The sessions of `rooms` in `store`; any other session reads as absent."""

    def __init__(self, store: SessionReader, rooms: Iterable[str]) -> None:
        self.store = store
        self.scope = tuple(dict.fromkeys(rooms))
        self.location: StoreLocation = store.location

    def _in_scope(self, room: str | None) -> tuple[str, ...]:
        return self.scope if room is None else tuple(r for r in self.scope if r == room)

    def sessions(self, room: str | None = None, limit: int | None = None) -> list[SessionInfo]:
        found = [s for r in self._in_scope(room) for s in self.store.sessions(r, limit)]
        return sorted(found, key=lambda s: (s.started_at, s.id), reverse=True)[:limit]

    def session(self, session_id: int) -> SessionInfo:
        session = self.store.session(session_id)
        if session.room not in self.scope:
            raise EngageError(f"no session with id {session_id}")
        return session

    def rooms(self) -> list[str]:
        return [r for r in self.store.rooms() if r in self.scope]

    def resolve(self, key: str | None, room: str | None = None) -> SessionInfo:
        rooms = self._in_scope(room)
        if len(rooms) != 1:
            raise EngageError(f"{key!r}: name one room of {', '.join(self.scope)} to look a session up")
        return self.store.resolve(key, rooms[0])

    def running_sessions(self, room: str) -> list[SessionInfo]:
        return self.store.running_sessions(room) if room in self.scope else []

    def intervals(self, session_id: int, after: int = -1) -> list[IntervalAggregate]:
        return self.store.intervals(self.session(session_id).id, after)

    def markers(self, session_id: int) -> list[Marker]:
        return self.store.markers(self.session(session_id).id)

    def older_than(self, age: timedelta) -> list[SessionInfo]:
        return [s for s in self.store.older_than(age) if s.room in self.scope]

    def room_states(self) -> list[RoomState]:
        return [r for r in self.store.room_states() if r.room in self.scope]
