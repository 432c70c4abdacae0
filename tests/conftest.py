"""Shared fixtures: a tiny exported model built by the tests, synthetic videos, and a CLI runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from monitor.demo import write_video
from monitor.perception.model import ModelCard, default_model_path
from tests.postgres import PostgresCluster, server_binaries

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

# The tests never read the settings of the machine they run on, nor write into its user's data folder.
for _name in [name for name in os.environ if name.startswith("ENGAGE_") and not name.startswith("ENGAGE_SCREENSHOT")]:
    del os.environ[_name]
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="engage-test-data-")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small untrained MobileNet exported to .onnx + card, exactly as training exports models. Where TensorFlow
    is not installed (the runtime tests without the `[train]` extra) the bundled model stands in."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from training.export import export_onnx
        from training.model import build_model
    except ImportError:
        return default_model_path()
    model = build_model(input_size=32, alpha=0.25)
    card = ModelCard(version="tiny-test", input_size=32, mapping={"happy": "positive"})
    return export_onnx(model, tmp_path_factory.mktemp("model") / "tiny.onnx", card)


@pytest.fixture(scope="session")
def lecture_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s at 10 fps, 3 faces; the third one is away from 4 s to 8 s."""
    path = tmp_path_factory.mktemp("video") / "lecture.mp4"
    return write_video(path, seconds=12, fps=10, faces=3, leave=(4.0, 8.0))


def run_engage(*args: str | Path, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run the real `engage` command in a subprocess."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "engage.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=kwargs.pop("cwd", None),
        **kwargs,
    )


def random_probabilities(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.random((n, 3)).astype(np.float32)
    return raw / raw.sum(axis=1, keepdims=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL server for the whole test run (skips where PostgreSQL is not installed)."""
    yield from _cluster()


@pytest.fixture
def own_server() -> Iterator[PostgresCluster]:
    """A server of the test's own, which it may stop and start."""
    yield from _cluster()


def _cluster() -> Iterator[PostgresCluster]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server not installed (Debian: apt-get install postgresql)")
    cluster = PostgresCluster(binaries)
    yield cluster
    cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new, empty store lives: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "engage.db")
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB file system of its own (tmpfs; needs root, as in CI)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small file system needs root")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_disk(folder: Path) -> Path:
    """Fill the file system until it has no byte left; the file that did it."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    for chunk in (65536, 4096, 512, 1):
        try:
            while True:
                os.write(fd, b"\0" * chunk)
        except OSError:
            pass
    os.close(fd)
    return filler


def wait_for_intervals(db: Path, count: int, timeout_s: float = 60.0) -> int:
    """Wait until a recording in another process has stored `count` intervals in the SQLite file `db`; how many."""
    import contextlib
    import sqlite3
    import time

    deadline, stored = time.monotonic() + timeout_s, 0
    while time.monotonic() < deadline and stored < count:
        time.sleep(0.2)
        if db.exists():
            with sqlite3.connect(db) as reader, contextlib.suppress(sqlite3.OperationalError):  # no schema yet
                stored = reader.execute("SELECT COUNT(*) FROM intervals").fetchone()[0]
    return stored
