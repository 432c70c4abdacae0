"""`engage analyze --cluster`: a real Dask scheduler and two worker processes on 127.0.0.1, the test PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from engage.commands.cluster import _unreadable
from monitor.demo import write_video
from monitor.store import open_store
from tests.conftest import run_engage
from tests.factories import START, taught
from tests.local_dask import LocalDask, free_port

pytest.importorskip("distributed", reason="needs the cluster extra: pip install 'engage[cluster]'")
pytestmark = pytest.mark.slow


@pytest.fixture
def dask_cluster() -> Iterator[LocalDask]:
    cluster = LocalDask()
    yield cluster
    cluster.close()


@pytest.fixture
def recordings(tmp_path) -> list[Path]:
    """Three recordings of different lengths (so three identities), each dated by its own header."""
    return [
        taught(write_video(tmp_path / f"lecture-{k}.mp4", seconds=20 + 4 * k, fps=10), START + timedelta(days=k))
        for k in range(3)
    ]


def stored(central: str) -> dict[str, list[int]]:
    """Each stored session's name and the indexes of its intervals, as stored."""
    with open_store(central, create=False) as store:
        return {s.name: [a.index for a in store.intervals(s.id)] for s in store.sessions()}


def complete(central: str, recordings: list[Path]) -> None:
    """Every recording stored as one completed session, each of its intervals once."""
    with open_store(central, create=False) as store:
        sessions = store.sessions()
        assert sorted(s.name for s in sessions) == sorted(v.stem for v in recordings)
        for session in sessions:
            indexes = [a.index for a in store.intervals(session.id)]
            assert session.status == "completed" and indexes == list(range(len(indexes))) and len(indexes) >= 2
            assert session.intervals == len(indexes)


def test_three_recordings_through_two_workers_are_stored_once_and_a_rerun_adds_nothing(
    dask_cluster, postgres, recordings
):
    central = postgres.new_database()
    analyze = ("analyze", *recordings, "--cluster", dask_cluster.address, "--db", central, "--room", "B12")
    done = run_engage(*analyze, "--interval", "5", timeout=300)
    assert done.returncode == 0, done.stderr
    assert "on 2 worker(s)" in done.stderr and "3 of 3 recording(s) analyzed" in done.stderr
    complete(central, recordings)
    first = stored(central)
    again = run_engage(*analyze, "--interval", "5", timeout=300)
    assert again.returncode == 0, again.stderr
    assert stored(central) == first


def test_a_worker_killed_while_it_works_loses_nothing_and_stores_nothing_twice(dask_cluster, postgres, tmp_path):
    # undated recordings: the command dates each once, so a task run again elsewhere continues the same session
    recordings = [write_video(tmp_path / f"undated-{k}.mp4", seconds=30 + 4 * k, fps=10) for k in range(3)]
    central = postgres.new_database()
    command = ("engage.cli", "analyze", *map(str, recordings), "--cluster", dask_cluster.address, "--db", central)
    analysis = subprocess.Popen(
        [sys.executable, "-m", *command, "--interval", "2", "--room", "B12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not intervals_so_far(central):
        time.sleep(0.3)  # both workers are busy once the first intervals arrive
    dask_cluster.workers[0].kill()
    _, err = analysis.communicate(timeout=300)
    assert analysis.returncode == 0, err
    complete(central, recordings)
    time.sleep(2)  # a result held by the dead worker is not computed again once the command has it
    with open_store(Path(dask_cluster.data) / "engage" / "outbox.db", create=False) as outbox:
        assert outbox.sessions() == []  # every session sent and finished, none reopened
    complete(central, recordings)


def intervals_so_far(central: str) -> int:
    try:
        return sum(len(indexes) for indexes in stored(central).values())
    except Exception:  # the first worker has not created the schema yet
        return 0


def test_bad_cluster_input_is_one_line_and_stores_nothing(postgres, recordings, tmp_path):
    central = postgres.new_database()
    video = recordings[0]
    refusing = socket.socket()  # a server that is not a Dask scheduler: it answers and hangs up
    refusing.bind(("127.0.0.1", 0))
    refusing.listen()

    def answer() -> None:
        while True:
            try:
                connection, _ = refusing.accept()
            except OSError:
                return
            connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            connection.close()

    threading.Thread(target=answer, daemon=True).start()
    wrong = f"tcp://127.0.0.1:{refusing.getsockname()[1]}"
    cases = {
        f"tcp://127.0.0.1:{free_port()}": "no Dask scheduler answers there",
        wrong: "no Dask scheduler answers there",
    }
    for address, message in cases.items():
        done = run_engage("analyze", video, "--cluster", address, "--db", central, timeout=120)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    refusing.close()
    local = run_engage("analyze", video, "--cluster", "tcp://127.0.0.1:1", "--db", tmp_path / "s.db")
    assert local.returncode == 2 and "give a central --db (postgresql://...)" in local.stderr
    assert not (tmp_path / "s.db").exists()
    with open_store(central, create=False) as store:
        assert store.sessions() == []


def test_workers_report_the_recordings_they_cannot_read(tmp_path):
    readable = tmp_path / "a.mp4"
    readable.write_bytes(b"x")
    assert _unreadable([str(readable), str(tmp_path / "elsewhere.mp4")]) == [str(tmp_path / "elsewhere.mp4")]
