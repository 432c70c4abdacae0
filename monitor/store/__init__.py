"""The session store: the only package that knows the schema or speaks SQL.

`open_store` picks the engine from the location: a SQLite file (the default, zero set-up) or a
central PostgreSQL server. Writers and readers use the protocols below; both engines implement them.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from monitor.store.location import StoreLocation
from monitor.store.records import HEARTBEAT_S, STALE_AFTER, STATUSES, Marker, RoomState, SessionInfo
from monitor.types import IntervalAggregate

if TYPE_CHECKING:
    from monitor.store.sql import NewerSchema, SqlStore, StoreUnavailable

__all__ = [
    "HEARTBEAT_S",
    "STALE_AFTER",
    "STATUSES",
    "Marker",
    "NewerSchema",
    "RoomState",
    "SessionInfo",
    "SessionReader",
    "SessionStore",
    "SessionWriter",
    "SqlStore",
    "StoreLocation",
    "StoreUnavailable",
    "open_store",
]


class SessionWriter(Protocol):
    """What a recording needs: one session, its intervals as they close, markers and a heartbeat."""

    location: StoreLocation

    def create_session(
        self,
        name: str,
        source: str,
        settings: dict[str, Any],
        started_at: datetime,
        *,
        room: str,
        host: str,
        uid: str | None = None,
    ) -> int: ...
    def add_interval(self, session_id: int, aggregate: IntervalAggregate) -> None: ...
    def add_marker(self, session_id: int, marker: Marker) -> None: ...
    def heartbeat(self, session_id: int, at: datetime | None = None) -> None: ...
    def finish_session(self, session_id: int, status: str, ended_at: datetime | None = None) -> None: ...


class SessionReader(Protocol):
    """What the dashboard, `show`, `sessions` and `export` read; records, never rows."""

    location: StoreLocation

    def sessions(self, room: str | None = None, limit: int | None = None) -> list[SessionInfo]: ...
    def session(self, session_id: int) -> SessionInfo: ...
    def rooms(self) -> list[str]: ...
    def resolve(self, key: str | None, room: str | None = None) -> SessionInfo: ...
    def running_sessions(self, room: str) -> list[SessionInfo]: ...
    def intervals(self, session_id: int, after: int = -1) -> list[IntervalAggregate]: ...
    def markers(self, session_id: int) -> list[Marker]: ...
    def older_than(self, age: timedelta) -> list[SessionInfo]: ...
    def room_states(self) -> list[RoomState]: ...


class SessionStore(SessionWriter, SessionReader, Protocol):
    """Both sides, plus the management commands."""

    def rename(self, session_id: int, name: str) -> None: ...
    def delete(self, session_ids: list[int]) -> None: ...
    def close(self) -> None: ...


def open_store(location: StoreLocation | str | os.PathLike[str], *, create: bool = True) -> SqlStore:
    """The store at `location` (a StoreLocation, a path or a URL)."""
    from monitor.store.sql import SqlStore

    return SqlStore(StoreLocation.of(location), create=create)


def __getattr__(name: str) -> object:
    """The SQL engine's names, loaded (with SQLAlchemy) when first used: the records and protocols above are light,
    so a pipeline imports them without it."""
    if name in ("NewerSchema", "SqlStore", "StoreUnavailable"):
        from monitor.store import sql

        return getattr(sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
