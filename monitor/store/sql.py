"""`SqlStore`: the session store on SQLite (a local file, WAL) or PostgreSQL, through SQLAlchemy Core.

Every write is one short transaction; readers never block the writer of a running lecture. Intervals
and markers are written with idempotent upserts, so pushing the same rows twice stores them once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from monitor.core import CLASSES, now
from monitor.errors import EngageError
from monitor.store import schema
from monitor.store.location import StoreLocation
from monitor.store.records import STATUSES, Marker, RoomState, SessionInfo
from monitor.types import IntervalAggregate

T = TypeVar("T")
REFUSALS = ("authentication failed", "does not exist", "no password supplied", "permission denied")  # no retry helps
UPGRADE_LOCK = 0x656E67616765  # "engage": the PostgreSQL advisory lock that serialises schema upgrades
SESSION, INTERVAL, MARKER = schema.sessions.c, schema.intervals.c, schema.markers.c


def _upserting_insert(dialect: str) -> Callable[..., Any]:
    """The dialect's INSERT that can upsert (its dialect module loaded only for the engine in use)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


class StoreUnavailable(EngageError):
    """The database cannot be reached now (server down, network gone); retrying later may work."""


class NewerSchema(EngageError):
    """A newer engage upgraded the database past what this one may write: upgrading this engage fixes it."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone()


class SqlStore:
    """Open (creating or upgrading) the store at `location`.

    `create=False` refuses a missing SQLite file or an empty database instead of creating one.
    """

    def __init__(self, location: StoreLocation, *, create: bool = True) -> None:
        self.location = location
        self.newer_schema: int | None = None
        read_only = False
        if location.is_local:
            if not create and not location.path.is_file():
                raise EngageError(f"no session database at {location}; record a session with `engage live` first")
            _check_sqlite_file(location)
            try:
                location.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise EngageError(f"session database {location} cannot be created: {exc.strerror}") from None
            read_only = not create and not location.writable  # read-only media: readable, never written
        self._engine = location.engine(read_only)
        if location.is_local:
            sa.event.listen(self._engine, "connect", _sqlite_connection)
            sa.event.listen(self._engine, "begin", _sqlite_begin)
        self._insert = _upserting_insert(self.dialect)
        self._open(create)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def _open(self, create: bool) -> None:
        """Check the schema; create or upgrade it (the only write an open may do) where it is older. A database
        of other tables, or of a newer engage, is refused before anything is written to it."""

        def check(db: Connection) -> int:
            version = schema.stored_version(db)
            if version == 0 and (tables := sa.inspect(db).get_table_names()):
                version = schema.stored_version(db)  # another room may have created engage's tables just now
                if version == 0:
                    shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
                    raise EngageError(f"{self.location} is not an engage database (it holds {shown}); use another --db")
            if version > schema.SCHEMA_VERSION:
                oldest = schema.oldest_writer(db)
                if oldest is None or oldest > schema.SCHEMA_VERSION:
                    raise NewerSchema(
                        f"{self.location} was upgraded by a newer engage (schema {version}; this engage writes "
                        f"{schema.SCHEMA_VERSION}): upgrade engage here"
                    )
                self.newer_schema = version  # a newer engage upgraded it, and says this one may still write
            if version == 0 and not create:
                raise EngageError(f"no engage sessions in {self.location}; record a session with `engage live` first")
            return version

        def upgrade(db: Connection) -> None:  # checked again under the write lock: another process may have won
            if db.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE serialises; PostgreSQL needs a lock
                db.execute(sa.select(sa.func.pg_advisory_xact_lock(UPGRADE_LOCK)))
            version = check(db)
            if version < schema.SCHEMA_VERSION:
                schema.migrate(db, version)

        if self._read(check) < schema.SCHEMA_VERSION:
            self._write(upgrade)
        if self.location.is_local and create:
            self._use_wal()

    def _use_wal(self) -> None:
        """SQLite's write-ahead log (readers never block the recording; kept in the file once set)."""
        with self._connection() as db:
            raw = db.connection.driver_connection
            if raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                raw.execute("PRAGMA journal_mode=WAL")

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A connection; driver errors become one-line EngageErrors that never show a password."""
        try:
            with self._engine.connect() as db:
                yield db
        except SQLAlchemyError as exc:
            text = str(getattr(exc, "orig", None) or exc).strip()
            reason = self.location.scrub(text.splitlines()[0] if text else type(exc).__name__)
            retryable = isinstance(exc, OperationalError) and not any(hint in reason for hint in REFUSALS)
            if retryable and not self.location.is_local:
                raise StoreUnavailable(f"central store {self.location} unreachable: {reason}") from None
            raise EngageError(f"session database {self.location} cannot be used: {reason}") from None

    def _write(self, work: Callable[[Connection], T]) -> T:
        with self._connection() as db, db.execution_options(engage_write=True).begin():
            return work(db)

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self._connection() as db:
            return work(db)

    # --- writing -------------------------------------------------------------------------------

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
    ) -> int:
        values = {
            "uid": uid or str(uuid.uuid4()),
            "name": name,
            "room": room,
            "host": host,
            "source": source,
            "started_at": _iso(started_at),
            "status": "running",
            "heartbeat_at": _iso(now()),
            "settings": json.dumps(settings),
        }

        def create(db: Connection) -> int:
            known = db.execute(sa.select(SESSION.id).where(SESSION.uid == values["uid"])).scalar_one_or_none()
            if known is not None:  # the same recording analyzed again: its session goes on, nothing stored twice
                reopen = {"status": "running", "ended_at": None, "heartbeat_at": values["heartbeat_at"]}
                db.execute(schema.sessions.update().where(SESSION.id == known).values(reopen))
                return int(known)
            if self.dialect == "sqlite":  # ids are never given twice (PostgreSQL's sequence already holds to that)
                highest = db.execute(sa.select(sa.func.coalesce(sa.func.max(SESSION.id), 0))).scalar_one()
                values["id"] = max(highest, int(_meta(db, LAST_ID) or 0)) + 1
            return int(db.execute(schema.sessions.insert().values(values)).inserted_primary_key[0])

        return self._write(create)

    def add_interval(self, session_id: int, aggregate: IntervalAggregate) -> None:
        self.add_intervals(session_id, [aggregate])

    def add_intervals(self, session_id: int, aggregates: Sequence[IntervalAggregate]) -> int:
        """Store intervals not stored yet (by index) and update the session's summaries; the number new."""
        if not aggregates:
            return 0
        rows = [_interval_row(session_id, a) for a in aggregates]

        def write(db: Connection) -> int:
            insert = self._insert(schema.intervals).on_conflict_do_nothing(index_elements=["session_id", "idx"])
            new = set(db.execute(insert.returning(INTERVAL.idx), rows).scalars())
            added = [a for a in aggregates if a.index in new]
            if added:
                db.execute(schema.sessions.update().where(SESSION.id == session_id).values(_summary_update(added)))
            return len(added)

        return self._write(write)

    def heartbeat(self, session_id: int, at: datetime | None = None) -> None:
        """The session's writer is alive (see `records.STALE_AFTER`)."""
        moment = _iso(at or now())
        self._write(
            lambda db: db.execute(schema.sessions.update().where(SESSION.id == session_id).values(heartbeat_at=moment))
        )

    def finish_session(self, session_id: int, status: str, ended_at: datetime | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        ended = _iso(ended_at or now())
        update = schema.sessions.update().where(SESSION.id == session_id)
        self._write(
            lambda db: db.execute(update.values(status=status, ended_at=sa.func.coalesce(SESSION.ended_at, ended)))
        )

    def add_markers(self, session_id: int, markers: Sequence[Marker]) -> None:
        rows = [
            {"session_id": session_id, "offset_s": m.offset_s, "wall": _iso(m.wall), "text": m.text} for m in markers
        ]
        insert = self._insert(schema.markers).on_conflict_do_nothing(index_elements=["session_id", "wall", "text"])
        if rows:
            self._write(lambda db: db.execute(insert, rows))

    def add_marker(self, session_id: int, marker: Marker) -> None:
        self.add_markers(session_id, [marker])

    def rename(self, session_id: int, name: str) -> None:
        self._write(lambda db: db.execute(schema.sessions.update().where(SESSION.id == session_id).values(name=name)))

    def delete(self, session_ids: Sequence[int]) -> None:
        ids = list(session_ids)

        def delete(db: Connection) -> None:
            if ids and self.dialect == "sqlite":
                _set_meta(db, self._insert, LAST_ID, str(max(max(ids), int(_meta(db, LAST_ID) or 0))))
            db.execute(schema.intervals.delete().where(INTERVAL.session_id.in_(ids)))
            db.execute(schema.markers.delete().where(MARKER.session_id.in_(ids)))
            db.execute(schema.sessions.delete().where(SESSION.id.in_(ids)))

        self._write(delete)

    def upsert_session(self, session: SessionInfo) -> int:
        """Create or update (by uid) a session recorded elsewhere; its id here. Summaries follow its intervals."""
        values = {
            "uid": session.uid,
            "name": session.name,
            "room": session.room,
            "host": session.host,
            "source": session.source,
            "started_at": _iso(session.started_at),
            "ended_at": _iso(session.ended_at) if session.ended_at else None,
            "status": session.recorded_status,
            "heartbeat_at": _iso(session.heartbeat_at),
            "settings": json.dumps(session.settings),
        }
        insert = self._insert(schema.sessions).values(values)
        new = insert.excluded
        # A push read before the lecture ended (another process sharing the outbox) never reopens it: a finished
        # session stays finished, and only 'completed' replaces 'interrupted' (a recording analyzed again to its end).
        status = sa.case(
            (sa.or_(SESSION.status == "running", new.status == "completed"), new.status), else_=SESSION.status
        )
        changing = {
            "name": new.name,
            "ended_at": sa.func.coalesce(new.ended_at, SESSION.ended_at),
            "status": status,
            "heartbeat_at": new.heartbeat_at,
        }
        upsert = insert.on_conflict_do_update(index_elements=["uid"], set_=changing)
        return self._write(lambda db: int(db.execute(upsert.returning(SESSION.id)).scalar_one()))

    def report_room(self, state: RoomState) -> None:
        """A room's report of what it is doing (one row per room, the newest kept)."""
        values = {
            "room": state.room,
            "host": state.host,
            "state": state.state,
            "queued": state.queued,
            "version": state.version,
            "seen_at": _iso(state.seen_at),
        }
        insert = self._insert(schema.room_status).values(values)
        upsert = insert.on_conflict_do_update(index_elements=["room"], set_={k: insert.excluded[k] for k in values})
        self._write(lambda db: db.execute(upsert))

    def room_states(self) -> list[RoomState]:
        query = schema.room_status.select().order_by(schema.room_status.c.room)
        rows = self._read(lambda db: db.execute(query).mappings().all())
        return [RoomState(**{**row, "seen_at": _moment(row["seen_at"])}) for row in rows]

    def run_statements(self, statements: list[str]) -> None:
        """Run SQL statements in one transaction (the owner's grants)."""
        self._write(lambda db: [db.exec_driver_sql(statement) for statement in statements])

    def set_policy(self, name: str, value: str) -> None:
        """Keep a policy (say, the retention period) in the store itself, for every room that uses it."""
        self._write(lambda db: _set_meta(db, self._insert, name, value))

    # --- reading -------------------------------------------------------------------------------

    def policy(self, name: str) -> str | None:
        return self._read(lambda db: _meta(db, name))

    def sessions(self, room: str | None = None, limit: int | None = None) -> list[SessionInfo]:
        """Sessions, newest first, of one room or of all (the newest `limit` of them)."""
        query = schema.sessions.select().order_by(SESSION.started_at.desc(), SESSION.id.desc()).limit(limit)
        if room is not None:
            query = query.where(SESSION.room == room)
        return self._read(lambda db: [_session_info(row) for row in db.execute(query).mappings()])

    def session(self, session_id: int) -> SessionInfo:
        query = schema.sessions.select().where(SESSION.id == session_id)
        row = self._read(lambda db: db.execute(query).mappings().first())
        if row is None:
            raise EngageError(f"no session with id {session_id}")
        return _session_info(row)

    def rooms(self) -> list[str]:
        query = sa.select(SESSION.room).distinct().order_by(SESSION.room)
        return self._read(lambda db: list(db.execute(query).scalars()))

    def room_named(self, room: str | None) -> str | None:
        """The stored spelling of `room` (matched regardless of case); an unknown room is an error listing them."""
        if room is None:
            return None
        rooms = self.rooms()
        found = [r for r in rooms if r.casefold() == room.casefold()]
        if not found:
            raise EngageError(f"no room {room!r}; rooms: {', '.join(rooms) or 'none recorded yet'}")
        return room if room in found else found[0]

    def resolve(self, key: str | None, room: str | None = None) -> SessionInfo:
        """A session by id, by an unambiguous name prefix, or `latest` (also no key): the newest (within `room`)."""
        room = self.room_named(room)
        sessions = self.sessions(room)
        where = f" in room {room!r}" if room is not None else ""
        if key is None or key.strip().lower() == "latest":
            if not sessions:
                raise EngageError(f"no session recorded{where} yet")
            return sessions[0]
        if key.isdigit():
            match = [s for s in sessions if s.id == int(key)]
        else:
            exact = [s for s in sessions if s.name == key]
            match = exact or [s for s in sessions if s.name.lower().startswith(key.lower())]
        if len(match) == 1:
            return match[0]
        if not match:
            known = "; ".join(s.described for s in sessions[:5]) or "none recorded yet"
            raise EngageError(f"no session matches {key!r}{where}; newest: {known}")
        candidates = "; ".join(s.described for s in match[:10])
        raise EngageError(f"{key!r} is ambiguous{where}: {candidates}; give the id")

    def running_sessions(self, room: str) -> list[SessionInfo]:
        """The sessions of `room` whose writer is alive, newest first."""
        query = (
            schema.sessions.select()
            .where(SESSION.room == room, SESSION.status == "running")
            .order_by(SESSION.started_at.desc())
        )
        rows = self._read(lambda db: db.execute(query).mappings().all())
        return [s for s in map(_session_info, rows) if s.status == "running"]

    def intervals(self, session_id: int, after: int = -1) -> list[IntervalAggregate]:
        """The session's intervals in time order (those with an index above `after`)."""
        query = (
            schema.intervals.select()
            .where(INTERVAL.session_id == session_id, INTERVAL.idx > after)
            .order_by(INTERVAL.idx)
        )
        return self._read(lambda db: [_aggregate(row) for row in db.execute(query).mappings()])

    def last_interval_index(self, session_id: int) -> int:
        query = sa.select(sa.func.coalesce(sa.func.max(INTERVAL.idx), -1)).where(INTERVAL.session_id == session_id)
        return self._read(lambda db: int(db.execute(query).scalar_one()))

    def markers(self, session_id: int) -> list[Marker]:
        query = schema.markers.select().where(MARKER.session_id == session_id).order_by(MARKER.offset_s, MARKER.id)
        rows = self._read(lambda db: db.execute(query).mappings().all())
        return [Marker(row["offset_s"], _moment(row["wall"]), row["text"]) for row in rows]

    def older_than(self, age: timedelta) -> list[SessionInfo]:
        cutoff = now() - age
        return [s for s in self.sessions() if s.status != "running" and s.started_at < cutoff]


LAST_ID = "last_session_id"


def _meta(db: Connection, name: str) -> str | None:
    return db.execute(sa.select(schema.meta.c.value).where(schema.meta.c.name == name)).scalar_one_or_none()


def _set_meta(db: Connection, insert: Callable[..., Any], name: str, value: str) -> None:
    statement = insert(schema.meta).values(name=name, value=value)
    db.execute(statement.on_conflict_do_update(index_elements=["name"], set_={"value": statement.excluded.value}))


def _sqlite_begin(db: Connection) -> None:
    """Writers take SQLite's write lock at once (so they wait for each other, never fail half-way)."""
    db.exec_driver_sql("BEGIN IMMEDIATE" if db.get_execution_options().get("engage_write") else "BEGIN")


def _sqlite_connection(connection: Any, _: object) -> None:
    connection.isolation_level = None  # SQLAlchemy's "begin" event opens every transaction
    connection.execute("PRAGMA foreign_keys=ON")


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(location: StoreLocation) -> None:
    """Refuse, untouched, a file that is not SQLite at all (a CSV, a document) before SQLite opens it."""
    try:
        with location.path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except (FileNotFoundError, NotADirectoryError):  # not there yet: created, or refused, further on
        return
    except OSError as exc:
        raise EngageError(f"session database {location} cannot be read: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise EngageError(f"{location} is not an engage database (not a SQLite file); give another --db")


def _interval_row(session_id: int, a: IntervalAggregate) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "idx": a.index,
        "start_wall": _iso(a.start_wall),
        "offset_s": a.offset_s,
        "duration_s": a.duration_s,
        "frames": a.frames,
        "skipped_frames": a.skipped_frames,
        "faces_mean": a.faces_mean,
        "faces_max": a.faces_max,
        "tracks": a.tracks,
        **{f"n_{c}": a.class_counts[c] for c in CLASSES},
        **{f"p_{c}": a.class_means[c] for c in CLASSES},
        "engagement": a.engagement,
        "below_min_faces": a.below_min_faces,
        "attention": a.attention,
    }


def _greatest(column: sa.ColumnElement[Any], value: float) -> sa.ColumnElement[Any]:
    return sa.case((column.is_(None) | (column < value), value), else_=column)


def _summary_update(added: Sequence[IntervalAggregate]) -> dict[str, Any]:
    seen = [a for a in added if a.engagement is not None]
    weight = sum(a.faces_mean * a.frames for a in seen)
    return {
        "n_intervals": SESSION.n_intervals + len(added),
        "media_end_s": _greatest(SESSION.media_end_s, max(a.offset_s + a.duration_s for a in added)),
        "engagement_sum": SESSION.engagement_sum + sum((a.engagement or 0.0) * a.faces_mean * a.frames for a in seen),
        "engagement_weight": SESSION.engagement_weight + weight,
        "faces_seen": _greatest(SESSION.faces_seen, max(a.faces_max for a in added)),
        "heartbeat_at": _iso(now()),
    }


def _session_info(row: sa.RowMapping) -> SessionInfo:
    weight = row["engagement_weight"]
    return SessionInfo(
        id=row["id"],
        uid=row["uid"],
        name=row["name"],
        room=row["room"],
        host=row["host"],
        source=row["source"],
        started_at=_moment(row["started_at"]),
        ended_at=_moment(row["ended_at"]) if row["ended_at"] else None,
        recorded_status=row["status"],
        heartbeat_at=_moment(row["heartbeat_at"]),
        settings=json.loads(row["settings"]),
        intervals=row["n_intervals"],
        media_end_s=row["media_end_s"],
        mean_engagement=row["engagement_sum"] / weight if weight > 0 else None,
        faces_seen=row["faces_seen"],
    )


def _aggregate(row: sa.RowMapping) -> IntervalAggregate:
    return IntervalAggregate(
        index=row["idx"],
        start_wall=_moment(row["start_wall"]),
        offset_s=row["offset_s"],
        duration_s=row["duration_s"],
        frames=row["frames"],
        skipped_frames=row["skipped_frames"],
        faces_mean=row["faces_mean"],
        faces_max=row["faces_max"],
        tracks=row["tracks"],
        class_counts={c: row[f"n_{c}"] for c in CLASSES},
        class_means={c: row[f"p_{c}"] for c in CLASSES},
        engagement=row["engagement"],
        below_min_faces=bool(row["below_min_faces"]),
        attention=row["attention"],
    )
