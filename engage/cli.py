"""The `engage` command. Heavy modules are imported inside each command so `engage --help` stays light."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from monitor import __version__
from monitor.errors import EngageError
from monitor.settings import add_settings, resolve


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from monitor.text import printable

        self.exit(2, f"{self.prog}: error: {printable(message)}\n")


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be 1-65535, got {text!r}")
    return int(text)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--started-at must be ISO 8601 such as 2026-12-02T09:00, got {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()  # a time without zone is this machine's local time


def _clock_time(text: str) -> datetime:
    """HH:MM today (this machine's time); a time already past is an error."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        moment = datetime.now().astimezone().replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--until must be a time of day HH:MM, got {text!r}") from None
    if moment <= datetime.now().astimezone():
        raise argparse.ArgumentTypeError(f"--until {text}: that time has passed today")
    return moment


def _jobs(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"--jobs must be a whole number from 1 to 64, got {text!r}")
    return int(text)


def _room_filter(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--room", help="only this room's sessions (default: all rooms)")


def _command(
    commands: argparse._SubParsersAction, name: str, help: str, *, room_filter: bool = False
) -> argparse.ArgumentParser:
    """A sub-command with the flags of its settings (monitor.settings) and, for the session commands, --room."""
    parser = commands.add_parser(name, help=help)
    add_settings(parser, name)
    if room_filter:
        _room_filter(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="engage", description="Classroom engagement from facial expressions; stores aggregates only.")
    parser.add_argument("--version", action="version", version=f"engage {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    confirmable = "do not ask before a shorter --retention deletes sessions"

    live = _command(commands, "live", "monitor a lecture from a webcam, video file or stream")
    live.add_argument("--until", type=_clock_time, help="end the session at this time of day, HH:MM")
    live.add_argument("--yes", action="store_true", help=confirmable)
    room = _command(commands, "room", "a room box's service: record each lecture of the timetable (--lecture)")
    room.add_argument("--yes", action="store_true", help=confirmable)
    analyze = _command(commands, "analyze", "analyze a recorded lecture video as fast as possible")
    analyze.add_argument(
        "videos", nargs="+", metavar="VIDEO", help="video files, or folders of them (one session each)"
    )
    analyze.add_argument(
        "--jobs",
        type=_jobs,
        default=min(os.cpu_count() or 1, 64),
        help="recordings analyzed at once (default: one per CPU core; ONNX Runtime's threads are shared among them)",
    )
    analyze.add_argument(
        "--started-at",
        type=_moment,
        help="when the lecture was taught, ISO 8601 such as 2026-12-02T09:00 (default: the recording's own creation "
        "time in MP4, MOV, M4V and 3GP files, else now)",
    )
    analyze.add_argument("--yes", action="store_true", help=confirmable)
    demo = _command(commands, "demo", "analyze a generated sample lecture video (no webcam needed)")
    demo.add_argument("--yes", action="store_true", help=confirmable)

    classify = _command(commands, "classify", "classify faces in images or folders of images")
    classify.add_argument("paths", nargs="+", type=Path, metavar="IMAGE_OR_FOLDER")
    classify.add_argument("--no-detect", action="store_true", help="treat each image as one face crop")
    classify.add_argument("--csv", type=Path, help="write the rows to this CSV instead of printing a table")
    classify.add_argument("--force", action="store_true", help="replace an existing --csv file (never a database)")

    _command(commands, "sessions", "list recorded sessions and the retention policy in force", room_filter=True)
    show = _command(commands, "show", "summary of one session", room_filter=True)
    show.add_argument("session", nargs="?", help="session id, name prefix or latest (default: latest)")
    export = _command(commands, "export", "export sessions as CSV", room_filter=True)
    export.add_argument("session", nargs="?", help="session id, name prefix or latest (default: latest)")
    export.add_argument("-o", "--output", type=Path, help="output file, or - for standard output")
    export.add_argument("--all", action="store_true", help="export every session into one file with a session column")
    export.add_argument("--force", action="store_true", help="replace an existing file (never a database)")
    export.add_argument(
        "--excel",
        action="store_true",
        help="for spreadsheets: a byte-order mark (names keep their accents) and local times without the offset",
    )
    mark = _command(commands, "mark", "add a time-stamped marker to the running session")
    mark.add_argument("text")
    mark.add_argument("--session", help="the running session's id or name, where the room runs more than one")
    rename = _command(commands, "rename", "rename a session", room_filter=True)
    rename.add_argument("session")
    rename.add_argument("name")
    delete = _command(commands, "delete", "delete a session and its aggregates", room_filter=True)
    delete.add_argument("session")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    prune = _command(commands, "prune", "delete sessions older than a retention period", room_filter=True)
    prune.add_argument("--older-than", required=True, help="age such as 90d, 12w, 36h or 1y")
    prune.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    sync = _command(commands, "sync", "send a central store what the local outbox still holds")
    sync.add_argument("--yes", action="store_true", help=confirmable)
    _command(commands, "config", "print the effective settings and where each comes from")
    grant = _command(commands, "grant", "central PostgreSQL: give the room boxes' and the staff's roles their rights")
    grant.add_argument("--recorder", help="role of the room boxes: adds sessions, intervals, markers; never deletes")
    grant.add_argument("--staff", help="role of the staff dashboards: reads, renames, prunes")
    _command(commands, "zones", "draw opt-out zones on the camera picture; writes them to the room config")

    dashboard = _command(commands, "dashboard", "open the browser dashboard")
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: %(default)s, this machine; any other needs $ENGAGE_DASHBOARD_PASSWORD)",
    )
    dashboard.add_argument("--port", type=_port, default=8050)
    dashboard.add_argument(
        "--room",
        action="append",
        help="serve only this room's lectures; repeat for a group of rooms (default: every room)",
    )
    dashboard.add_argument("--yes", action="store_true", help=confirmable)

    train = commands.add_parser("train", help="train the expression model (needs TensorFlow)")
    _add_training_options(train, "train")
    evaluate = commands.add_parser("evaluate", help="report a model's accuracy on PrivateTest")
    _add_training_options(evaluate, "evaluate")
    select = commands.add_parser(
        "select", help="judge a trained model against the bundled one by the written selection rule (PublicTest)"
    )
    _add_training_options(select, "select")
    combine = commands.add_parser("combine", help="average trained runs or exported models into one model")
    _add_training_options(combine, "combine")
    convert = commands.add_parser(
        "convert", help="turn a .tflite model of an earlier release into .onnx (needs TensorFlow)"
    )
    _add_training_options(convert, "convert")
    return parser


def _add_training_options(parser: argparse.ArgumentParser, command: str) -> None:
    from training.options import add_options  # argparse only; TensorFlow is imported when the command runs

    add_options(parser, command)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")  # our own one-line errors say what went wrong
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from engage import commands

    handler: Callable[[argparse.Namespace], int | None] = getattr(commands, f"cmd_{args.command}")
    try:
        args.sources = resolve(args, args.command)
        return handler(args) or 0
    except EngageError as exc:
        from monitor.console import error_line

        print(error_line(f"{exc}{_hint(exc, args)}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("engage: stopped", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `engage show | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _hint(error: EngageError, args: argparse.Namespace) -> str:
    """What to do next, where the error alone does not say: a reading command while the central store is down
    can read what this machine recorded but has not sent yet."""
    if args.command not in ("sessions", "show", "export"):
        return ""
    from monitor.defaults import default_outbox
    from monitor.store import StoreUnavailable

    outbox = default_outbox()
    if isinstance(error, StoreUnavailable) and outbox.is_file():
        return f"; what this machine recorded and has not sent yet can be read with --db {outbox}"
    return ""


if __name__ == "__main__":
    sys.exit(main())
