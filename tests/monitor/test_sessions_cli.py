"""Session management from the terminal: sessions, show, export, mark, rename, delete, prune."""

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from engage.cli import main
from monitor.demo import render_frame
from monitor.export import CSV_COLUMNS, read_csv
from monitor.perception.detect import create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings, Recording
from monitor.store import Marker, open_store
from monitor.tables import interval_table
from tests.conftest import fill_disk
from tests.factories import ROOM


@pytest.fixture
def recorded(tmp_path, tiny_model):
    """A database with one completed session of 25 s (3 faces, one away 10-20 s) written by the real pipeline."""
    db = tmp_path / "engage.db"
    store = open_store(db)
    pipeline = Pipeline(
        create_detector(),
        ExpressionClassifier(tiny_model),
        store,
        PipelineSettings(2, 5),
        Recording("Physics week 1", "lecture.mp4", ROOM, "test"),
    )
    for step in range(50):
        t = step / 2
        pipeline.process(render_frame(640, 360, 3, t, absent={2} if 10 <= t < 20 else set()), t)
    store.add_marker(pipeline.session_id, Marker(7.5, pipeline.start_wall + timedelta(seconds=7.5), "slide 12: proofs"))
    pipeline.finish("completed", 25.0)
    store.close()
    return db


def test_export_round_trip_with_pandas(recorded, tmp_path, capsys):
    out = tmp_path / "out" / "week1.csv"
    assert main(["export", "Physics", "-o", str(out), "--db", str(recorded)]) == 0
    table = read_csv(out)
    assert list(table.columns) == list(CSV_COLUMNS)
    with open_store(recorded) as store:
        stored = interval_table(store.intervals(1))
    assert len(table) == 5 == len(stored)
    for column in ("offset_s", "faces_mean", "engagement", "p_positive", "n_negative", "frames"):
        np.testing.assert_allclose(table[column], stored[column], atol=1e-4)
    assert (table["start_time"].dt.tz_convert("UTC") == stored["start_wall"]).all()
    assert table["markers"].tolist() == ["", "slide 12: proofs", "", "", ""]
    assert table["faces_max"].tolist() == [3, 3, 2, 2, 3]
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert "+00:00" in text or "-" in text.splitlines()[1].split(",")[3][19:]


def test_export_all_into_one_file_with_session_column(recorded, tmp_path):
    with open_store(recorded) as store:
        other = store.create_session("Chemistry", "camera 0", {}, datetime.now(UTC), room=ROOM, host="test")
        store.finish_session(other, "interrupted")
    out = tmp_path / "all.csv"
    assert main(["export", "--all", "-o", str(out), "--db", str(recorded)]) == 0
    assert read_csv(out)["session_id"].unique().tolist() == [1]  # the interrupted one has no interval yet
    assert main(["export", "Chem", "-o", str(tmp_path / "chem.csv"), "--db", str(recorded)]) == 0
    assert pd.read_csv(tmp_path / "chem.csv").empty


def test_sessions_and_show(recorded, capsys):
    assert main(["sessions", "--db", str(recorded)]) == 0
    listing = capsys.readouterr().out
    assert "Physics week 1" in listing and "completed" in listing and "0:25" in listing
    assert main(["show", "1", "--db", str(recorded)]) == 0
    shown = capsys.readouterr().out
    assert "duration 0:25" in shown and "lowest" in shown and "slide 12: proofs" in shown
    assert "timeline    |" in shown


def test_mark_adds_to_the_running_session_only(recorded, capsys):
    assert main(["mark", "quiz", "--db", str(recorded), "--room", ROOM]) == 2
    assert "no session is running" in capsys.readouterr().err
    with open_store(recorded) as store:
        running = store.create_session(
            "Live now", "camera 0", {}, datetime.now(UTC) - timedelta(seconds=30), room=ROOM, host="test"
        )
    assert main(["mark", "quiz time", "--db", str(recorded), "--room", ROOM]) == 0
    with open_store(recorded) as store:
        (marker,) = store.markers(running)
    assert marker.text == "quiz time" and 29 <= marker.offset_s <= 60
    with open_store(recorded) as store:
        second = store.create_session("Also live", "camera 1", {}, datetime.now(UTC), room=ROOM, host="test")
    assert main(["mark", "break", "--db", str(recorded), "--room", ROOM]) == 2
    assert f"2 lectures are running in room {ROOM!r}: {second} (Also live" in capsys.readouterr().err
    assert main(["mark", "break", "--session", str(second), "--db", str(recorded), "--room", ROOM]) == 0
    with open_store(recorded) as store:
        assert [m.text for m in store.markers(second)] == ["break"] and len(store.markers(running)) == 1


def test_rename_delete_and_prune(recorded, capsys):
    assert main(["rename", "1", "Physics: kinematics", "--db", str(recorded)]) == 0
    with open_store(recorded) as store:
        assert store.session(1).name == "Physics: kinematics"
        old = store.create_session(
            "Last term", "camera 0", {}, datetime.now(UTC) - timedelta(days=200), room=ROOM, host="test"
        )
        store.finish_session(old, "completed")
    assert main(["delete", "1", "--db", str(recorded)]) == 2  # no terminal to confirm, no --yes
    assert "without --yes" in capsys.readouterr().err
    assert main(["prune", "--older-than", "90d", "--yes", "--db", str(recorded)]) == 0
    with open_store(recorded) as store:
        assert [s.id for s in store.sessions()] == [1]
    assert main(["delete", "Physics", "--yes", "--db", str(recorded)]) == 0
    with open_store(recorded) as store:
        assert store.sessions() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "42"], "no session matches '42'; newest: 1 (Physics week 1, room room 101, "),
        (["export", "Bio"], "no session matches 'Bio'"),
        (["export", "1", "-o", "BLOCKED/x.csv"], "cannot write"),
        (["prune", "--older-than", "soon"], "expected a number with h, d, w or y"),
        (["prune", "--older-than", "99999999999d"], "at most 100 years"),
        (["show", "line one\nline two\x1b[2J"], "no session matches 'line one\\nline two\\x1b[2J'"),
        (["export", "1", "--all"], "give one SESSION or --all, not both"),
    ],
)
def test_bad_session_commands_are_one_line_exit_2(recorded, tmp_path, capsys, args, message):
    blocker = tmp_path / "blocker"
    blocker.write_text("file")
    args = [a.replace("BLOCKED", str(blocker)) for a in args]
    assert main([*args, "--db", str(recorded)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_ambiguous_prefix_lists_candidates(recorded, capsys):
    with open_store(recorded) as store:
        store.create_session("Physics week 2", "x", {}, datetime.now(UTC), room=ROOM, host="test")
    assert main(["show", "Phys", "--db", str(recorded)]) == 2
    assert "ambiguous" in capsys.readouterr().err


def test_corrupt_database_is_exit_2_and_left_untouched(tmp_path, capsys):
    db = tmp_path / "engage.db"
    db.write_bytes(b"garbage" * 1000)
    assert main(["sessions", "--db", str(db)]) == 2
    assert "not an engage database (not a SQLite file)" in capsys.readouterr().err
    assert db.read_bytes() == b"garbage" * 1000


@pytest.mark.parametrize("tables", [["sessions(id, name)"], ["grades(student, mark)", "notes(text)"]])
@pytest.mark.parametrize("command", [["sessions"], ["analyze", "missing.mp4"], ["demo"]])
def test_a_foreign_sqlite_file_is_refused_untouched(tmp_path, capsys, tables, command):
    db = tmp_path / "school.db"
    with sqlite3.connect(db) as foreign:
        for table in tables:
            foreign.execute(f"CREATE TABLE {table}")
    before = db.read_bytes()
    if command == ["analyze", "missing.mp4"]:
        command = ["analyze", str(make_video(tmp_path))]
    assert main([*command, "--db", str(db)]) == 2
    assert "is not an engage database (it holds" in capsys.readouterr().err
    assert db.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir() if "school" in p.name) == [
        "school.db"
    ]


def make_video(folder):
    from monitor.demo import write_video

    return write_video(folder / "clip.mp4", seconds=2, fps=5, faces=1)


@pytest.fixture
def read_only_media(tmp_path):
    """A folder mounted read-only (a bind mount; needs root, as in CI) and the writable folder behind it."""
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root")
    source, mount = tmp_path / "source", tmp_path / "media"
    source.mkdir()
    mount.mkdir()
    if subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(mount)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount read-only here")
    yield source, mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_database_on_read_only_media_can_be_read(recorded, read_only_media, tmp_path, capsys):
    source, media = read_only_media
    shutil.copy(recorded, source / "engage.db")
    db = str(media / "engage.db")
    assert main(["sessions", "--db", db]) == 0 and "Physics week 1" in capsys.readouterr().out
    assert main(["show", "1", "--db", db]) == 0
    assert main(["export", "1", "--db", db, "-o", str(tmp_path / "week1.csv")]) == 0
    assert len(read_csv(tmp_path / "week1.csv")) == 5
    assert main(["rename", "1", "new", "--db", db]) == 2
    assert "readonly" in capsys.readouterr().err
    assert sorted(p.name for p in source.iterdir()) == ["engage.db"]


def test_export_never_writes_onto_a_database(recorded, tmp_path, capsys):
    before = recorded.read_bytes()
    assert main(["export", "--all", "--db", str(recorded), "-o", str(recorded), "--force"]) == 2
    assert "session database in use" in capsys.readouterr().err
    assert recorded.read_bytes() == before
    other = tmp_path / "other.db"
    open_store(other).close()
    assert main(["export", "1", "--db", str(recorded), "-o", str(other), "--force"]) == 2
    assert "is a SQLite database, never overwritten" in capsys.readouterr().err
    assert main(["sessions", "--db", str(recorded)]) == 0 and main(["sessions", "--db", str(other)]) == 0


def test_export_replaces_a_file_only_with_force_and_writes_to_stdout_with_a_dash(recorded, tmp_path, capsys):
    out = tmp_path / "week1.csv"
    out.write_text("my notes")
    assert main(["export", "1", "--db", str(recorded), "-o", str(out)]) == 2
    assert "exists; add --force" in capsys.readouterr().err and out.read_text() == "my notes"
    assert main(["export", "1", "--db", str(recorded), "-o", str(out), "--force"]) == 0
    assert read_csv(out)["interval"].tolist() == [0, 1, 2, 3, 4]
    capsys.readouterr()
    assert main(["export", "1", "--db", str(recorded), "-o", "-"]) == 0
    assert capsys.readouterr().out == out.read_text()
    assert not (tmp_path / "-").exists()


def test_export_to_a_full_disk_is_one_line_and_leaves_no_file(recorded, small_disk, capsys):
    fill_disk(small_disk)
    assert main(["export", "1", "--db", str(recorded), "-o", str(small_disk / "week1.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device; nothing was written" in err
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]


def test_names_reach_the_terminal_on_one_line_without_control_codes(recorded, capsys):
    assert main(["rename", "1", "Week 1\x1b[2J\x1b]0;pwned\x07\n[red]fake[/red]", "--db", str(recorded)]) == 0
    capsys.readouterr()
    for command in (["sessions"], ["show", "1"]):
        assert main([*command, "--db", str(recorded)]) == 0
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\x07" not in out and "pwned" in out
    assert main(["show", "1", "--db", str(recorded)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "session 1: Week 1\\x1b[2J\\x1b]0;pwned\\x07\\n[red]fake[/red] (completed)"


def test_text_a_spreadsheet_would_run_as_a_formula_is_exported_inert(recorded, tmp_path):
    assert main(["rename", "1", "=cmd|' /C calc'!A0", "--db", str(recorded)]) == 0
    with open_store(recorded) as store:
        store.add_marker(1, Marker(12.0, datetime.now(UTC), "@SUM(A1:A9)"))
        store.add_marker(1, Marker(16.0, datetime.now(UTC), "-2+3"))
    out = tmp_path / "x.csv"
    assert main(["export", "1", "-o", str(out), "--db", str(recorded)]) == 0
    table = read_csv(out)
    assert set(table["session_name"]) == {"'=cmd|' /C calc'!A0"}
    assert table["markers"].tolist() == ["", "slide 12: proofs", "'@SUM(A1:A9)", "'-2+3", ""]


def test_csv_for_spreadsheets_and_the_lecture_time_column(recorded, tmp_path):
    assert main(["rename", "1", "Physik Woche 1: Überblick", "--db", str(recorded)]) == 0
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    assert main(["export", "1", "-o", str(plain), "--db", str(recorded)]) == 0
    assert main(["export", "1", "-o", str(excel), "--excel", "--db", str(recorded)]) == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf") and excel.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = excel.read_text(encoding="utf-8-sig").splitlines()
    stamp = rows[1].split(",")[4]
    assert len(stamp) == 19 and stamp[10] == " " and "+" not in stamp  # 2026-12-02 09:00:00
    table = read_csv(plain)
    assert list(table.columns)[-3:] == ["below_min_faces", "lecture_time", "attention"]
    assert table["lecture_time"].tolist() == ["0:00", "0:05", "0:10", "0:15", "0:20"]
    assert set(table["session_name"]) == {"Physik Woche 1: Überblick"}
