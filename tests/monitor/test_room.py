"""A room box records exactly its timetable's lectures, and stops cleanly as a service."""

import signal
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from monitor.errors import EngageError
from monitor.store import open_store
from monitor.timetable import Slot, current_or_next
from tests.conftest import ROOT, wait_for_intervals


def test_slots_parse_and_name_their_problem():
    slot = Slot.parse("Mon, wed 09:00-10:30")
    assert slot.days == (0, 2) and str(slot) == "mon,wed 09:00-10:30"
    for text, message in (
        ("monday 9-10", "give days and times"),
        ("mon,fri,xyz 09:00-10:00", "days are mon, tue"),
        ("tue 25:00-26:00", "times run from 00:00 to 23:59"),
        ("tue 10:00-09:00", "must end after it starts"),
    ):
        with pytest.raises(EngageError, match=message):
            Slot.parse(text)


def test_the_running_or_next_lecture():
    slots = (Slot.parse("mon,wed 09:00-10:30"), Slot.parse("fri 13:00-14:00"))
    monday = datetime(2026, 11, 30, 8, 0).astimezone()
    assert current_or_next(slots, monday) == (monday.replace(hour=9), monday.replace(hour=10, minute=30))
    during = monday.replace(hour=10)
    assert current_or_next(slots, during)[0] == monday.replace(hour=9)  # running now: record the rest of it
    saturday = monday + timedelta(days=5)
    assert current_or_next(slots, saturday)[0] == monday.replace(hour=9) + timedelta(days=7)


def test_engage_room_records_the_lecture_in_progress_and_stops_on_sigterm(tmp_path, tiny_model, lecture_video):
    start = datetime.now().astimezone() - timedelta(minutes=1)
    end = start + timedelta(minutes=5)
    if end.date() != start.date():
        pytest.skip("a lecture slot cannot cross midnight")
    slot = f"{start:%a} {start:%H:%M}-{end:%H:%M}".lower()
    db = tmp_path / "box.db"
    command = [sys.executable, "-m", "engage.cli", "room", "--lecture", slot, "--source", str(lecture_video)]
    options = ["--no-preview", "--interval", "2", "--model", str(tiny_model), "--db", str(db), "--room", "B12"]
    room = subprocess.Popen([*command, *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    wait_for_intervals(db, 2)
    room.send_signal(signal.SIGTERM)
    _, err = room.communicate(timeout=60)
    assert room.returncode == 0, err
    assert f"room B12: recording {slot}" in err and "room B12: stopped" in err
    with open_store(db) as store:
        (session,) = store.sessions()
    assert session.room == "B12" and session.status == "completed" and session.name.startswith("lecture in B12")
    assert session.ended_at is not None
