"""One well-known place for a user's data: every command finds the same store from any folder."""

import os

from engage.cli import main
from monitor.defaults import data_folder, default_db
from monitor.store import open_store
from tests.factories import ROOM, START, aggregate


def test_the_store_is_found_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_db() == tmp_path / "data" / "engage" / "engage.db" == data_folder() / "engage.db"
    with open_store(default_db()) as store:
        store.add_interval(store.create_session("Week 1", "camera 0", {}, START, room=ROOM, host="x"), aggregate(0))
    for folder in (tmp_path / "a", tmp_path / "b" / "c"):
        folder.mkdir(parents=True)
        monkeypatch.chdir(folder)
        assert main(["sessions"]) == 0
        assert "Week 1" in capsys.readouterr().out
    assert main(["show", "42"]) == 2
    assert "no session matches '42'" in capsys.readouterr().err


def test_a_store_of_an_older_engage_in_sessions_is_still_found(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sessions").mkdir()
    with open_store(tmp_path / "sessions" / "engage.db") as store:
        store.create_session("Old lecture", "camera 0", {}, START, room=ROOM, host="x")
    assert default_db() == tmp_path / "sessions" / "engage.db"
    assert main(["sessions"]) == 0 and "Old lecture" in capsys.readouterr().out


def test_messages_name_the_store_by_its_absolute_path(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sessions", "--db", "nowhere.db"]) == 2
    assert f"no session database at {tmp_path / 'nowhere.db'}" in capsys.readouterr().err
    assert os.path.isabs(str(default_db()))
