"""Local time follows the time zone's rules of the moment shown: a summer lecture keeps summer time in winter."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboards.figures import timeline_figure
from engage.cli import main
from monitor.export import read_csv
from monitor.store import open_store
from monitor.tables import interval_table
from tests.factories import ROOM, aggregate

LECTURES = {  # name: start in UTC; both are 12:00 in Berlin
    "Summer": datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
    "Winter": datetime(2026, 1, 15, 11, 0, tzinfo=UTC),
}


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def two_seasons(tmp_path):
    db = tmp_path / "engage.db"
    with open_store(db) as store:
        for name, start in LECTURES.items():
            sid = store.create_session(name, "camera 0", {}, start, room=ROOM, host="test")
            for index in range(2):
                row = aggregate(index)
                store.add_interval(sid, type(row)(**{**vars(row), "start_wall": start + timedelta(seconds=10 * index)}))
            store.finish_session(sid, "completed", start + timedelta(seconds=20))
    return db


def test_csv_show_sessions_and_the_dashboard_keep_each_moment_own_offset(berlin, two_seasons, tmp_path, capsys):
    for name, offset in (("Summer", "+02:00"), ("Winter", "+01:00")):
        out = tmp_path / f"{name}.csv"
        assert main(["export", name, "-o", str(out), "--db", str(two_seasons)]) == 0
        stamps = read_csv(out)["start_time"]
        assert [t.isoformat() for t in stamps] == [f"{LECTURES[name]:%Y-%m-%d}T12:00:{s}{offset}" for s in ("00", "10")]
        capsys.readouterr()
        assert main(["show", name, "--db", str(two_seasons)]) == 0
        assert f"started     {LECTURES[name]:%Y-%m-%d} 12:00:00 {offset.replace(':', '')}" in capsys.readouterr().out
        with open_store(two_seasons) as store:
            figure = timeline_figure(interval_table(store.intervals(store.resolve(name).id)))
        assert list(figure.data[0].customdata) == ["12:00:00", "12:00:10"]
    assert main(["sessions", "--db", str(two_seasons)]) == 0
    listing = capsys.readouterr().out
    assert "2026-07-01 12:00" in listing and "2026-01-15 12:00" in listing
