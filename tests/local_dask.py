"""A real Dask cluster for the tests and the cluster benchmark: a scheduler and worker processes on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(*command: str, data: str) -> subprocess.Popen:
    """A process of the cluster; `data` is its user data folder (the workers' outbox lives there)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "XDG_DATA_HOME": data}
    env.pop("DISPLAY", None)
    return subprocess.Popen(
        [sys.executable, "-m", *command], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )


class LocalDask:
    """A scheduler and worker processes (no nanny: a killed worker stays dead) on 127.0.0.1."""

    def __init__(self, workers: int = 2) -> None:
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.data = tempfile.mkdtemp(prefix="engage-dask-")  # the workers' own outbox, never another test's
        self.scheduler = start(
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            ":0",
            data=self.data,
        )
        worker = (
            "distributed.cli.dask_worker",
            self.address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--dashboard-address",
            ":0",
            "--host",
            "127.0.0.1",
        )
        self.workers = [start(*worker, data=self.data) for _ in range(workers)]
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=60)

    def close(self) -> None:
        for process in [*self.workers, self.scheduler]:
            process.kill()
            process.wait()
        shutil.rmtree(self.data, ignore_errors=True)
