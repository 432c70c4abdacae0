from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dashboards.presenter import presenter_state, trend_figure, view
from monitor.store import open_store
from tests.factories import ROOM, aggregate


def running(store, levels: list[float | None], frames: int = 20, min_faces: int | None = 3, room: str = ROOM) -> int:
    """A lecture still running (this process keeps its heartbeat fresh), newest in its room."""
    sid = store.create_session(
        "Live", "camera 0", {"min_faces": min_faces}, datetime.now(UTC) - timedelta(minutes=20), room=room, host="t"
    )
    for i, level in enumerate(levels):
        store.add_interval(sid, replace(aggregate(i, level, faces=6.0), frames=frames if i == len(levels) - 1 else 20))
    return sid


def text(state) -> str:
    return str(view(state))


def test_nothing_running_says_so_plainly(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        state = presenter_state(store, ROOM)
    assert state.message == f"No lecture is running in {ROOM}" and "No lecture is running" in text(state)


def test_a_steady_room_reads_against_its_opening_and_a_drift_well_below_it_gives_a_calm_cue(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        steady = running(store, [0.42] * 60)
        state = presenter_state(store, None)
        assert state.lecture.id == steady and state.faces == 6 and not state.drifted
        assert state.reading.headline == "At your usual" and state.elapsed_s == 600
        drifting = running(store, [0.45] * 48 + [0.25] * 12, room="B2")
        state = presenter_state(store, "B2")
    assert state.lecture.id == drifting and state.drifted and state.reading.word == "below"
    assert "drifted below its level of this lecture" in text(state)
    assert [trace.name for trace in trend_figure(state).data] == ["engagement"]
    assert len(state.trend) == 60  # the last ten minutes


def test_under_the_small_group_floor_and_with_the_camera_lost_nothing_is_shown(tmp_path):
    with open_store(tmp_path / "s.db") as store:
        running(store, [0.5] * 3 + [None] * 12)
        floor = presenter_state(store, ROOM)
        running(store, [0.5] * 6, frames=0, room="B2")
        lost = presenter_state(store, "B2")
    assert floor.message == "Fewer than 3 faces in view: nothing is shown" and floor.reading is None
    assert lost.message.startswith("Camera lost since ") and lost.reading is None
