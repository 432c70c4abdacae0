"""Handlers of the `engage` sub-commands; each returns an exit code (None = 0)."""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from monitor.console import PRIVACY_NOTICE, format_duration, info, shown, warn
from monitor.detect import FaceDetector, create_detector
from monitor.errors import EngageError
from monitor.model import CLASSES, ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings
from monitor.store import SessionInfo, SessionStore, now


def _default_name(source: str) -> str:
    return f"{Path(source).stem if '/' in source or '.' in source else source} {now():%Y-%m-%d %H:%M}"


def _runtime(args: argparse.Namespace) -> tuple[FaceDetector, ExpressionClassifier]:
    """Load the detector and model first, so a bad model never leaves a session behind."""
    return create_detector(args.detector, args.face_score), ExpressionClassifier(args.model)


def _start_pipeline(
    args: argparse.Namespace, store: SessionStore, source: str, runtime: tuple[FaceDetector, ExpressionClassifier]
) -> Pipeline:
    info(PRIVACY_NOTICE)
    detector, classifier = runtime
    settings = PipelineSettings(args.fps, args.interval, args.detect_period)
    return Pipeline(detector, classifier, store, settings, name=args.name or _default_name(source), source=source)


def cmd_live(args: argparse.Namespace) -> int:
    from monitor.preview import PreviewWindow, display_available
    from monitor.run import run_live
    from monitor.source import LatestFrameReader, describe, open_capture, parse_source

    source = parse_source(args.source)
    runtime = _runtime(args)
    capture = open_capture(source)
    preview = None
    if not args.no_preview:
        if display_available():
            preview = PreviewWindow()
        else:
            warn("no display found: running without the preview window (pass --no-preview to silence this)")
    with SessionStore(args.db) as store:
        pipeline = _start_pipeline(args, store, describe(source), runtime)
        info(f"session {pipeline.session_id} started; stop with q in the preview or Ctrl-C")
        run_live(pipeline, LatestFrameReader(source, capture), preview)
        _print_finished(store, pipeline.session_id)
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from monitor.run import run_analyze
    from monitor.source import open_capture

    runtime = _runtime(args)
    capture = open_capture(args.video)
    with SessionStore(args.db) as store:
        pipeline = _start_pipeline(args, store, args.video, runtime)
        run_analyze(pipeline, capture)
        _print_finished(store, pipeline.session_id)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from monitor.demo import write_video

    with tempfile.TemporaryDirectory(prefix="engage-demo-") as folder:
        video = write_video(Path(folder) / "demo-lecture.mp4", seconds=30, fps=10, faces=3, leave=(12, 20))
        info("generated a 30 s sample lecture (3 faces from a bundled public-domain portrait; one leaves at 0:12)")
        from monitor.cli import build_parser

        demo = ["analyze", str(video), "--fps", "2", "--interval", "5", "--name", "demo lecture", "--db", str(args.db)]
        cmd_analyze(build_parser().parse_args(demo))
    info(f'next: `engage show "demo lecture" --db {args.db}` or `engage dashboard --db {args.db}`')
    return 0


def _print_finished(store: SessionStore, session_id: int) -> None:
    session = store.session(session_id)
    engagement = shown(session.mean_engagement)
    info(
        f"session {session.id} '{session.name}' {session.status}: {format_duration(session.duration_s)}, "
        f"mean engagement {engagement}, up to {session.faces_seen} faces; stored in {store.path}"
    )


def cmd_classify(args: argparse.Namespace) -> int:
    from rich.table import Table

    from monitor.classify import classify_images
    from monitor.console import output
    from monitor.export import write_csv

    detector = None if args.no_detect else create_detector(args.detector, args.face_score)
    table = classify_images(args.paths, ExpressionClassifier(args.model), detector)
    if args.csv:
        info(f"{len(table)} face(s) written to {write_csv(table, args.csv)}")
        return 0
    view = Table(*table.columns)
    for row in table.itertuples(index=False):
        view.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row))
    output.print(view)
    info(f"{len(table)} face(s) in {table['file'].nunique() if len(table) else 0} image(s)")
    if table.empty:
        info("no face found (use --no-detect for images that are face crops)")
    return 0


def cmd_sessions(args: argparse.Namespace) -> int:
    from rich.table import Table

    from monitor.console import output

    with SessionStore(args.db, create=False) as store:
        sessions = store.sessions()
    if not sessions:
        info("no sessions recorded yet: run `engage live` or `engage analyze VIDEO`")
        return 0
    view = Table("id", "name", "start", "duration", "status", "engagement", "faces")
    for s in sessions:
        engagement = "-" if s.mean_engagement is None else f"{s.mean_engagement:.2f}"
        view.add_row(
            str(s.id),
            s.name,
            f"{s.started_at:%Y-%m-%d %H:%M}",
            format_duration(s.duration_s),
            s.status,
            engagement,
            str(s.faces_seen),
        )
    output.print(view)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from monitor.report import sparkline, summarize

    with SessionStore(args.db, create=False) as store:
        session = store.resolve(args.session)
        intervals = store.intervals(session.id)
        markers = store.markers(session.id)
    summary = summarize(intervals)

    lines = [
        f"session {session.id}: {session.name} ({session.status})",
        f"source      {session.source}",
        f"started     {session.started_at:%Y-%m-%d %H:%M:%S %z}   duration {format_duration(summary.duration_s)}",
        f"engagement  mean {shown(summary.mean_engagement)}   median {shown(summary.median_engagement)}   "
        f"(p_positive + 0.5 p_neutral, 0..1)",
        "expressions " + "   ".join(f"{c} {shown(summary.class_shares[c], '{:.0%}')}" for c in CLASSES),
        f"timeline    |{sparkline(intervals['engagement'])}|",
    ]
    if summary.lowest:
        lows = ", ".join(f"{format_duration(m.offset_s)} ({m.engagement:.2f})" for m in summary.lowest)
        lines.append(f"lowest      {lows}")
    lines += [f"marker      {format_duration(m.offset_s)} {m.text}" for m in markers.itertuples()]
    print("\n".join(lines))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import pandas as pd

    from monitor.export import default_csv_name, session_table, write_csv

    if bool(args.session) == bool(args.all):
        raise EngageError("give one SESSION or --all")
    with SessionStore(args.db, create=False) as store:
        sessions = store.sessions()[::-1] if args.all else [store.resolve(args.session)]
        if not sessions:
            raise EngageError("no sessions to export")
        table = pd.concat([session_table(store, s) for s in sessions], ignore_index=True)
    output = args.output or (Path("engage-sessions.csv") if args.all else default_csv_name(sessions[0]))
    info(f"{len(table)} interval(s) of {len(sessions)} session(s) written to {write_csv(table, output)}")
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    with SessionStore(args.db, create=False) as store:
        session = store.running_session()
        if session is None:
            raise EngageError("no session is running; start one with `engage live`")
        offset = (now() - session.started_at).total_seconds()
        store.add_marker(session.id, args.text, offset, now())
    info(f"marker '{args.text}' added to session {session.id} at {format_duration(offset)}")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    with SessionStore(args.db, create=False) as store:
        session = store.resolve(args.session)
        store.rename(session.id, args.name)
    info(f"session {session.id} renamed to '{args.name}'")
    return 0


def _confirm_delete(sessions: list[SessionInfo], yes: bool) -> bool:
    if yes:
        return True
    names = ", ".join(f"{s.id} ({s.name})" for s in sessions)
    if not sys.stdin.isatty():
        raise EngageError(f"refusing to delete {names} without --yes (no terminal to confirm)")
    return input(f"delete {names}? [y/N] ").strip().lower() in ("y", "yes")


def cmd_delete(args: argparse.Namespace) -> int:
    with SessionStore(args.db, create=False) as store:
        session = store.resolve(args.session)
        if session.status == "running":
            raise EngageError(f"session {session.id} is running; stop it before deleting")
        if _confirm_delete([session], args.yes):
            store.delete([session.id])
            info(f"session {session.id} '{session.name}' deleted")
    return 0


def parse_age(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdw])\s*", text)
    if not match:
        raise EngageError(f"--older-than {text!r}: expected a number with h, d or w (e.g. 90d)")
    hours = float(match[1]) * {"h": 1, "d": 24, "w": 168}[match[2]]
    return timedelta(hours=hours)


def cmd_prune(args: argparse.Namespace) -> int:
    age = parse_age(args.older_than)
    with SessionStore(args.db, create=False) as store:
        old = store.older_than(age)
        if not old:
            info(f"no session older than {args.older_than}")
        elif _confirm_delete(old, args.yes):
            store.delete([s.id for s in old])
            info(f"deleted {len(old)} session(s) older than {args.older_than}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dashboards.app import serve

    serve(args.db, args.host, args.port)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training.options import run_train

    return run_train(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.options import run_evaluate

    return run_evaluate(args)


def cmd_combine(args: argparse.Namespace) -> int:
    from training.options import run_combine

    return run_combine(args)
