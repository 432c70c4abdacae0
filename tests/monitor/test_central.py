"""Rooms writing to a central PostgreSQL through the real `engage` command."""

import os
import subprocess
import sys
import time

import pytest

from monitor.store import open_store
from tests.conftest import ROOT, run_engage
from tests.postgres import PASSWORD


@pytest.mark.slow
def test_a_live_lecture_survives_the_central_store_going_away(own_server, tiny_model, lecture_video, tmp_path):
    central = own_server.new_database()
    command = [sys.executable, "-m", "engage.cli", "live", "--source", str(lecture_video), "--no-preview"]
    command += ["--interval", "1", "--model", str(tiny_model), "--db", central, "--room", "B12"]
    command += ["--outbox", str(tmp_path / "outbox.db")]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("DISPLAY", None)
    lecture = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    time.sleep(4)
    own_server.stop()  # the cable comes out for a while, mid-lecture
    time.sleep(4)
    own_server.start()
    out, err = lecture.communicate(timeout=90)
    assert lecture.returncode == 0, err
    assert "central store unreachable" in err and "intervals queued" in err
    assert "all intervals sent" in err and PASSWORD not in err + out
    with open_store(central, create=False) as store:
        (session,) = store.sessions("B12")
        indexes = [a.index for a in store.intervals(session.id)]
    assert session.status == "completed" and indexes == list(range(len(indexes))) and len(indexes) >= 10
    assert session.intervals == len(indexes)


def test_commands_filter_by_room_and_mark_finds_this_rooms_lecture(postgres, tiny_model, lecture_video):
    central = postgres.new_database()
    recorded = run_engage("analyze", lecture_video, "--model", tiny_model, "--db", central, "--room", "B12")
    assert recorded.returncode == 0, recorded.stderr
    demo = run_engage("demo", "--db", central, "--room", "C3")
    assert demo.returncode == 0 and "all intervals sent" in demo.stderr and PASSWORD not in demo.stderr
    listed = run_engage("sessions", "--db", central, "--room", "C3")
    assert listed.returncode == 0 and "C3" in listed.stdout and "B12" not in listed.stdout
    assert run_engage("mark", "quiz", "--db", central, "--room", "B12").returncode == 2  # nothing running there
    shown = run_engage("show", "lecture", "--db", central, "--room", "B12")
    assert shown.returncode == 0 and "room        B12" in shown.stdout


@pytest.mark.parametrize("url", ["postgresql://engage:pw@127.0.0.1:9/engage", "mysql://x@y/z"])
def test_a_bad_central_url_is_one_line_and_exit_2(url):
    result = run_engage("sessions", "--db", url)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert ":pw@" not in result.stderr and "Traceback" not in result.stderr


def _pretend_upgraded(url, oldest_writer):
    """The central database as a newer engage (schema + 1) leaves it, saying which schemas may still write."""
    import sqlalchemy as sa

    from monitor.store.schema import OLDEST_WRITER_KEY, SCHEMA_VERSION

    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as db:
        db.exec_driver_sql("UPDATE engage_schema SET version = %s", (SCHEMA_VERSION + 1,))
        db.exec_driver_sql("UPDATE engage_meta SET value = %s WHERE name = %s", (str(oldest_writer), OLDEST_WRITER_KEY))
    engine.dispose()


def test_upgrading_the_central_store_never_stops_a_lecture(postgres, tiny_model, lecture_video, tmp_path):
    from monitor.store.schema import SCHEMA_VERSION

    central = postgres.new_database()
    open_store(central).close()
    outbox = tmp_path / "outbox.db"
    record = ["analyze", lecture_video, "--model", tiny_model, "--db", central, "--outbox", outbox, "--room", "B12"]

    _pretend_upgraded(central, oldest_writer=SCHEMA_VERSION)  # a newer engage that older writers may still use
    done = run_engage(*record, "--name", "compatible")
    assert done.returncode == 0 and "all intervals sent" in done.stderr, done.stderr
    listed = run_engage("sessions", "--db", central)
    assert listed.returncode == 0 and "compatible" in listed.stdout

    _pretend_upgraded(central, oldest_writer=SCHEMA_VERSION + 1)  # one this engage may not write
    done = run_engage(*record, "--name", "kept aside")
    assert done.returncode == 0, done.stderr
    assert "upgraded by a newer engage" in done.stderr and "recording to the outbox" in done.stderr
    with open_store(outbox) as kept:
        assert [s.name for s in kept.sessions()] == ["kept aside"] and kept.intervals(kept.sessions()[0].id)

    _pretend_upgraded(central, oldest_writer=SCHEMA_VERSION)  # this room is upgraded (or the newer one allows it)
    synced = run_engage("sync", "--db", central, "--outbox", outbox)
    assert synced.returncode == 0, synced.stderr
    listed = run_engage("sessions", "--db", central)
    assert "kept aside" in listed.stdout


def test_a_rooms_role_adds_but_never_deletes_and_the_staff_prunes(postgres, tiny_model, lecture_video, tmp_path):
    import psycopg

    from tests.postgres import PASSWORD

    central = postgres.new_database()
    database = central.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(), autocommit=True) as admin:
        for role in ("room_b12", "staff"):
            admin.execute(f"DROP ROLE IF EXISTS {role}")
            admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    granted = run_engage("grant", "--db", central, "--recorder", "room_b12", "--staff", "staff")
    assert granted.returncode == 0, granted.stderr
    as_room = central.replace("//engage:", "//room_b12:")
    as_staff = central.replace("//engage:", "//staff:")
    assert as_room != central and database in as_room

    outbox = tmp_path / "outbox.db"
    record = ["analyze", lecture_video, "--model", tiny_model, "--db", as_room, "--outbox", outbox, "--room", "B12"]
    done = run_engage(*record, "--retention", "1y", "--started-at", "2020-01-06T09:00+01:00")
    assert done.returncode == 0 and "all intervals sent" in done.stderr, done.stderr
    assert "retention not applied from this room" in done.stderr
    for command in (["prune", "--older-than", "1d", "--yes"], ["delete", "1", "--yes"]):
        refused = run_engage(*command, "--db", as_room)
        assert refused.returncode == 2 and "permission denied" in refused.stderr, refused.stderr
    listed = run_engage("sessions", "--db", as_room)
    assert listed.returncode == 0 and "B12" in listed.stdout
    pruned = run_engage("prune", "--older-than", "1d", "--yes", "--db", as_staff)
    assert pruned.returncode == 0 and "deleted 1 session" in pruned.stderr, pruned.stderr


def test_rooms_report_their_state_and_the_staff_dashboard_shows_it(postgres, tiny_model, lecture_video, tmp_path):
    from datetime import UTC, datetime, timedelta

    from dashboards.app import create_app
    from monitor import __version__
    from monitor.store import RoomState

    central = postgres.new_database()
    record = ["analyze", lecture_video, "--model", tiny_model, "--db", central, "--outbox", tmp_path / "o.db"]
    assert run_engage(*record, "--room", "B12").returncode == 0
    with open_store(central) as store:
        (b12,) = store.room_states()
        assert (b12.room, b12.state, b12.queued, b12.version) == ("B12", "stopped", 0, __version__)
        long_ago = datetime.now(UTC) - timedelta(minutes=10)
        store.report_room(RoomState("C3", "box-c3", "recording", 4, __version__, long_ago))
        store.report_room(RoomState("D4", "box-d4", "idle, next lecture Mon 09:00", 0, __version__, long_ago))
    page = str(create_app(central).layout())
    assert "rooms-table" in page and "B12" in page
    rows = {r["room"]: r for r in _component(create_app(central).layout(), "rooms-table").data}
    assert rows["C3"]["state"].startswith("silent since") and rows["C3"]["queued"] == 4
    assert rows["D4"]["state"] == "idle, next lecture Mon 09:00" and rows["B12"]["state"] == "stopped"
    scoped = {r["room"] for r in _component(create_app(central, rooms=["B12", "C3"]).layout(), "rooms-table").data}
    assert scoped == {"B12", "C3"}  # a staff dashboard for some rooms sees only their health


def _component(tree, wanted):
    """The Dash component with id `wanted` in a layout tree."""
    if getattr(tree, "id", None) == wanted:
        return tree
    children = getattr(tree, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        found = _component(child, wanted)
        if found is not None:
            return found
    return None
