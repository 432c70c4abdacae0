"""The session store: one SQLite file (WAL) holding sessions, interval aggregates and markers.

This module is the only place that knows the schema. Readers (dashboard, export) never block
the writer of a running session, and each interval is committed in its own transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from monitor.errors import EngageError
from monitor.model import CLASSES
from monitor.types import IntervalAggregate

DEFAULT_DB = Path("sessions") / "engage.db"
STATUSES = ("running", "completed", "interrupted")

_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL,
    settings TEXT NOT NULL,
    pid INTEGER
);
CREATE TABLE intervals (
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start_wall TEXT NOT NULL,
    offset_s REAL NOT NULL,
    duration_s REAL NOT NULL,
    frames INTEGER NOT NULL,
    skipped_frames INTEGER NOT NULL,
    faces_mean REAL NOT NULL,
    faces_max INTEGER NOT NULL,
    tracks INTEGER NOT NULL,
    n_positive INTEGER NOT NULL,
    n_neutral INTEGER NOT NULL,
    n_negative INTEGER NOT NULL,
    p_positive REAL,
    p_neutral REAL,
    p_negative REAL,
    engagement REAL,
    PRIMARY KEY (session_id, idx)
);
"""
_V2 = """
CREATE TABLE markers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    offset_s REAL NOT NULL,
    wall TEXT NOT NULL,
    text TEXT NOT NULL
);
"""
MIGRATIONS: tuple[str, ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)

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
    "n_positive",
    "n_neutral",
    "n_negative",
    "p_positive",
    "p_neutral",
    "p_negative",
    "engagement",
)


@dataclass(frozen=True)
class SessionInfo:
    """One recorded session with its summary figures."""

    id: int
    name: str
    source: str
    started_at: datetime
    ended_at: datetime | None
    status: str
    settings: dict[str, Any]
    duration_s: float
    mean_engagement: float | None
    faces_seen: int  # largest number of faces in one analyzed frame


def now() -> datetime:
    return datetime.now(UTC).astimezone()


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SessionStore:
    """Open (creating or migrating) the session database at `path`.

    Opening also marks sessions left `running` by a process that died as `interrupted`.
    """

    def __init__(self, path: Path | str = DEFAULT_DB, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise EngageError(f"no session database at {self.path}; record a session with `engage live` first")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self.mark_abandoned_sessions()
        except sqlite3.DatabaseError as exc:
            raise EngageError(f"session database {self.path} cannot be used: {exc}") from None
        except OSError as exc:
            raise EngageError(f"session database {self.path} cannot be created: {exc.strerror}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise EngageError(f"{self.path} was written by a newer engage (schema {version}); please upgrade")
        for number in range(version, SCHEMA_VERSION):
            self._db.executescript(f"BEGIN; {MIGRATIONS[number]} PRAGMA user_version = {number + 1}; COMMIT;")

    def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            result = work(self._db)
            self._db.execute("COMMIT")
            return result
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # --- writing -------------------------------------------------------------------------------

    def mark_abandoned_sessions(self) -> list[int]:
        """Sessions left `running` by a process that no longer exists become `interrupted`."""
        rows = self._db.execute("SELECT id, pid FROM sessions WHERE status = 'running'").fetchall()
        stale = [row["id"] for row in rows if not _pid_alive(row["pid"])]
        for session_id in stale:
            self.finish_session(session_id, "interrupted")
        return stale

    def create_session(self, name: str, source: str, settings: dict[str, Any], started_at: datetime) -> int:
        def insert(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "INSERT INTO sessions (name, source, started_at, status, settings, pid) VALUES (?, ?, ?, ?, ?, ?)",
                (name, source, started_at.isoformat(), "running", json.dumps(settings), os.getpid()),
            )
            return int(cursor.lastrowid or 0)

        return self._transaction(insert)

    def add_interval(self, session_id: int, a: IntervalAggregate) -> None:
        values = (
            session_id,
            a.index,
            a.start_wall.isoformat(),
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
        )
        self._transaction(lambda db: db.execute(f"INSERT INTO intervals VALUES ({','.join('?' * 17)})", values))

    def finish_session(self, session_id: int, status: str, ended_at: datetime | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        self._transaction(
            lambda db: db.execute(
                "UPDATE sessions SET status = ?, ended_at = COALESCE(ended_at, ?) WHERE id = ?",
                (status, (ended_at or now()).isoformat(), session_id),
            )
        )

    def add_marker(self, session_id: int, text: str, offset_s: float, wall: datetime) -> None:
        self._transaction(
            lambda db: db.execute(
                "INSERT INTO markers (session_id, offset_s, wall, text) VALUES (?, ?, ?, ?)",
                (session_id, offset_s, wall.isoformat(), text),
            )
        )

    def rename(self, session_id: int, name: str) -> None:
        self._transaction(lambda db: db.execute("UPDATE sessions SET name = ? WHERE id = ?", (name, session_id)))

    def delete(self, session_ids: list[int]) -> None:
        self._transaction(lambda db: db.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in session_ids]))

    # --- reading -------------------------------------------------------------------------------

    def sessions(self, session_id: int | None = None) -> list[SessionInfo]:
        """All sessions, newest first, with their summary figures (or just the one with `session_id`)."""
        rows = self._db.execute(
            """SELECT s.*, MAX(i.offset_s + i.duration_s) AS media_end,
                      SUM(i.engagement * i.faces_mean * i.frames) / SUM(CASE WHEN i.engagement IS NOT NULL
                          THEN i.faces_mean * i.frames END) AS mean_engagement,
                      COALESCE(MAX(i.faces_max), 0) AS faces_seen
               FROM sessions s LEFT JOIN intervals i ON i.session_id = s.id
               WHERE ? IS NULL OR s.id = ?
               GROUP BY s.id ORDER BY s.started_at DESC, s.id DESC""",
            (session_id, session_id),
        ).fetchall()
        return [_session_info(row) for row in rows]

    def session(self, session_id: int) -> SessionInfo:
        found = self.sessions(session_id)
        if not found:
            raise EngageError(f"no session with id {session_id}")
        return found[0]

    def resolve(self, key: str) -> SessionInfo:
        """A session by id or by an unambiguous name prefix."""
        sessions = self.sessions()
        if key.isdigit():
            match = [s for s in sessions if s.id == int(key)]
        else:
            exact = [s for s in sessions if s.name == key]
            match = exact or [s for s in sessions if s.name.lower().startswith(key.lower())]
        if len(match) == 1:
            return match[0]
        if not match:
            known = ", ".join(f"{s.id} ({s.name})" for s in sessions[:10]) or "none recorded yet"
            raise EngageError(f"no session matches {key!r}; sessions: {known}")
        candidates = ", ".join(f"{s.id} ({s.name})" for s in match)
        raise EngageError(f"{key!r} is ambiguous: {candidates}")

    def running_session(self) -> SessionInfo | None:
        running = [s for s in self.sessions() if s.status == "running"]
        return running[0] if running else None

    def intervals(self, session_id: int) -> pd.DataFrame:
        """One row per interval, ordered by time; missing values are NaN (not zero)."""
        frame = pd.read_sql_query(
            "SELECT idx AS interval, " + ", ".join(INTERVAL_COLUMNS[1:]) + " FROM intervals WHERE session_id = ? "
            "ORDER BY idx",
            self._db,
            params=(session_id,),
        )
        frame["start_wall"] = pd.to_datetime(frame["start_wall"], format="ISO8601", utc=True)
        return frame

    def markers(self, session_id: int) -> pd.DataFrame:
        frame = pd.read_sql_query(
            "SELECT offset_s, wall, text FROM markers WHERE session_id = ? ORDER BY offset_s",
            self._db,
            params=(session_id,),
        )
        frame["wall"] = pd.to_datetime(frame["wall"], format="ISO8601", utc=True)
        return frame

    def older_than(self, age: timedelta) -> list[SessionInfo]:
        cutoff = now() - age
        return [s for s in self.sessions() if s.status != "running" and s.started_at < cutoff]


def _session_info(row: sqlite3.Row) -> SessionInfo:
    started = datetime.fromisoformat(row["started_at"])
    ended = datetime.fromisoformat(row["ended_at"]) if row["ended_at"] else None
    media_end = row["media_end"]
    duration = float(media_end) if media_end is not None else ((ended or now()) - started).total_seconds()
    return SessionInfo(
        id=row["id"],
        name=row["name"],
        source=row["source"],
        started_at=started,
        ended_at=ended,
        status=row["status"],
        settings=json.loads(row["settings"]),
        duration_s=duration,
        mean_engagement=row["mean_engagement"],
        faces_seen=row["faces_seen"],
    )
