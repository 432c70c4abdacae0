"""The one schema of both engines (SQLite and PostgreSQL) and its migrations.

A new database gets the current tables at once; an older one is upgraded step by step. The version
lives in `engage_schema`; databases from before that table kept it in SQLite's `user_version`.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

metadata = sa.MetaData()

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("room", sa.Text, nullable=False),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),  # ISO 8601 with offset, UTC
    sa.Column("ended_at", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("heartbeat_at", sa.Text, nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON
    # Summaries kept with each interval written, so listing lectures never scans the intervals.
    sa.Column("n_intervals", sa.Integer, nullable=False, server_default="0"),
    sa.Column("media_end_s", sa.Float),
    sa.Column("engagement_sum", sa.Float, nullable=False, server_default="0"),
    sa.Column("engagement_weight", sa.Float, nullable=False, server_default="0"),
    sa.Column("faces_seen", sa.Integer, nullable=False, server_default="0"),
    sa.Index("sessions_room_started", "room", "started_at"),
)

intervals = sa.Table(
    "intervals",
    metadata,
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("start_wall", sa.Text, nullable=False),
    sa.Column("offset_s", sa.Float, nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
    sa.Column("skipped_frames", sa.Integer, nullable=False),
    sa.Column("faces_mean", sa.Float, nullable=False),
    sa.Column("faces_max", sa.Integer, nullable=False),
    sa.Column("tracks", sa.Integer, nullable=False),
    sa.Column("n_positive", sa.Integer, nullable=False),
    sa.Column("n_neutral", sa.Integer, nullable=False),
    sa.Column("n_negative", sa.Integer, nullable=False),
    sa.Column("p_positive", sa.Float),
    sa.Column("p_neutral", sa.Float),
    sa.Column("p_negative", sa.Float),
    sa.Column("engagement", sa.Float),
    sa.Column("below_min_faces", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("attention", sa.Float),
)

markers = sa.Table(
    "markers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("offset_s", sa.Float, nullable=False),
    sa.Column("wall", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.UniqueConstraint("session_id", "wall", "text", name="markers_natural_key"),
)

# Each recording room's last report: what it is doing, what it still holds, which engage it runs.
room_status = sa.Table(
    "room_status",
    metadata,
    sa.Column("room", sa.Text, primary_key=True),
    sa.Column("host", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # recording, camera lost, idle (with the next lecture), stopped
    sa.Column("queued", sa.Integer, nullable=False),  # intervals its outbox still holds
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("seen_at", sa.Text, nullable=False),  # ISO 8601, UTC
)

schema_table = sa.Table("engage_schema", metadata, sa.Column("version", sa.Integer, nullable=False))

# What the store keeps about itself: its retention policy (so every room that writes to it follows it) and, on
# SQLite, the highest session id it ever gave (so a deleted session's id is never given again).
meta = sa.Table(
    "engage_meta", metadata, sa.Column("name", sa.Text, primary_key=True), sa.Column("value", sa.Text, nullable=False)
)


def _legacy_v1_to_v2(db: Connection) -> None:
    db.exec_driver_sql(
        "CREATE TABLE markers (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL "
        "REFERENCES sessions(id) ON DELETE CASCADE, offset_s REAL NOT NULL, wall TEXT NOT NULL, text TEXT NOT NULL)"
    )


def _v3_rooms_heartbeats_summaries(db: Connection) -> None:
    """SQLite files of engage 0.1 (schema 2): rooms, hosts, ids shared with a central store, heartbeats
    instead of process ids, and per-session summaries."""
    host = socket.gethostname()
    for column in (
        "uid TEXT",
        f"room TEXT NOT NULL DEFAULT '{_quoted(host)}'",
        f"host TEXT NOT NULL DEFAULT '{_quoted(host)}'",
        "heartbeat_at TEXT",
        "n_intervals INTEGER NOT NULL DEFAULT 0",
        "media_end_s FLOAT",
        "engagement_sum FLOAT NOT NULL DEFAULT 0",
        "engagement_weight FLOAT NOT NULL DEFAULT 0",
        "faces_seen INTEGER NOT NULL DEFAULT 0",
    ):
        db.exec_driver_sql(f"ALTER TABLE sessions ADD COLUMN {column}")
    db.exec_driver_sql("ALTER TABLE sessions DROP COLUMN pid")
    for (session_id,) in db.exec_driver_sql("SELECT id FROM sessions").fetchall():
        db.exec_driver_sql("UPDATE sessions SET uid = ? WHERE id = ?", (str(uuid.uuid4()), session_id))
    weight = "i.faces_mean * i.frames"
    db.exec_driver_sql(
        f"""UPDATE sessions SET
            heartbeat_at = COALESCE(ended_at, started_at),
            n_intervals = (SELECT COUNT(*) FROM intervals i WHERE i.session_id = sessions.id),
            media_end_s = (SELECT MAX(i.offset_s + i.duration_s) FROM intervals i WHERE i.session_id = sessions.id),
            engagement_sum = COALESCE((SELECT SUM(i.engagement * {weight}) FROM intervals i
                WHERE i.session_id = sessions.id AND i.engagement IS NOT NULL), 0),
            engagement_weight = COALESCE((SELECT SUM({weight}) FROM intervals i
                WHERE i.session_id = sessions.id AND i.engagement IS NOT NULL), 0),
            faces_seen = COALESCE((SELECT MAX(i.faces_max) FROM intervals i WHERE i.session_id = sessions.id), 0)"""
    )
    db.exec_driver_sql("CREATE UNIQUE INDEX sessions_uid ON sessions (uid)")
    db.exec_driver_sql("CREATE INDEX sessions_room_started ON sessions (room, started_at)")
    db.exec_driver_sql("CREATE UNIQUE INDEX markers_natural_key ON markers (session_id, wall, text)")


def _v4_small_group_floor_and_retention(db: Connection) -> None:
    """Schema 3 to 4: intervals say when faces were seen but too few to keep expressions; the store keeps facts
    about itself (retention policy, highest session id); rooms report their state."""
    db.exec_driver_sql("ALTER TABLE intervals ADD COLUMN below_min_faces BOOLEAN NOT NULL DEFAULT FALSE")
    meta.create(db)
    room_status.create(db)


def _v5_attention(db: Connection) -> None:
    """Schema 4 to 5: intervals keep the share of faces turned to the front (empty for older rows)."""
    db.exec_driver_sql("ALTER TABLE intervals ADD COLUMN attention FLOAT")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


# The oldest schema whose engage may still write a database of this schema: schemas 4 and 5 only add columns that
# may stay empty or have a default, and a table, so an engage of schema 3 keeps recording into it. Kept in
# `engage_meta`, so an older engage that reads a newer schema learns whether it may write.
OLDEST_WRITER = 3
OLDEST_WRITER_KEY = "oldest_writer_schema"

# Step n upgrades a database of schema n to n + 1; schemas 1 and 2 exist only as SQLite files of engage 0.1.
UPGRADES: dict[int, Callable[[Connection], None]] = {
    1: _legacy_v1_to_v2,
    2: _v3_rooms_heartbeats_summaries,
    3: _v4_small_group_floor_and_retention,
    4: _v5_attention,
}
SCHEMA_VERSION = 5


def stored_version(db: Connection) -> int:
    """The schema version of the database behind `db`; 0 for an empty one."""
    inspector = sa.inspect(db)
    if inspector.has_table("engage_schema"):
        return int(db.execute(sa.select(schema_table.c.version)).scalar_one())
    if db.dialect.name == "sqlite":
        return int(db.exec_driver_sql("PRAGMA user_version").scalar_one())
    return 0


def migrate(db: Connection, version: int) -> None:
    """Bring a database of schema `version` (0 = empty) to SCHEMA_VERSION, in the caller's transaction."""
    if version == 0:
        metadata.create_all(db)
        db.execute(schema_table.insert().values(version=SCHEMA_VERSION))
    else:
        for step in range(version, SCHEMA_VERSION):
            UPGRADES[step](db)
        if sa.inspect(db).has_table("engage_schema"):
            db.execute(schema_table.update().values(version=SCHEMA_VERSION))
        else:
            schema_table.create(db)
            db.execute(schema_table.insert().values(version=SCHEMA_VERSION))
    db.execute(meta.delete().where(meta.c.name == OLDEST_WRITER_KEY))
    db.execute(meta.insert().values(name=OLDEST_WRITER_KEY, value=str(OLDEST_WRITER)))


def oldest_writer(db: Connection) -> int | None:
    """The oldest schema that may write this database, where it says (schema 4 on); None where it does not."""
    if not sa.inspect(db).has_table("engage_meta"):
        return None
    value = db.execute(sa.select(meta.c.value).where(meta.c.name == OLDEST_WRITER_KEY)).scalar_one_or_none()
    return int(value) if value else None
