"""Retention that enforces itself, on SQLite and on the real PostgreSQL: the policy lives in the store, every start
deletes the finished sessions older than it, and a running lecture of another room is never touched."""

from datetime import timedelta

import pytest

from engage.cli import main
from monitor import retention
from monitor.core import now
from monitor.errors import EngageError
from monitor.store import open_store
from tests.factories import aggregate


def lectures(store):
    """Old completed, old interrupted, recent completed, and an old lecture still running in another room."""
    ids = {}
    for name, days, room, status in (
        ("old", 200, "B12", "completed"),
        ("old broken", 120, "B12", "interrupted"),
        ("recent", 10, "B12", "completed"),
        ("marathon", 200, "C3", "running"),
    ):
        ids[name] = store.create_session(name, "camera 0", {}, now() - timedelta(days=days), room=room, host="box")
        store.add_interval(ids[name], aggregate(0))
        if status != "running":
            store.finish_session(ids[name], status)
    return ids


def test_the_policy_lives_in_the_store_and_deletes_only_finished_old_sessions(store_url, capsys):
    with open_store(store_url) as store:
        ids = lectures(store)
        assert retention.enforce(store, None) == []  # no policy: nothing goes
        deleted = retention.enforce(store, "90d")
        assert sorted(s.name for s in deleted) == ["old", "old broken"]
        assert store.policy("retention") == "90d"
        assert sorted(s.name for s in store.sessions()) == ["marathon", "recent"]
        assert store.intervals(ids["marathon"]) and store.session(ids["marathon"]).status == "running"
    err = capsys.readouterr().err
    assert "retention of" in err and "deleted 2 session(s)" in err
    with open_store(store_url) as again:  # another room's start applies the stored policy by itself
        stale = again.create_session("last year", "camera 0", {}, now() - timedelta(days=400), room="D4", host="x")
        again.finish_session(stale, "completed")
        assert [s.name for s in retention.enforce(again, None)] == ["last year"]


def test_a_shorter_policy_needs_a_yes(store_url):
    with open_store(store_url) as store:
        retention.enforce(store, "90d")
        lectures(store)
        with pytest.raises(EngageError, match=r"shorten the retention .* from 90d to 5d.*add --yes"):
            retention.enforce(store, "5d")
        assert store.policy("retention") == "90d" and len(store.sessions()) == 4
        retention.enforce(store, "5d", yes=True)
        assert store.policy("retention") == "5d" and [s.name for s in store.sessions()] == ["marathon"]
        retention.enforce(store, "1y")  # a longer one needs no confirmation
        assert store.policy("retention") == "1y"


def test_analyze_sets_and_applies_it_and_sessions_shows_it(tmp_path, tiny_model, lecture_video, capsys):
    db = tmp_path / "s.db"
    with open_store(db) as store:
        lectures(store)
    args = ["analyze", str(lecture_video), "--db", str(db), "--model", str(tiny_model)]
    assert main([*args, "--retention", "90d"]) == 0
    assert "deleted 2 session(s)" in capsys.readouterr().err
    assert main(["sessions", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    assert "retention: 90d" in captured.err and "marathon" in captured.out and "old" not in captured.out
    assert main([*args, "--retention", "1d"]) == 2  # shorter, no terminal, no --yes: nothing recorded
    assert "add --yes" in capsys.readouterr().err
    with open_store(db) as store:
        assert len(store.sessions()) == 3 and store.policy("retention") == "90d"
