"""A recording never stops for its store: a lock held past SQLite's busy timeout, or a full disk, in the middle of a
recording holds the intervals in memory, and every one of them arrives once the store is free again."""

import sqlite3
import threading
import time

import pytest

from monitor.demo import render_frame
from monitor.errors import EngageError
from monitor.perception.detect import create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings, Recording
from monitor.store import open_store
from monitor.store.writebehind import WriteBehind
from tests.conftest import fill_disk
from tests.factories import ROOM, START, aggregate

LOCK_HELD_S = 14.0  # longer than the store's 10 s busy timeout


def recording(db_path, tiny_model, interval_s=1.0):
    store = open_store(db_path)
    pipeline = Pipeline(
        create_detector("yunet"),
        ExpressionClassifier(tiny_model),
        store,
        PipelineSettings(fps=2, interval_s=interval_s),
        Recording("locked out", "test", ROOM, "test"),
    )
    return store, pipeline


def hold_write_lock(path, seconds, taken: threading.Event, released: list):
    """Another program (a backup tool, the sqlite3 shell) holding the database's write lock."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    taken.set()
    time.sleep(seconds)
    db.execute("ROLLBACK")
    released.append(time.monotonic())
    db.close()


def test_a_lock_held_past_the_busy_timeout_mid_recording_loses_no_interval(tmp_path, tiny_model):
    store, pipeline = recording(tmp_path / "s.db", tiny_model)
    for step in range(4):  # two intervals stored before the lock
        pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
    assert pipeline.flush()
    taken, released = threading.Event(), []
    holder = threading.Thread(target=hold_write_lock, args=(tmp_path / "s.db", LOCK_HELD_S, taken, released))
    holder.start()
    taken.wait(5)
    for step in range(4, 30):  # 13 more seconds of lecture while the lock is held
        assert pipeline.process(render_frame(640, 360, 3, step / 2), step / 2) is not None
    frames_done = time.monotonic()
    time.sleep(1.5)
    assert "intervals held in memory: waiting for the store" in pipeline.writer.status
    while "locked" not in pipeline.writer.status and time.monotonic() - frames_done < LOCK_HELD_S:
        time.sleep(0.1)  # the first attempt gives up after the busy timeout, and says why
    assert "database is locked" in pipeline.writer.status
    pipeline.finish("completed", 15.0)  # waits for the lock to go
    holder.join()
    assert frames_done < released[0]  # the frames never waited for the store
    stored = store.intervals(pipeline.session_id)
    assert [a.index for a in stored] == list(range(15))
    assert all(a.frames == 2 for a in stored)
    assert store.session(pipeline.session_id).status == "completed"
    assert pipeline.writer.status == ""


def test_a_disk_filling_up_mid_recording_loses_no_interval(small_disk, tiny_model):
    store, pipeline = recording(small_disk / "s.db", tiny_model)
    for step in range(4):
        pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
    assert pipeline.flush()
    filler = fill_disk(small_disk)
    for step in range(4, 20):
        pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
    assert not pipeline.flush(2.0)
    assert "full" in pipeline.writer.status
    filler.unlink()
    pipeline.finish("completed", 10.0)
    assert [a.index for a in store.intervals(pipeline.session_id)] == list(range(10))
    assert store.session(pipeline.session_id).status == "completed"
    store.close()


def test_a_store_that_stays_full_ends_the_session_with_one_line_and_keeps_what_was_written(small_disk, tiny_model):
    store, pipeline = recording(small_disk / "s.db", tiny_model)
    for step in range(5):
        pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
    assert pipeline.flush()
    fill_disk(small_disk)
    for step in range(5, 8):
        pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
    messages = []
    with pytest.raises(EngageError, match=r"full.*gave up after 2 s: session \d+ keeps what was written") as error:
        pipeline.finish("completed", 4.0, wait_s=2.0, notify=messages.append)
    assert "\n" not in str(error.value)
    assert messages and "Ctrl-C gives up" in messages[0]
    assert [a.index for a in store.intervals(pipeline.session_id)] == [0, 1]
    assert store.session(pipeline.session_id).recorded_status == "running"  # reads as interrupted once silent
    store.close()


def test_beyond_the_memory_bound_the_oldest_held_intervals_are_dropped_and_counted(small_disk):
    store = open_store(small_disk / "s.db")
    session = store.create_session("bounded", "test", {}, START, room=ROOM, host="test")
    filler = fill_disk(small_disk)
    writer = WriteBehind(store, session, max_held=3)
    for index in range(6):
        writer.add_interval(aggregate(index))
    time.sleep(0.5)
    assert "3 intervals held in memory, 3 dropped beyond the bound of 3" in writer.status
    filler.unlink()
    assert writer.wait(30)
    assert [a.index for a in store.intervals(session)] == [0, 4, 5]  # the first was being written
    assert not writer.close(1.0)  # something was lost, and it says so
    store.close()
