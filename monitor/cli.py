"""The `engage` command. Heavy modules are imported inside each command so `engage --help` stays light."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from monitor import __version__
from monitor.defaults import DB_ENV, DEFAULT_DB, OUTBOX_DB
from monitor.errors import EngageError

if TYPE_CHECKING:
    from monitor.store.location import StoreLocation

FPS_RANGE = (0.1, 30.0)
INTERVAL_RANGE = (1.0, 3600.0)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        from monitor.text import printable

        self.exit(2, f"{self.prog}: error: {printable(message)}\n")


def _bounded(kind: str, low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be a number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{kind} must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be 1-65535, got {text!r}")
    return int(text)


def _location(text: str) -> StoreLocation:
    from monitor.store.location import StoreLocation

    try:
        return StoreLocation.parse(text)
    except EngageError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--db ")) from None


def _add_db(parser: argparse.ArgumentParser, room: str = "filter") -> None:
    """--db, and --room: `filter` (default all rooms), `this` (default this machine's name) or `none`."""
    parser.add_argument(
        "--db",
        type=_location,
        default=os.environ.get(DB_ENV) or str(DEFAULT_DB),
        help=f"session store: a SQLite file or postgresql://user@host/db (default: ${DB_ENV} or {DEFAULT_DB})",
    )
    if room == "filter":
        parser.add_argument("--room", help="only this room's sessions (default: all rooms)")
    elif room == "this":
        parser.add_argument("--room", default=socket.gethostname(), help="room name (default: this machine's name)")


def _add_outbox(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--outbox",
        type=Path,
        default=OUTBOX_DB,
        help="with a central --db: local file of intervals not sent yet (default: %(default)s)",
    )


def _add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fps",
        type=_bounded("--fps", *FPS_RANGE),
        default=2.0,
        help="analyze at most this many frames per second (default: 2)",
    )
    parser.add_argument(
        "--interval",
        type=_bounded("--interval", *INTERVAL_RANGE),
        default=10.0,
        help="seconds per stored aggregate (default: 10)",
    )
    parser.add_argument(
        "--detect-period",
        type=_bounded("--detect-period", 0.0, 10.0),
        default=0.06,
        help="seconds of video time between face detections; frames in between reuse the faces' positions "
        "(default: 0.06, every second frame at 30 fps; 0: detect on every frame)",
    )
    parser.add_argument("--name", help="session name (default: source and date)")
    _add_model_options(parser)
    _add_db(parser, room="this")
    _add_outbox(parser)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="a .tflite model with its .json card (default: bundled)")
    parser.add_argument("--detector", default="yunet", help="face detector: yunet (default) or haar")
    parser.add_argument(
        "--face-score",
        type=_bounded("--face-score", 0.05, 0.99),
        default=0.6,
        help="yunet: smallest detection confidence counted as a face (default: 0.6)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="engage", description="Classroom engagement from facial expressions; stores aggregates only.")
    parser.add_argument("--version", action="version", version=f"engage {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    live = commands.add_parser("live", help="monitor a lecture from a webcam, video file or stream")
    live.add_argument("--source", default="0", help="camera index, video file or stream URL (default: 0)")
    live.add_argument("--no-preview", action="store_true", help="no preview window")
    _add_pipeline_options(live)

    analyze = commands.add_parser("analyze", help="analyze a recorded lecture video as fast as possible")
    analyze.add_argument("video", help="video file")
    _add_pipeline_options(analyze)

    demo = commands.add_parser("demo", help="analyze a generated sample lecture video (no webcam needed)")
    _add_db(demo, room="this")

    classify = commands.add_parser("classify", help="classify faces in images or folders of images")
    classify.add_argument("paths", nargs="+", type=Path, metavar="IMAGE_OR_FOLDER")
    classify.add_argument("--no-detect", action="store_true", help="treat each image as one face crop")
    classify.add_argument("--csv", type=Path, help="write the rows to this CSV instead of printing a table")
    classify.add_argument("--force", action="store_true", help="replace an existing --csv file (never a database)")
    _add_model_options(classify)

    sessions = commands.add_parser("sessions", help="list recorded sessions")
    _add_db(sessions)
    show = commands.add_parser("show", help="summary of one session")
    show.add_argument("session", help="session id or name prefix")
    _add_db(show)
    export = commands.add_parser("export", help="export sessions as CSV")
    export.add_argument("session", nargs="?", help="session id or name prefix")
    export.add_argument("-o", "--output", type=Path, help="output file, or - for standard output")
    export.add_argument("--all", action="store_true", help="export every session into one file with a session column")
    export.add_argument("--force", action="store_true", help="replace an existing file (never a database)")
    _add_db(export)
    mark = commands.add_parser("mark", help="add a time-stamped marker to the running session")
    mark.add_argument("text")
    mark.add_argument("--session", help="the running session's id or name, where the room runs more than one")
    _add_db(mark, room="this")
    rename = commands.add_parser("rename", help="rename a session")
    rename.add_argument("session")
    rename.add_argument("name")
    _add_db(rename)
    delete = commands.add_parser("delete", help="delete a session and its aggregates")
    delete.add_argument("session")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_db(delete)
    prune = commands.add_parser("prune", help="delete sessions older than a retention period")
    prune.add_argument("--older-than", required=True, help="age such as 90d, 12w or 36h")
    prune.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _add_db(prune)
    sync = commands.add_parser("sync", help="send a central store what the local outbox still holds")
    _add_db(sync, room="none")
    _add_outbox(sync)

    dashboard = commands.add_parser("dashboard", help="open the browser dashboard")
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: %(default)s, this machine; any other needs $ENGAGE_DASHBOARD_PASSWORD)",
    )
    dashboard.add_argument("--port", type=_port, default=8050)
    _add_db(dashboard, room="none")
    dashboard.add_argument(
        "--room",
        action="append",
        help="serve only this room's lectures; repeat for a group of rooms (default: every room)",
    )

    train = commands.add_parser("train", help="train the expression model (needs TensorFlow)")
    _add_training_options(train, "train")
    evaluate = commands.add_parser("evaluate", help="report a model's accuracy on PrivateTest")
    _add_training_options(evaluate, "evaluate")
    combine = commands.add_parser("combine", help="average trained runs into one model (needs TensorFlow)")
    _add_training_options(combine, "combine")
    return parser


def _add_training_options(parser: argparse.ArgumentParser, command: str) -> None:
    from training.options import add_options  # argparse only; TensorFlow is imported when the command runs

    add_options(parser, command)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")  # our own one-line errors say what went wrong
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from monitor import commands

    handler: Callable[[argparse.Namespace], int | None] = getattr(commands, f"cmd_{args.command}")
    try:
        return handler(args) or 0
    except EngageError as exc:
        from monitor.console import error_line

        print(error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("engage: stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
