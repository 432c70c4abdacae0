"""The outbox and its sender against a real PostgreSQL server that goes away and comes back."""

import pytest

from monitor.store import StoreLocation, open_store
from monitor.store.outbox import Sender, jittered, push
from tests.factories import ROOM, START, aggregate


def test_an_outage_loses_nothing_and_writes_nothing_twice(own_server, tmp_path):
    central_url = own_server.new_database()
    with open_store(tmp_path / "outbox.db") as outbox:
        sender = Sender(outbox, StoreLocation.parse(central_url))
        sid = outbox.create_session("Week 3", "camera 0", {}, START, room=ROOM, host="laptop")
        for i in range(3):
            outbox.add_interval(sid, aggregate(i, 0.5))
        assert sender.send_once() and sender.status == ""

        own_server.stop()  # the network cable comes out
        for i in range(3, 8):
            outbox.add_interval(sid, aggregate(i, 0.7))
        assert not sender.send_once()
        assert sender.status == "central store unreachable, 5 intervals queued"
        assert "s3cret" not in sender.state.error

        own_server.start()
        assert sender.send_once() and sender.status == ""
        outbox.finish_session(sid, "completed")
        state = sender.stop()
        assert state.reachable and state.queued == 0
        assert outbox.sessions() == []  # finished and sent: it leaves the outbox

    with open_store(central_url, create=False) as central:
        (session,) = central.sessions(ROOM)
        assert session.status == "completed" and session.intervals == 8
        assert [a.index for a in central.intervals(session.id)] == list(range(8))
        assert session.mean_engagement == pytest.approx((3 * 0.5 + 5 * 0.7) / 8)


def test_pushing_again_after_a_lost_acknowledgement_changes_nothing(postgres, tmp_path):
    central_url = postgres.new_database()
    with open_store(tmp_path / "outbox.db") as outbox, open_store(central_url) as central:
        sid = outbox.create_session("Week 4", "camera 0", {}, START, room=ROOM, host="laptop")
        outbox.add_intervals(sid, [aggregate(i) for i in range(4)])
        push(outbox, central, prune=False)
        (pushed,) = central.sessions()
        central.add_intervals(pushed.id, outbox.intervals(sid))  # as if the first push's reply never came
        push(outbox, central, prune=False)
        assert central.session(pushed.id).intervals == 4 and len(central.intervals(pushed.id)) == 4


def test_retries_are_jittered_so_rooms_do_not_retry_in_step():
    delays = [jittered(8.0) for _ in range(50)]
    assert all(6.0 <= d <= 10.0 for d in delays) and len(set(delays)) == 50
