"""SQLite files of engage 0.1 (schema 2, process ids instead of heartbeats) open and upgrade in place."""

import multiprocessing
import sqlite3

import pytest

from monitor.store import open_store
from monitor.store.schema import SCHEMA_VERSION
from tests.factories import START

LEGACY_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, source TEXT NOT NULL,
    started_at TEXT NOT NULL, ended_at TEXT, status TEXT NOT NULL, settings TEXT NOT NULL, pid INTEGER);
CREATE TABLE intervals (session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL, start_wall TEXT NOT NULL, offset_s REAL NOT NULL, duration_s REAL NOT NULL,
    frames INTEGER NOT NULL, skipped_frames INTEGER NOT NULL, faces_mean REAL NOT NULL, faces_max INTEGER NOT NULL,
    tracks INTEGER NOT NULL, n_positive INTEGER NOT NULL, n_neutral INTEGER NOT NULL, n_negative INTEGER NOT NULL,
    p_positive REAL, p_neutral REAL, p_negative REAL, engagement REAL, PRIMARY KEY (session_id, idx));
CREATE TABLE markers (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id INTEGER NOT NULL
    REFERENCES sessions(id) ON DELETE CASCADE, offset_s REAL NOT NULL, wall TEXT NOT NULL, text TEXT NOT NULL);
PRAGMA user_version = 2;
"""


@pytest.fixture
def legacy_db(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(LEGACY_SCHEMA)
    db.execute(
        "INSERT INTO sessions (name, source, started_at, ended_at, status, settings, pid) "
        "VALUES ('Week 1', 'camera 0', ?, ?, 'completed', '{}', 4242)",
        (START.isoformat(), START.replace(hour=10).isoformat()),
    )
    for idx, engagement in enumerate([0.4, None, 0.8]):
        db.execute(
            "INSERT INTO intervals VALUES (1, ?, ?, ?, 10, 20, 0, ?, 3, 3, 10, 20, 10, 0.3, 0.4, 0.3, ?)",
            (idx, START.isoformat(), 10.0 * idx, 2.0 if engagement is not None else 0.0, engagement),
        )
    db.execute("INSERT INTO markers (session_id, offset_s, wall, text) VALUES (1, 5, ?, 'quiz')", (START.isoformat(),))
    db.commit()
    db.close()
    return path


def test_a_legacy_file_upgrades_keeping_every_row_and_summary(legacy_db):
    with open_store(legacy_db) as store:
        (session,) = store.sessions()
        assert session.name == "Week 1" and session.status == "completed" and session.room and session.uid
        assert session.intervals == 3 and session.duration_s == 30 and session.mean_engagement == pytest.approx(0.6)
        assert [m.text for m in store.markers(session.id)] == ["quiz"]
        assert [a.engagement for a in store.intervals(session.id)] == [0.4, None, 0.8]
    db = sqlite3.connect(legacy_db)
    assert db.execute("SELECT version FROM engage_schema").fetchone()[0] == SCHEMA_VERSION
    assert "pid" not in [row[1] for row in db.execute("PRAGMA table_info(sessions)")]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _open(url, barrier):
    barrier.wait()
    open_store(url).close()


def test_rooms_opening_a_new_central_database_at_once_upgrade_it_once(postgres):
    import sqlalchemy as sa

    context = multiprocessing.get_context("spawn")
    for _ in range(3):
        url = postgres.new_database()
        barrier = context.Barrier(4)
        rooms = [context.Process(target=_open, args=(url, barrier)) for _ in range(4)]
        for room in rooms:
            room.start()
        for room in rooms:
            room.join(60)
        assert [room.exitcode for room in rooms] == [0, 0, 0, 0]
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as db:
            assert db.exec_driver_sql("SELECT version FROM engage_schema").scalars().all() == [SCHEMA_VERSION]
        engine.dispose()


def test_a_schema_3_store_upgrades_to_the_current_schema_keeping_its_rows(store_url):
    """Schema 3 (engage before the small-group floor and attention) as SQLite file or central PostgreSQL database:
    every step up to today's runs."""
    import sqlalchemy as sa

    from tests.factories import ROOM, aggregate

    with open_store(store_url) as store:
        sid = store.create_session("Week 1", "camera 0", {}, START, room=ROOM, host="x")
        store.add_interval(sid, aggregate(0))
        url = store.location.url
    engine = sa.create_engine(url)
    with engine.begin() as db:  # back to schema 3: no floor or attention column, no meta or room tables
        db.execute(sa.text("ALTER TABLE intervals DROP COLUMN attention"))
        db.execute(sa.text("ALTER TABLE intervals DROP COLUMN below_min_faces"))
        db.execute(sa.text("DROP TABLE engage_meta"))
        db.execute(sa.text("DROP TABLE room_status"))
        db.execute(sa.text("UPDATE engage_schema SET version = 3"))
    engine.dispose()
    with open_store(store_url) as store:
        (session,) = store.sessions()
        (interval,) = store.intervals(session.id)
        assert session.name == "Week 1" and interval.engagement == 0.5 and interval.below_min_faces is False
        assert interval.attention is None
        store.set_policy("retention", "90d")
        assert store.policy("retention") == "90d" and store.room_states() == []
    engine = sa.create_engine(url)
    with engine.connect() as db:
        assert db.execute(sa.text("SELECT version FROM engage_schema")).scalar_one() == SCHEMA_VERSION
    engine.dispose()


def test_an_engage_of_schema_4_keeps_recording_into_schema_5(store_url):
    """A room not yet upgraded writes intervals as schema 4 knew them (no attention column): they are stored and
    read back with no attention, beside the upgraded rooms' rows."""
    import sqlalchemy as sa

    from tests.factories import ROOM, aggregate

    with open_store(store_url) as store:
        sid = store.create_session("Week 1", "camera 0", {}, START, room=ROOM, host="x")
        store.add_interval(sid, aggregate(0, attention=0.8))
        url = store.location.url
    engine = sa.create_engine(url)
    schema_4_columns = (
        "session_id, idx, start_wall, offset_s, duration_s, frames, skipped_frames, faces_mean, faces_max, tracks, "
        "n_positive, n_neutral, n_negative, p_positive, p_neutral, p_negative, engagement, below_min_faces"
    )
    with engine.begin() as db:
        db.execute(
            sa.text(
                f"INSERT INTO intervals ({schema_4_columns}) VALUES (:sid, 1, '2026-11-02T09:00:10+00:00', 10, 10, "
                "20, 0, 2, 3, 3, 10, 20, 10, 0.3, 0.4, 0.3, 0.5, FALSE)"
            ),
            {"sid": sid},
        )
    engine.dispose()
    with open_store(store_url) as store:
        assert [i.attention for i in store.intervals(sid)] == [0.8, None]
