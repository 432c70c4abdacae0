from datetime import timedelta

import pytest

from monitor.store import open_store
from monitor.tables import interval_table
from monitor.usual import AT_USUAL, Reading, Usual, read, usual_level
from tests.factories import ROOM, START, aggregate

NEUTRAL_ROOM = 0.39  # the index of a calm, attentive room of neutral faces (the real audience clip: 83% neutral)


def lecture(store, day: int, levels: list[float | None], room: str = ROOM, finish: bool = True) -> int:
    sid = store.create_session(f"lecture {day}", "camera 0", {}, START + timedelta(days=day), room=room, host="t")
    for i, level in enumerate(levels):
        store.add_interval(sid, aggregate(i, level))
    if finish:
        store.finish_session(sid, "completed")
    return sid


def reading_of(store, sid: int) -> Reading:
    session = store.session(sid)
    return read(session.mean_engagement, usual_level(store, session, interval_table(store.intervals(sid))))


def test_a_room_of_neutral_faces_reads_at_your_usual_not_as_a_failure(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        for day, level in enumerate([0.41, 0.38, 0.40, 0.42]):
            lecture(store, day, [level] * 6)
        lecture(store, 2, [0.9] * 6, room="another room")  # other rooms are not this instructor's usual
        now = reading_of(store, lecture(store, 10, [NEUTRAL_ROOM] * 6))
    assert now.word == "at" and now.headline == "At your usual"
    assert now.usual == Usual(0.405, "the median of this room's last 4 lectures")
    assert now.sentence() == "at your usual: 0.02 below 0.41, the median of this room's last 4 lectures"


def test_a_rooms_first_lecture_reads_against_its_own_opening_minutes_and_the_second_against_the_first(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        first = lecture(store, 0, [0.40] * 60 + [0.25] * 30)  # ten calm minutes, then a slump
        usual = usual_level(store, store.session(first), interval_table(store.intervals(first)))
        assert usual == Usual(pytest.approx(0.40), "this lecture's first 10 minutes (the room's first lecture)")
        assert reading_of(store, first).word == "below"
        second = reading_of(store, lecture(store, 1, [0.36] * 6))
        assert second.usual == Usual(pytest.approx(0.35), "this room's one earlier lecture") and second.word == "at"
        empty = lecture(store, 2, [None] * 3, room="a new room")
        assert usual_level(store, store.session(empty), interval_table([])) is None


@pytest.mark.parametrize(
    ("value", "word"), [(0.5, "above"), (0.4 + AT_USUAL, "at"), (0.4 - AT_USUAL, "at"), (0.3, "below")]
)
def test_within_the_band_is_at_the_usual_outside_it_above_or_below(value, word):
    reading = Reading(value, Usual(0.4, "x"))
    side = "above" if value >= 0.4 else "below"
    assert reading.word == word and reading.detail.startswith(f"{abs(value - 0.4):.2f} {side} 0.40, x")
    assert read(None, Usual(0.4, "x")) is None and read(0.4, None) is None
