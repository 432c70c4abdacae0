"""Session references that always work: `latest`, ids never given twice, rooms in any case, ambiguity that tells
lectures apart, and recordings dated when they were taught."""

from datetime import UTC, datetime, timedelta

import pytest

from engage.cli import main
from monitor.store import open_store
from tests.factories import START, aggregate


@pytest.fixture
def two_rooms(store_url):
    with open_store(store_url) as store:
        for offset, (name, room) in enumerate([("Physics 9b", "B12"), ("Physics 9b", "C3"), ("Chemistry", "B12")]):
            sid = store.create_session(name, "camera 0", {}, START + timedelta(hours=offset), room=room, host="x")
            store.add_interval(sid, aggregate(0))
            store.finish_session(sid, "completed")
    return store_url


def test_latest_and_no_argument_mean_the_newest(two_rooms, capsys):
    for args in (["show"], ["show", "latest"], ["show", "LATEST"]):
        assert main([*args, "--db", two_rooms]) == 0
        assert capsys.readouterr().out.startswith("session 3: Chemistry")
    assert main(["show", "--room", "c3", "--db", two_rooms]) == 0
    assert capsys.readouterr().out.startswith("session 2: Physics 9b")


def test_ambiguity_lists_room_date_and_duration(two_rooms, capsys):
    assert main(["show", "Physics", "--db", two_rooms]) == 2
    err = capsys.readouterr().err
    assert "'Physics' is ambiguous" in err and "; give the id" in err
    assert "1 (Physics 9b, room B12, 2026-11-02" in err and "2 (Physics 9b, room C3, 2026-11-02" in err
    assert "0:00:10)" in err


def test_rooms_match_in_any_case_and_an_unknown_one_lists_the_rooms(two_rooms, capsys):
    assert main(["sessions", "--room", "b12", "--db", two_rooms]) == 0
    out = capsys.readouterr().out
    assert "Chemistry" in out and "C3" not in out
    assert main(["sessions", "--room", "D4", "--db", two_rooms]) == 2
    assert "no room 'D4'; rooms: B12, C3" in capsys.readouterr().err


def test_a_deleted_session_id_is_never_given_again(two_rooms):
    with open_store(two_rooms) as store:
        store.delete([3])
        again = store.create_session("Biology", "camera 0", {}, START, room="B12", host="x")
        assert again == 4
        store.delete([again, 2])
        assert store.create_session("Art", "camera 0", {}, START, room="B12", host="x") == 5


def test_a_recording_is_dated_when_it_was_taught(tmp_path, tiny_model, lecture_video, capsys):
    db = tmp_path / "s.db"
    base = ["analyze", str(lecture_video), "--db", str(db), "--model", str(tiny_model)]
    assert main([*base, "--started-at", "2026-07-01T09:00+02:00"]) == 0
    assert "does not say when it was recorded" not in capsys.readouterr().err
    assert main(base) == 0
    assert "does not say when it was recorded: dated now" in capsys.readouterr().err
    with open_store(db) as store:
        taught, now_dated = store.sessions()[::-1]
    assert taught.started_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC) and taught.name == "lecture"
    assert abs(now_dated.started_at - datetime.now(UTC)) < timedelta(minutes=5)
    with pytest.raises(SystemExit):
        main([*base, "--started-at", "yesterday"])
    assert "--started-at must be ISO 8601" in capsys.readouterr().err


def test_an_interrupted_session_keeps_its_length_and_an_empty_one_says_so(tmp_path, capsys):
    from monitor.store import STALE_AFTER

    db = tmp_path / "s.db"
    with open_store(db) as store:
        started = datetime.now(UTC) - STALE_AFTER - timedelta(minutes=10)
        sid = store.create_session("Crashed", "camera 0", {}, started, room="B12", host="x")
        store.heartbeat(sid, started + timedelta(minutes=3))
    with open_store(db) as store:
        (session,) = store.sessions()
        assert session.status == "interrupted" and session.empty
        assert session.duration_s == 180.0  # to its last heartbeat, not growing with the clock
    assert main(["sessions", "--db", str(db)]) == 0
    assert "interrupted, empty" in capsys.readouterr().out
