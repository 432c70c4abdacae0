"""The store's behaviour, asserted alike on SQLite and PostgreSQL (`store_url` runs each test on both)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from monitor.errors import EngageError
from monitor.store import STALE_AFTER, Marker, open_store
from tests.factories import ROOM, START, aggregate


def new_session(store, name="Algebra 1", room=ROOM, started=START):
    return store.create_session(name, "camera 0", {"fps": 2}, started, room=room, host="laptop-7")


def test_records_round_trip_and_missing_values_stay_missing(store_url):
    written = [aggregate(0, 0.4, attention=0.75), aggregate(1, None), aggregate(2, 0.8)]
    with open_store(store_url) as store:
        sid = new_session(store)
        for a in written:
            store.add_interval(sid, a)
        store.finish_session(sid, "completed", START + timedelta(seconds=30))
        info, read = store.session(sid), store.intervals(sid)
    assert read == written  # the same typed records the writer took
    assert read[1].engagement is None and read[1].class_means["neutral"] is None
    assert info.status == "completed" and info.settings == {"fps": 2} and info.duration_s == 30
    assert info.room == ROOM and info.host == "laptop-7" and info.intervals == 3 and info.faces_seen == 3
    assert info.mean_engagement == pytest.approx(0.6)


def test_writing_the_same_intervals_twice_stores_them_once(store_url):
    with open_store(store_url) as store:
        sid = new_session(store)
        assert store.add_intervals(sid, [aggregate(0, 0.2), aggregate(1, 0.4)]) == 2
        assert store.add_intervals(sid, [aggregate(1, 0.4), aggregate(2, 0.6)]) == 1
        marker = Marker(5.0, START + timedelta(seconds=5), "quiz")
        store.add_marker(sid, marker)
        store.add_marker(sid, marker)
        info = store.session(sid)
        assert [a.index for a in store.intervals(sid)] == [0, 1, 2] and store.markers(sid) == [marker]
    assert info.intervals == 3 and info.mean_engagement == pytest.approx(0.4)


def test_a_reader_sees_a_running_lecture_grow(store_url):
    with open_store(store_url) as writer, open_store(store_url, create=False) as reader:
        sid = new_session(writer)
        writer.add_interval(sid, aggregate(0))
        assert len(reader.intervals(sid)) == 1
        writer.add_interval(sid, aggregate(1))
        assert len(reader.intervals(sid)) == 2 and reader.session(sid).status == "running"


def test_a_silent_writer_reads_as_interrupted_and_reading_writes_nothing(store_url):
    with open_store(store_url) as store:
        alive, silent = new_session(store, "alive"), new_session(store, "silent")
        store.heartbeat(silent, datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1))
        assert store.session(alive).status == "running"
        info = store.session(silent)
        assert info.status == "interrupted" and info.recorded_status == "running"
        assert store.session(silent).recorded_status == "running"
        store.heartbeat(silent)
        assert store.session(silent).status == "running"


def test_rooms_keep_their_own_sessions(store_url):
    with open_store(store_url) as store:
        a = new_session(store, "Physics", room="B12")
        b = new_session(store, "Physics", room="C3")
        store.finish_session(a, "completed")
        assert store.rooms() == ["B12", "C3"]
        assert [s.id for s in store.sessions("C3")] == [b]
        assert [s.id for s in store.running_sessions("C3")] == [b] and store.running_sessions("B12") == []
        assert store.resolve("Phys", room="B12").id == a
        with pytest.raises(EngageError, match="ambiguous"):
            store.resolve("Phys")


def test_resolve_by_id_prefix_and_ambiguity(store_url):
    with open_store(store_url) as store:
        a = new_session(store, "Physics week 1")
        new_session(store, "Physics week 2")
        new_session(store, "Chemistry")
        assert store.resolve(str(a)).id == a
        assert store.resolve("chem").name == "Chemistry"
        with pytest.raises(EngageError, match=r"ambiguous.*week"):
            store.resolve("Phys")
        with pytest.raises(EngageError, match="no session matches 'Bio'"):
            store.resolve("Bio")


def test_delete_takes_intervals_and_markers_along(store_url):
    with open_store(store_url) as store:
        sid, other = new_session(store), new_session(store, "kept")
        store.add_interval(sid, aggregate(0))
        store.add_marker(sid, Marker(1.0, START, "x"))
        store.add_interval(other, aggregate(0))
        store.delete([sid])
        assert [s.id for s in store.sessions()] == [other]
        assert store.intervals(sid) == [] and store.markers(sid) == [] and len(store.intervals(other)) == 1


def test_sessions_upserted_by_uid_keep_one_row(store_url):
    with open_store(store_url) as store:
        sid = new_session(store)
        recorded = store.session(sid)
        assert store.upsert_session(recorded) == sid
        store.finish_session(sid, "completed")
        assert store.upsert_session(store.session(sid)) == sid and store.session(sid).status == "completed"
        assert len(store.sessions()) == 1


def test_a_push_read_before_the_end_never_reopens_a_finished_session(store_url):
    with open_store(store_url) as store:
        sid = new_session(store)
        running = store.session(sid)  # what another process sharing the outbox read a moment earlier
        store.finish_session(sid, "completed")
        assert store.upsert_session(running) == sid
        assert store.session(sid).status == "completed" and store.session(sid).ended_at is not None
        other = new_session(store, "other")
        store.finish_session(other, "interrupted")
        assert store.upsert_session(replace(store.session(other), recorded_status="running")) == other
        assert store.session(other).status == "interrupted"
        store.upsert_session(replace(store.session(other), recorded_status="completed"))  # analyzed again to its end
        assert store.session(other).status == "completed"


def test_a_newer_schema_is_refused_and_left_alone(store_url):
    with open_store(store_url) as store:
        new_session(store)
    engine = sa.create_engine(open_store(store_url).location.url)
    with engine.begin() as db:
        db.execute(sa.text("UPDATE engage_schema SET version = 99"))
        db.execute(sa.text("UPDATE engage_meta SET value = '99' WHERE name = 'oldest_writer_schema'"))
    with pytest.raises(EngageError, match="newer engage"):
        open_store(store_url)
    with engine.connect() as db:
        assert db.execute(sa.text("SELECT version FROM engage_schema")).scalar_one() == 99
        assert db.execute(sa.text("SELECT COUNT(*) FROM sessions")).scalar_one() == 1
    engine.dispose()


def test_an_empty_store_is_not_created_by_a_reader(store_url):
    with pytest.raises(EngageError, match="record a session with `engage live` first"):
        open_store(store_url, create=False)


def test_the_newest_sessions_first_and_at_most_limit(store_url):
    with open_store(store_url) as store:
        ids = [new_session(store, f"L{day}", started=START + timedelta(days=day)) for day in range(5)]
        assert [s.id for s in store.sessions(limit=2)] == ids[::-1][:2]
        assert [s.id for s in store.sessions(ROOM, limit=10)] == ids[::-1]


def test_a_newer_schema_that_allows_this_engage_is_written_as_it_is(store_url):
    with open_store(store_url) as store:
        new_session(store)
    engine = sa.create_engine(open_store(store_url).location.url)
    with engine.begin() as db:
        db.execute(sa.text("UPDATE engage_schema SET version = 99"))  # oldest_writer_schema stays this one's
    with open_store(store_url) as store:
        assert store.newer_schema == 99
        store.add_interval(new_session(store, name="Week 2"), aggregate(0))
    with engine.connect() as db:
        assert db.execute(sa.text("SELECT version FROM engage_schema")).scalar_one() == 99
        assert db.execute(sa.text("SELECT COUNT(*) FROM intervals")).scalar_one() == 1
    engine.dispose()
