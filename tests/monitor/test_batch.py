"""Many recordings, one command: a session per file, one progress bar, a summary, failures that stop nothing, and
reruns that store nothing twice (SQLite and the central PostgreSQL)."""

import pytest

from engage.cli import main
from monitor.demo import write_video
from monitor.store import open_store


@pytest.fixture(scope="module")
def semester(tmp_path_factory):
    """A folder of two short recordings, and a file that only looks like one."""
    folder = tmp_path_factory.mktemp("semester")
    write_video(folder / "week1.mp4", seconds=6, fps=5, faces=3)
    write_video(folder / "week2.mp4", seconds=4, fps=5, faces=3)
    (folder / "notes.txt").write_text("not a lecture")
    broken = tmp_path_factory.mktemp("broken") / "week3.mp4"
    broken.write_text("not a video")
    return folder, broken


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_folder_and_a_broken_file_are_analyzed_one_session_each(semester, tiny_model, tmp_path, capsys, jobs):
    folder, broken = semester
    db = tmp_path / "s.db"
    code = main(["analyze", str(folder), str(broken), "--jobs", jobs, "--model", str(tiny_model), "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 2
    assert "1 recording(s) failed: week3.mp4" in captured.err and "2 of 3 recording(s) analyzed" in captured.err
    assert "week1.mp4" in captured.out and "week2.mp4" in captured.out and "completed" in captured.out
    with open_store(db) as store:
        sessions = {s.name: s for s in store.sessions()}
    assert set(sessions) == {"week1", "week2"}
    assert sessions["week1"].duration_s == 6.0 and sessions["week2"].duration_s == 4.0
    assert all(s.status == "completed" for s in sessions.values())


def test_one_name_for_many_files_is_refused(semester, tmp_path, capsys):
    folder, _ = semester
    assert main(["analyze", str(folder), "--name", "Week", "--db", str(tmp_path / "s.db")]) == 2
    assert "--name and --started-at name one recording" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path), "--db", str(tmp_path / "s.db")]) == 2
    assert "no video file in" in capsys.readouterr().err


def test_a_rerun_stores_nothing_twice(store_url, semester, tiny_model, tmp_path):
    folder, _ = semester
    args = ["analyze", str(folder / "week1.mp4"), "--model", str(tiny_model), "--db", store_url]
    args += ["--started-at", "2026-03-02T09:00+01:00", "--outbox", str(tmp_path / "outbox.db")]
    assert main(args) == 0
    with open_store(store_url) as store:
        (first,) = store.sessions()
        stored = len(store.intervals(first.id))
    assert main(args) == 0  # the same file again (a run that was cut off, or a second machine)
    with open_store(store_url) as store:
        (again,) = store.sessions()
        assert again.uid == first.uid and len(store.intervals(again.id)) == stored == again.intervals
        assert again.status == "completed"
    assert main([*args[:-4], "--started-at", "2026-03-09T09:00+01:00", *args[-2:]]) == 0  # another lecture
    with open_store(store_url) as store:
        assert len(store.sessions()) == 2
