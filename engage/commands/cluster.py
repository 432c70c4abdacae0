"""`engage analyze FILES --cluster ADDRESS`: each recording one task on an existing Dask cluster's workers.

Every worker runs the same pipeline with the task's settings and model (never its own config) and writes to the
central store given by `--db`, through its own outbox when it cannot reach it (as a room box does). A task whose
worker dies is run again elsewhere by Dask; a recording's identity makes the rerun store nothing twice. A recording
that fails twice is one line of the summary and the others go on.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engage.commands.record import (
    Outcome,
    _analysis,
    _decoding_threads,
    _enforce_retention,
    _runtime,
    recording_lengths,
    recording_store,
    report_batch,
)
from monitor.console import info, progress_bar, warn
from monitor.core import now
from monitor.errors import EngageError
from monitor.store import SessionReader, open_store

CONNECT_TIMEOUT_S = 10.0  # to reach the scheduler
WORKERS_TIMEOUT_S = 30.0  # for a scheduler without workers to get one
RETRIES = 1  # a task that raised runs once more; Dask reruns one whose worker died on its own


@dataclass(frozen=True)
class RemoteResult:
    """What a worker reports of one recording: its session's uid in the stores, or why it failed."""

    video: Path
    uid: str = ""
    queued: int = 0  # intervals the worker's outbox still holds for the central store
    error: str = ""


def analyze_remote(settings: argparse.Namespace, video: Path, started_at: datetime) -> RemoteResult:
    """On a worker: analyze one recording, taught at `started_at`, with the task's `settings` into the central
    store, through this machine's outbox. A bad recording is a result; anything unexpected raises, so Dask runs the
    task again, with the same date and so the same session."""
    from distributed import get_worker

    from monitor.defaults import default_outbox
    from monitor.run import run_analyze
    from monitor.source import FramesAhead, open_video

    args = copy.copy(settings)
    args.outbox, args.jobs = default_outbox(), max(1, get_worker().state.nthreads)
    args.started_at = started_at
    try:
        frames = FramesAhead(open_video(video, _decoding_threads(args)), args.fps)  # decodes while the models load
        with contextlib.closing(frames), recording_store(args) as (store, sender):
            pipeline = _analysis(args, store, video, _runtime(args))
            # read while it runs: once finished, the sender of another worker sharing this outbox may prune it
            uid = store.session(pipeline.session_id).uid
            run_analyze(pipeline, frames, lambda seconds, detail: None)
        return RemoteResult(video, uid, sender.state.queued if sender else 0)
    except EngageError as exc:
        return RemoteResult(video, error=str(exc))


def _connect(address: str) -> Any:
    """A Dask client of the scheduler at `address`, with a worker; one EngageError for anything else."""
    try:
        from distributed import Client
    except ImportError:
        raise EngageError("--cluster needs Dask's distributed: pip install 'engage[cluster]'") from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except Exception as exc:  # OSError, TimeoutError, or a peer that does not speak Dask's protocol
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngageError(f"--cluster {address}: no Dask scheduler answers there ({reason})") from None
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except Exception:
        client.close()
        raise EngageError(f"--cluster {address}: the scheduler has no worker") from None
    return client


def _unreadable(paths: list[str]) -> list[str]:
    """On a worker: the recordings it cannot read."""
    return [path for path in paths if not os.access(path, os.R_OK)]


def analyze_on_cluster(args: argparse.Namespace, videos: list[Path]) -> int:
    """Send each recording to the cluster as one task, follow them under one progress bar, and summarize."""
    from distributed import as_completed

    if args.db.is_local:
        raise EngageError(
            "--cluster writes from many machines: give a central --db (postgresql://...), not a SQLite file"
        )
    if args.name or args.started_at:
        raise EngageError("--name and --started-at name one recording; give one file, or neither")
    videos = [video.resolve() for video in videos]
    with open_store(args.db) as central:  # a wrong URL or credentials: one line, before any work is sent
        _enforce_retention(central, args)  # here, once: the workers leave it alone
    client = _connect(args.cluster)
    try:
        blind = {
            worker: missing for worker, missing in client.run(_unreadable, [str(v) for v in videos]).items() if missing
        }
        if blind:
            worker, missing = next(iter(blind.items()))
            raise EngageError(
                f"{missing[0]} is not readable on worker {worker}: every worker must see the recordings at the same "
                "path (a shared file system)"
            )
        lengths = recording_lengths(videos)
        settings = copy.copy(args)
        settings.cluster, settings.retention = None, None
        workers = len(client.scheduler_info()["workers"])
        info(f"analyzing {len(videos)} recording(s) on {workers} worker(s) of {args.cluster}")
        futures = {
            client.submit(analyze_remote, settings, video, when, retries=RETRIES, pure=False): video
            for video, when in _dated(videos).items()
        }
        results: dict[Path, RemoteResult] = {}
        started, done_s = time.monotonic(), 0.0
        with progress_bar() as progress:
            task = progress.add_task("analyze", total=sum(lengths.values()) or None, detail="")
            for future in as_completed(list(futures)):
                video = futures.pop(future)
                try:
                    results[video] = future.result()
                except Exception as exc:  # failed twice, or its workers kept dying
                    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    results[video] = RemoteResult(video, error=f"failed twice on the cluster: {reason}")
                finally:  # a result Dask no longer holds is never computed again when its worker dies later
                    future.release()
                done_s += lengths[video]
                rate = done_s / max(time.monotonic() - started, 1e-6)
                detail = f"{len(results)}/{len(videos)} recordings, {done_s / 3600:.2f} media h, {rate:.1f}x real time"
                progress.update(task, advance=lengths[video], detail=detail)
    finally:
        client.close()
    with open_store(args.db) as central:
        return report_batch(central, [_outcome(central, results[video], args.room) for video in videos])


def _dated(videos: list[Path]) -> dict[Path, datetime]:
    """When each recording was taught, from its own header, else now: decided here once, so a task run again after
    its worker died analyzes the same session."""
    from monitor.source import recorded_at

    dated = {}
    for video in videos:
        dated[video] = recorded_at(video)
        if dated[video] is None:
            warn(f"{video} does not say when it was recorded: dated now (give it a creation time to rerun it)")
            dated[video] = now().replace(microsecond=0)
    return dated


def _outcome(central: SessionReader, result: RemoteResult, room: str) -> Outcome:
    """A worker's result as the summary's row: its session in the central store (by uid)."""
    if result.error:
        return Outcome(result.video, error=result.error)
    session = next((s for s in central.sessions(room) if s.uid == result.uid), None)
    if session is None:
        return Outcome(result.video, error=f"{result.queued} intervals wait in the worker's outbox (engage sync)")
    return Outcome(result.video, session.id)
