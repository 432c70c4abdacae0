import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import EngageError
from monitor.store import MIGRATIONS, SCHEMA_VERSION, SessionStore
from tests.factories import START, aggregate


def test_session_round_trip_keeps_missing_values_missing(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        sid = store.create_session("Algebra 1", "camera 0", {"fps": 2}, START)
        store.add_interval(sid, aggregate(0, 0.4))
        store.add_interval(sid, aggregate(1, None))
        store.add_interval(sid, aggregate(2, 0.8))
        store.finish_session(sid, "completed", START + timedelta(seconds=30))
        info = store.session(sid)
        table = store.intervals(sid)
    assert info.status == "completed" and info.settings == {"fps": 2} and info.duration_s == 30
    assert abs(info.mean_engagement - 0.6) < 1e-9
    assert table["engagement"].isna().tolist() == [False, True, False]
    assert str(table["start_wall"].dt.tz) == "UTC"


def test_wal_mode_and_schema_version(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        assert store.schema_version == SCHEMA_VERSION
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reader_sees_intervals_while_writer_session_runs(tmp_path):
    writer = SessionStore(tmp_path / "s.db")
    sid = writer.create_session("live", "camera 0", {}, START)
    writer.add_interval(sid, aggregate(0))
    reader = SessionStore(tmp_path / "s.db", create=False)
    assert len(reader.intervals(sid)) == 1
    writer.add_interval(sid, aggregate(1))
    assert len(reader.intervals(sid)) == 2
    assert reader.session(sid).status == "running"


def test_sessions_of_dead_processes_become_interrupted(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        sid = store.create_session("crashed", "camera 0", {}, START)
        store._db.execute("UPDATE sessions SET pid = 999999999 WHERE id = ?", (sid,))
        alive = store.create_session("mine", "camera 0", {}, START)
        assert store.mark_abandoned_sessions() == [sid]
        assert store.session(sid).status == "interrupted"
        assert store.session(alive).status == "running"


def test_resolve_by_id_prefix_and_ambiguity(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        a = store.create_session("Physics week 1", "x", {}, START)
        store.create_session("Physics week 2", "x", {}, START)
        store.create_session("Chemistry", "x", {}, START)
        assert store.resolve(str(a)).id == a
        assert store.resolve("chem").name == "Chemistry"
        with pytest.raises(EngageError, match=r"ambiguous.*week 1.*week 2|ambiguous.*week 2.*week 1"):
            store.resolve("Phys")
        with pytest.raises(EngageError, match="no session matches 'Bio'"):
            store.resolve("Bio")


def test_older_schema_is_migrated_without_losing_rows(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    db.execute(
        "INSERT INTO sessions (name, source, started_at, status, settings) VALUES ('old', 'cam', ?, 'completed', '{}')",
        (START.isoformat(),),
    )
    db.commit()
    db.close()
    with SessionStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (old,) = store.sessions()
        assert old.name == "old"
        store.add_marker(old.id, "slide 3", 12.0, START)
        assert store.markers(old.id)["text"].tolist() == ["slide 3"]


def test_delete_and_retention_remove_exactly_the_chosen_sessions(tmp_path):
    with SessionStore(tmp_path / "s.db") as store:
        old = store.create_session("old", "x", {}, datetime.now(UTC) - timedelta(days=100))
        new = store.create_session("new", "x", {}, datetime.now(UTC) - timedelta(days=1))
        gone = store.create_session("gone", "x", {}, datetime.now(UTC))
        for sid in (old, new, gone):
            store.add_interval(sid, aggregate(0))
            store.add_marker(sid, "m", 1.0, START)
            store.finish_session(sid, "completed")
        assert [s.id for s in store.older_than(timedelta(days=90))] == [old]
        store.delete([old, gone])
        assert [s.id for s in store.sessions()] == [new]
        assert store._db.execute("SELECT COUNT(*) FROM intervals").fetchone()[0] == 1
        assert store._db.execute("SELECT COUNT(*) FROM markers").fetchone()[0] == 1


def test_corrupt_or_unwritable_database_is_a_clear_error(tmp_path):
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(EngageError, match="cannot be used"):
        SessionStore(corrupt)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(EngageError, match="cannot be created"):
        SessionStore(blocker / "sub" / "s.db")
    with pytest.raises(EngageError, match="no session database"):
        SessionStore(tmp_path / "missing.db", create=False)
