"""Recording commands: `live`, `analyze`, `demo` (each one pipeline session) and `classify` (images)."""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor import retention
from monitor.consent import MIN_FACES_DEFAULT
from monitor.console import PRIVACY_NOTICE, format_duration, info, shown, warn
from monitor.core import now
from monitor.errors import EngageError
from monitor.perception.detect import FaceDetector, YuNetDetector, create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings, Recording
from monitor.store import SessionReader, SessionStore, StoreLocation, open_store
from monitor.store.outbox import Sender
from monitor.text import printable
from monitor.types import IntervalAggregate

if TYPE_CHECKING:
    from monitor.store.sql import SqlStore

LIGHT_MAX_INPUT_PX = 210_000  # live: YuNet searches larger frames by parts of at most this many pixels (3x2 at 720p)


def _default_name(source: str, room: str) -> str:
    """A recording's file name, or `lecture in ROOM` for a camera: the date is listed beside it, never in it."""
    return Path(source).stem if "/" in source or "." in source else f"lecture in {room}"


def _runtime(args: argparse.Namespace, light: bool = False) -> tuple[FaceDetector, ExpressionClassifier]:
    """Load the detector and model first, so a bad model never leaves a session behind. OpenCV and the model run
    on one thread: the local searches on small crops are faster so, a recording's other cores decode it, parallel
    jobs share the cores, and `live` is idle between its few frames a second. `light` (live, on a laptop): YuNet
    searches a large frame by parts, for a quarter of its memory."""
    import cv2

    cv2.setNumThreads(1)
    detector = create_detector(args.detector, args.face_score)
    if light and isinstance(detector, YuNetDetector):
        detector.max_input_px = LIGHT_MAX_INPUT_PX
    return detector, ExpressionClassifier(args.model, threads=1)


def _cores(args: argparse.Namespace) -> int:
    """The cores one recording has: jobs at once share them."""
    import os

    return max(1, (os.cpu_count() or 1) // getattr(args, "jobs", 1))


def _decoding_threads(args: argparse.Namespace) -> int:
    """A recording's decoding threads: its cores less the one its analysis runs on (one thread decodes with the
    least work in all, and on two cores the analysis takes the other)."""
    return max(1, _cores(args) - 1)


@contextmanager
def recording_store(args: argparse.Namespace) -> Iterator[tuple[SqlStore, Sender | None]]:
    """The store a recording writes to: the SQLite file itself, or for a central store a local outbox
    whose sender pushes in the background. An unreachable central store does not stop the lecture. The store's
    retention policy is enforced first (and set, with --retention)."""
    from monitor.store.sql import NewerSchema, StoreUnavailable

    location, outbox = args.db, args.outbox
    if location.is_local:
        with open_store(location) as store:
            retention.enforce(store, args.retention, yes=args.yes)
            yield store, None
        return
    try:
        with open_store(location) as central:  # a wrong URL, wrong credentials or a newer schema: stop here
            _enforce_retention(central, args)
    except StoreUnavailable as exc:
        warn(f"{exc}; recording to the outbox {outbox}, sent when it answers (retention applied later)")
    except NewerSchema as exc:  # an upgrade elsewhere never stops this lecture
        warn(f"{exc}; recording to the outbox {outbox}, sent once this engage is upgraded")
    with open_store(StoreLocation.parse(outbox)) as store:
        sender = Sender(store, location, room=args.room, host=socket.gethostname())
        sender.start()
        try:
            yield store, sender
        finally:
            state = sender.stop()
            if state.queued or not state.reachable:
                warn(
                    f"{state.error or 'central store busy'}: {state.queued} intervals wait in {outbox}; "
                    "`engage sync` with the same --db or $ENGAGE_DB sends them (the next `engage live` does too)"
                )
            else:
                info(f"all intervals sent to {location}")


def _enforce_retention(central: SqlStore, args: argparse.Namespace) -> None:
    """The central store's retention, where this room's role may delete (a recording role may not: then the staff
    dashboard applies it)."""
    try:
        retention.enforce(central, args.retention, yes=args.yes)
    except EngageError as exc:
        if "permission denied" not in str(exc):
            raise
        warn("retention not applied from this room: its role may not delete (the staff dashboard applies it)")


def _start_pipeline(
    args: argparse.Namespace,
    store: SessionStore,
    source: str,
    runtime: tuple[FaceDetector, ExpressionClassifier],
    started_at: datetime | None = None,
    uid: str | None = None,
) -> Pipeline:
    info(PRIVACY_NOTICE)
    if args.min_faces < MIN_FACES_DEFAULT:
        warn(
            f"--min-faces {args.min_faces}: intervals with fewer than {MIN_FACES_DEFAULT} faces in view store "
            "expressions, so single students can be singled out"
        )
    if args.exclude_zones:
        info(f"not analyzed: faces in {', '.join(map(str, args.exclude_zones))} (fractions X,Y,W,H of the frame)")
    detector, classifier = runtime
    settings = PipelineSettings(
        fps=args.fps,
        interval_s=args.interval,
        detect_period_s=args.detect_period,
        search_period_s=args.search_period,
        rotate_views=args.views == "rotate",
        exclude_zones=tuple(args.exclude_zones),
        min_faces=args.min_faces,
        facing=args.facing,
        front_auto=args.front == "auto",
    )
    recording = Recording(args.name or _default_name(source, args.room), source, args.room, socket.gethostname(), uid)
    return Pipeline(detector, classifier, store, settings, recording, start_wall=started_at)


def _print_finished(store: SessionStore, session_id: int) -> None:
    session = store.session(session_id)
    info(
        f"session {session.id} '{session.name}' in room {session.room} {session.status}: "
        f"{format_duration(session.duration_s)}, mean engagement {shown(session.mean_engagement)}, "
        f"up to {session.faces_seen} faces; stored in {store.location}"
    )


@contextmanager
def presenter_view(args: argparse.Namespace) -> Iterator[None]:
    """With `--presenter`: a dashboard of this room on a free port of this machine, its presenter view opened in a
    browser (or its address printed without a display), stopped when the lecture ends."""
    if not args.presenter:
        yield
        return
    import os
    import socket
    import subprocess
    import sys
    import webbrowser

    from dashboards.presenter import PATH
    from monitor.preview import display_available

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    location = args.db.url.render_as_string(hide_password=False)  # in the environment, never on a command line
    env = {**os.environ, "ENGAGE_DB": location}
    command = [sys.executable, "-m", "engage", "dashboard", "--port", str(port), "--room", args.room, "--yes"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{PATH}"
    try:
        if display_available() and webbrowser.open(url):
            info(f"presenter view opened: {url}")
        else:
            info(f"presenter view: open {url} in a browser on this machine")
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def cmd_live(args: argparse.Namespace) -> int:
    from monitor.preview import PreviewWindow, display_available
    from monitor.run import map_large_blocks, run_live
    from monitor.source import LatestFrameReader, describe, open_capture, parse_source

    map_large_blocks()
    source = parse_source(args.source)
    runtime = _runtime(args, light=True)
    capture = open_capture(source)
    preview = None
    if args.preview:
        if display_available():
            preview = PreviewWindow(args.exclude_zones)
        else:
            warn("no display found: running without the preview window (pass --no-preview to silence this)")
    with recording_store(args) as (store, sender), presenter_view(args):
        pipeline = _start_pipeline(args, store, describe(source), runtime)
        stop = "q in the preview or Ctrl-C" if preview else "Ctrl-C"
        until = f"; it ends at {args.until:%H:%M}" if args.until else ""
        info(f"session {pipeline.session_id} started in room {args.room}; stop with {stop}{until}")
        run_live(pipeline, LatestFrameReader(source, capture), preview, sender, args.until)
        _print_finished(store, pipeline.session_id)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """One recording with its own progress bar; several (files or folders) as a batch."""
    from monitor.source import videos_in

    videos = videos_in(Path(v) for v in args.videos)
    if not videos:
        raise EngageError(f"no video file in {', '.join(args.videos)}")
    if args.cluster:
        from engage.commands.cluster import analyze_on_cluster

        return analyze_on_cluster(args, videos)
    if len(videos) > 1:
        return _analyze_batch(args, videos)
    args.jobs = 1  # one recording: every core decodes or analyzes it
    _analyze_one(args, videos[0])
    return 0


def _analyze_one(args: argparse.Namespace, video: Path) -> tuple[int, list[IntervalAggregate]]:
    """Analyze one recording with its own progress bar: its session id and stored intervals."""
    from monitor.run import run_analyze
    from monitor.source import FramesAhead, open_video

    frames = FramesAhead(open_video(video, _decoding_threads(args)), args.fps)  # decodes while the models load
    with contextlib.closing(frames):
        runtime = _runtime(args)  # a bad model: one line, and no store created
        with recording_store(args) as (store, _):
            pipeline = _analysis(args, store, video, runtime)
            run_analyze(pipeline, frames)
            _print_finished(store, pipeline.session_id)
            return pipeline.session_id, store.intervals(pipeline.session_id)


def _analysis(
    args: argparse.Namespace, store: SessionStore, video: Path, runtime: tuple[FaceDetector, ExpressionClassifier]
) -> Pipeline:
    """The pipeline of one recording, dated when it was made; its session is the same for every analysis of the
    same file with the same settings, so a rerun stores nothing twice."""
    from monitor.source import recorded_at, recording_identity

    started_at = args.started_at or recorded_at(video)
    if started_at is None:
        warn(f"{video} does not say when it was recorded: dated now (give --started-at 2026-12-02T09:00)")
    same = [recording_identity(video), f"{started_at}", args.name, args.room, args.fps, args.interval]
    same += [
        args.detect_period,
        args.search_period,
        args.views,
        [str(z) for z in args.exclude_zones],
        args.min_faces,
        args.detector,
        runtime[1].version,
    ]
    uid = str(uuid.uuid5(uuid.NAMESPACE_URL, "engage:" + json.dumps(same, default=str))) if started_at else None
    return _start_pipeline(args, store, str(video), runtime, started_at, uid)


@dataclass
class Outcome:
    """How one recording of a batch went."""

    video: Path
    session: int | None = None
    error: str = ""


def recording_lengths(videos: list[Path]) -> dict[Path, float]:
    """Each recording's length in seconds (0 where it cannot be read: its own job reports why)."""
    from monitor.source import open_video

    lengths = {}
    for video in videos:
        try:
            recording = open_video(video)
            lengths[video] = recording.duration_s
            recording.close()
        except EngageError:
            lengths[video] = 0.0
    return lengths


def _analyze_batch(args: argparse.Namespace, videos: list[Path]) -> int:
    """Analyze many recordings, `--jobs` at a time, under one progress bar; a file that fails is one line in the
    summary and never stops the others. Exit 2 if any failed."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from monitor.console import progress_bar
    from monitor.run import STOP_REQUESTED, run_analyze, stop_signals_as_interrupt
    from monitor.source import FramesAhead, open_video

    if args.name or args.started_at:
        raise EngageError("--name and --started-at name one recording; give one file, or neither")
    _runtime(args)  # a bad model or detector: one line before anything starts
    lengths = recording_lengths(videos)
    outcomes = {video: Outcome(video) for video in videos}
    lock = threading.Lock()
    STOP_REQUESTED.clear()
    with recording_store(args) as (store, _), stop_signals_as_interrupt(with_ctrl_c=True):
        with progress_bar() as progress:
            task = progress.add_task("analyze", total=sum(lengths.values()) or None, detail="")

            def advance(seconds: float, detail: str) -> None:
                with lock:
                    progress.update(task, advance=seconds, detail=detail)

            def analyze(video: Path) -> None:
                if STOP_REQUESTED.is_set():
                    outcomes[video].error = "not started: stopped"
                    return
                try:
                    with contextlib.closing(
                        FramesAhead(open_video(video, _decoding_threads(args)), args.fps)
                    ) as frames:
                        pipeline = _analysis(args, store, video, _runtime(args))
                        outcomes[video].session = pipeline.session_id
                        run_analyze(
                            pipeline, frames, lambda seconds, detail: advance(seconds, f"{video.name} {detail}")
                        )
                except EngageError as exc:
                    outcomes[video].error = str(exc)
                    advance(lengths[video], "")

            with ThreadPoolExecutor(max_workers=args.jobs, thread_name_prefix="engage-analyze") as pool:
                list(pool.map(analyze, videos))
        return report_batch(store, list(outcomes.values()))


def report_batch(store: SessionReader, outcomes: list[Outcome]) -> int:
    """The summary table of a batch and its closing line; an EngageError naming the recordings that failed."""
    from rich.table import Table
    from rich.text import Text

    from monitor.console import output

    view = Table("file", "session", "duration", "engagement", "result")
    for outcome in outcomes:
        session = store.session(outcome.session) if outcome.session else None
        view.add_row(
            Text(printable(outcome.video.name)),
            str(outcome.session or "-"),
            format_duration(session.duration_s) if session else "-",
            shown(session.mean_engagement) if session else "-",
            Text(printable(outcome.error or (session.status if session else "-"))),
        )
    output.print(view)
    failed = [o for o in outcomes if o.error]
    info(f"{len(outcomes) - len(failed)} of {len(outcomes)} recording(s) analyzed; stored in {store.location}")
    if failed:
        raise EngageError(f"{len(failed)} recording(s) failed: {', '.join(o.video.name for o in failed)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Generate the demo lecture, analyze it like any recording, and say where its dip and recovery were read."""
    from monitor.demo import STORY, STORY_AWAY, STORY_SECONDS, write_story
    from monitor.report import dip_and_recovery
    from monitor.settings import add_settings, resolve

    parser = argparse.ArgumentParser(prog="engage demo")
    add_settings(parser, "analyze")
    analyze = parser.parse_args(["--fps", "2", "--interval", "5", "--name", "demo lecture", "--room", args.room])
    resolve(analyze, "analyze")
    for key in ("db", "exclude_zones", "min_faces", "facing", "front", "retention", "yes", "sources"):
        setattr(analyze, key, getattr(args, key))
    analyze.started_at, analyze.jobs = now().replace(microsecond=0), 1
    with tempfile.TemporaryDirectory(prefix="engage-demo-") as folder:
        video = write_story(Path(folder) / "demo-lecture.mp4")
        left, back = (format_duration(t) for t in STORY_AWAY)
        info(
            f"generated a {STORY_SECONDS:g} s sample lecture: {len(STORY[0][1])} students made from a "
            f"bundled public-domain portrait, calm, then frowning, then laughing; one leaves at {left} and returns "
            f"at {back}"
        )
        session_id, intervals = _analyze_one(analyze, video)
    info(dip_and_recovery(intervals))
    given = args.sources.get("db", "default")
    db = "" if given in ("default", "$ENGAGE_DB") or given.endswith(".toml") else f" --db {args.db}"
    info(f"next: `engage show {session_id}{db}` or `engage dashboard{db}`")
    return 0


def cmd_classify(args: argparse.Namespace) -> int:
    from rich.table import Table
    from rich.text import Text

    from monitor.classify import classify_images
    from monitor.console import output
    from monitor.export import write_csv
    from monitor.perception.pose import HeadPoseModel

    detector = None if args.no_detect else create_detector(args.detector, args.face_score)
    table = classify_images(args.paths, ExpressionClassifier(args.model), detector, HeadPoseModel.load())
    if args.csv:
        info(f"{len(table)} face(s) written to {write_csv(table, args.csv, force=args.force)}")
        return 0
    view = Table(*table.columns)
    for row in table.itertuples(index=False):
        view.add_row(*(Text(shown(v, "{:.3f}") if isinstance(v, float) or v is None else printable(v)) for v in row))
    output.print(view)
    info(f"{len(table)} face(s) in {table['file'].nunique() if len(table) else 0} image(s)")
    if table.empty:
        info("no face found (use --no-detect for images that are face crops)")
    return 0


def cmd_zones(args: argparse.Namespace) -> int:
    """Draw opt-out zones on a frame of the source; print the flags and write them to the room config."""
    import cv2

    from monitor.consent import Zone
    from monitor.preview import display_available
    from monitor.settings import config_target, write_zones
    from monitor.source import open_capture, parse_source
    from monitor.types import Box

    if not display_available():
        raise EngageError(
            "engage zones draws on the live picture and needs a display; without one give --exclude-zone X,Y,W,H "
            "(fractions 0-1 of the frame) or exclude_zones in the room config"
        )
    capture = open_capture(parse_source(args.source))
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise EngageError(f"no picture from {args.source} to draw on")
    title = "engage zones: drag over each seat to leave out, Enter after each, Esc when done (nothing is saved)"
    boxes = cv2.selectROIs(title, frame, showCrosshair=False)
    cv2.destroyAllWindows()
    height, width = frame.shape[:2]
    zones = [Zone.of_pixels(Box(*map(int, box)), width, height) for box in boxes if box[2] > 0 and box[3] > 0]
    if not zones:
        info("no zone drawn; nothing changed")
        return 0
    target = config_target(args.config)
    write_zones(target, zones)
    info(" ".join(f"--exclude-zone {zone}" for zone in zones))
    info(f"written to {target.resolve()} (exclude_zones); `engage live` there leaves these seats out")
    return 0


def cmd_room(args: argparse.Namespace) -> int:
    """A room box's service: wait for each lecture of the timetable, record it, and wait for the next. A lecture
    whose camera fails is retried every 30 s until its end; SIGTERM or Ctrl-C ends the service cleanly."""
    import time

    from monitor.run import STOP_REQUESTED, stop_signals_as_interrupt
    from monitor.timetable import current_or_next

    if not args.lectures:
        raise EngageError("engage room needs a timetable: --lecture 'mon,wed 09:00-10:30' or lectures in the config")
    info(f"room {args.room}: recording {'; '.join(map(str, args.lectures))}")
    named = args.name
    STOP_REQUESTED.clear()
    try:
        with stop_signals_as_interrupt(with_ctrl_c=True):
            while not STOP_REQUESTED.is_set():
                start, end = current_or_next(tuple(args.lectures), now())
                if start > now():
                    info(f"next lecture {start:%a %Y-%m-%d %H:%M}-{end:%H:%M}; waiting")
                    while now() < start and not STOP_REQUESTED.is_set():
                        _report(args, f"idle, next lecture {start:%a %H:%M}")
                        time.sleep(min(30.0, max(0.1, (start - now()).total_seconds())))
                    continue
                args.until, args.name = end, named or f"lecture in {args.room} {start:%a %H:%M}"
                try:
                    cmd_live(args)
                except EngageError as exc:
                    warn(f"this lecture could not be recorded: {exc}; retrying in 30 s")
                    time.sleep(min(30.0, max(0.0, (end - now()).total_seconds())))
                if now() < end and not STOP_REQUESTED.is_set():  # the source ended early: wait out the slot
                    time.sleep(min(30.0, (end - now()).total_seconds()))
    except KeyboardInterrupt:
        pass
    _report(args, "stopped")
    info(f"room {args.room}: stopped")
    return 0


def _report(args: argparse.Namespace, state: str) -> None:
    """Tell a central store what this room box is doing between lectures (best effort: a lecture never waits)."""
    from monitor import __version__
    from monitor.store import RoomState

    if args.db.is_local:
        return
    try:
        with open_store(args.db) as central:
            central.report_room(RoomState(args.room, socket.gethostname(), state, 0, __version__, now()))
    except EngageError as exc:
        warn(f"could not tell {args.db} this room is {state}: {exc}")
