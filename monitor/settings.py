"""A room's settings: one table from which the command-line flags, the `$ENGAGE_*` variables and the room config
file (`engage.toml`) are read, checked and documented alike.

Precedence: flag > environment > file > default. The file is `--config FILE`, else `$ENGAGE_CONFIG`, else
`./engage.toml` when it exists. Keys are the setting names below; an unknown key or a value of the wrong type is
one line naming the key and the file.
"""

from __future__ import annotations

import argparse
import os
import socket
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.attention import FacingCone
from monitor.consent import MIN_FACES_DEFAULT, Zone
from monitor.defaults import default_db, default_outbox
from monitor.errors import EngageError

CONFIG_ENV = "ENGAGE_CONFIG"
CONFIG_FILE = Path("engage.toml")
RECORDING = ("live", "analyze", "room")


def _number(low: float, high: float, kind: type = float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise EngageError(f"must be {what}, got {text!r}") from None
        if not low <= value <= high:
            raise EngageError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


def _location(text: str) -> Any:
    from monitor.store.location import StoreLocation  # SQLAlchemy: loaded only when a command runs

    try:
        return StoreLocation.parse(text)
    except EngageError as exc:
        raise EngageError(str(exc).removeprefix(f"--db {text}: ")) from None


def _zone(text: str) -> Zone:
    try:
        return Zone.parse(text)
    except EngageError as exc:
        raise EngageError(str(exc).split(": ", 1)[1] + f" (got {text!r})") from None


def _slot(text: str) -> Any:
    from monitor.timetable import Slot

    try:
        return Slot.parse(text)
    except EngageError as exc:
        raise EngageError(str(exc).removeprefix("lecture ")) from None


def _front(text: str) -> str:
    if text.strip().lower() not in ("camera", "auto"):
        raise EngageError(f"must be camera or auto, got {text!r}")
    return text.strip().lower()


def _switch(text: str) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise EngageError(f"must be true or false, got {text!r}")


def _views(text: str) -> str:
    if text.strip().lower() not in ("rotate", "all"):
        raise EngageError(f"must be rotate or all, got {text!r}")
    return text.strip().lower()


def _cluster(text: str) -> str:
    address = text.strip()
    if not address or " " in address:
        raise EngageError(f"must be a scheduler address such as tcp://HOST:8786, got {text!r}")
    return address if "://" in address else f"tcp://{address}"


def _search_period_default() -> float:
    from monitor.perception.follow import FollowSettings  # OpenCV: loaded only when a command runs

    return FollowSettings.search_period_s


def _retention(text: str) -> str:
    from monitor.retention import parse_age

    parse_age(text)
    return text.strip()


@dataclass(frozen=True)
class Setting:
    """One setting: its key (in the file, and the command's attribute), help, default, parser and commands."""

    key: str
    help: str
    default: Any
    parse: Callable[[str], Any] = str
    commands: tuple[str, ...] = RECORDING
    flag: str = ""  # default: --key with dashes
    repeat: bool = False  # a list: the flag repeats, the file takes a list, the variable separates with ';'

    @property
    def option(self) -> str:
        return self.flag or "--" + self.key.replace("_", "-")

    @property
    def env(self) -> str:
        return "ENGAGE_" + self.key.upper()

    def initial(self) -> Any:
        return self.default() if callable(self.default) else self.default


SETTINGS = (
    Setting(
        "db",
        "session store: a SQLite file or postgresql://user@host/db (default: engage.db in your user data folder; "
        "`engage config` shows where)",
        lambda: str(default_db()),
        _location,
        (
            *RECORDING,
            "demo",
            "sessions",
            "show",
            "export",
            "mark",
            "rename",
            "delete",
            "prune",
            "sync",
            "dashboard",
            "grant",
        ),
    ),
    Setting(
        "outbox",
        "with a central --db: local file of intervals not sent yet (default: outbox.db beside the default store)",
        default_outbox,
        Path,
        (*RECORDING, "sync"),
    ),
    Setting("room", "room name (default: this machine's name)", socket.gethostname, str, (*RECORDING, "demo", "mark")),
    Setting("source", "camera index, video file or stream URL (default: 0)", "0", str, ("live", "room", "zones")),
    Setting("preview", "no preview window", True, _switch, ("live", "room"), flag="--no-preview"),
    Setting(
        "presenter",
        "also open the presenter view (the running lecture in large type, for the lectern or a second screen) in a "
        "browser; without a display, print its address",
        False,
        _switch,
        ("live", "room"),
    ),
    Setting("name", "session name (default: source and date)", None),
    Setting("fps", "analyze at most this many frames per second (default: 2)", 2.0, _number(0.1, 30.0)),
    Setting("interval", "seconds per stored aggregate (default: 10)", 10.0, _number(1.0, 3600.0)),
    Setting(
        "detect_period",
        "seconds of video time between face detections; frames in between reuse the faces' positions "
        "(default: 0.06, every second frame at 30 fps; 0: detect on every frame)",
        0.06,
        _number(0.0, 10.0),
    ),
    Setting(
        "search_period",
        "seconds of video time between searches of the whole frame for faces; on the frames in between each face "
        "is followed in a small crop around it; motion away from known faces or a cut searches at once (default: 8; "
        "0: search every analyzed frame)",
        _search_period_default,
        _number(0.0, 600.0),
    ),
    Setting(
        "views",
        "rotate (default): each face is classified in one of the model card's test-time views per analyzed frame, "
        "in turn, and its track averages them (a third of the cost with three views); all: every view on every "
        "frame",
        "rotate",
        _views,
    ),
    Setting(
        "cluster",
        "analyze on a Dask cluster: its scheduler's address (tcp://HOST:8786); each recording is one task, every "
        "worker writes to the central --db and must read the recordings at the same path (default: this machine)",
        None,
        _cluster,
        ("analyze",),
    ),
    Setting("model", "an .onnx model with its .json card (default: bundled)", None, Path, (*RECORDING, "classify")),
    Setting("detector", "face detector: yunet (default) or haar", "yunet", str, (*RECORDING, "classify")),
    Setting(
        "face_score",
        "yunet: smallest detection confidence counted as a face (default: 0.6)",
        0.6,
        _number(0.05, 0.99),
        (*RECORDING, "classify"),
    ),
    Setting(
        "exclude_zones",
        "X,Y,W,H: faces whose centre lies in this part of the frame (fractions 0-1 of its width and height) are "
        "never analyzed; repeatable (default: none)",
        (),
        _zone,
        (*RECORDING, "demo"),
        flag="--exclude-zone",
        repeat=True,
    ),
    Setting(
        "min_faces",
        f"a frame's expressions count only with at least this many faces in view, so no stored figure singles "
        f"out a student (default: {MIN_FACES_DEFAULT})",
        MIN_FACES_DEFAULT,
        _number(1, 1000, int),
        (*RECORDING, "demo"),
    ),
    Setting(
        "facing",
        "YAW,PITCH: half-angles in degrees of the cone around the front within which a face counts as turned to it, "
        "for the stored attention (default: 30,25)",
        FacingCone(),
        FacingCone.parse,
        (*RECORDING, "demo"),
    ),
    Setting(
        "front",
        "where the room's front is: camera (default), or auto: the median direction of the faces seen so far, for a "
        "camera mounted to one side of the board",
        "camera",
        _front,
        (*RECORDING, "demo"),
    ),
    Setting(
        "lectures",
        "a weekly lecture slot, e.g. 'mon,wed 09:00-10:30'; repeatable: `engage room` records exactly these",
        (),
        _slot,
        ("room",),
        flag="--lecture",
        repeat=True,
    ),
    Setting(
        "retention",
        "keep sessions this long (90d, 12w, 1y); stored in the store, which deletes older finished sessions at "
        "every start of live, analyze, sync and dashboard (default: keep until deleted)",
        None,
        _retention,
        (*RECORDING, "demo", "sync", "dashboard"),
    ),
)
BY_KEY = {s.key: s for s in SETTINGS}


def add_settings(parser: argparse.ArgumentParser, command: str) -> None:
    """The flags of `command`'s settings, and `--config`. Their argparse defaults are None: `resolve` fills in
    the environment, the file and the defaults."""
    for setting in settings_of(command):
        if setting.parse is _switch:  # the flag turns the default over: --no-preview, --presenter
            const = not setting.initial()
            parser.add_argument(setting.option, dest=setting.key, action="store_const", const=const, help=setting.help)
            continue
        parser.add_argument(
            setting.option,
            dest=setting.key,
            type=_for_argparse(setting),
            action="append" if setting.repeat else "store",
            help=setting.help,
        )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"room config file (default: ${CONFIG_ENV}, else ./{CONFIG_FILE} when it exists)",
    )


def settings_of(command: str) -> list[Setting]:
    """The settings `command` takes; `config` shows them all."""
    return [s for s in SETTINGS if command == "config" or command in s.commands]


def _for_argparse(setting: Setting) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return setting.parse(text)
        except EngageError as exc:
            raise argparse.ArgumentTypeError(f"{setting.option} {exc}") from None

    return parse


@dataclass(frozen=True)
class RoomConfig:
    """The room config file's settings, checked against the table."""

    path: Path | None
    values: dict[str, Any]

    @classmethod
    def find(cls, given: Path | None) -> RoomConfig:
        """`--config`, else `$ENGAGE_CONFIG`, else ./engage.toml if present; none at all is an empty config."""
        path = given or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
        if path is None:
            return cls.read(CONFIG_FILE) if CONFIG_FILE.is_file() else cls(None, {})
        return cls.read(path)

    @classmethod
    def read(cls, path: Path) -> RoomConfig:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise EngageError(f"room config {path} not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise EngageError(f"room config {path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise EngageError(f"room config {path} is not valid TOML: {exc}") from None
        values = {}
        for key, value in raw.items():
            setting = BY_KEY.get(key)
            if setting is None:
                raise EngageError(f"{path}: unknown key {key!r}; known: {', '.join(BY_KEY)}")
            values[key] = _from_file(setting, value, path)
        return cls(path, values)


def config_target(given: Path | None) -> Path:
    """The room config file a command writes to: `--config`, else `$ENGAGE_CONFIG`, else ./engage.toml."""
    return given or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else CONFIG_FILE)


def write_zones(path: Path, zones: Iterable[Zone]) -> None:
    """Set `exclude_zones` in the room config at `path`, keeping every other line; the result is read back and
    checked before it replaces the file."""
    import re

    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    kept = re.sub(r"(?ms)^exclude_zones\s*=\s*\[.*?\]\s*$\n?", "", old).rstrip("\n")
    line = "exclude_zones = [" + ", ".join(f'"{zone}"' for zone in zones) + "]  # X,Y,W,H fractions of the frame"
    text = (kept + "\n" if kept else "") + line + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        RoomConfig.read(temporary)
        temporary.replace(path)
    except OSError as exc:
        raise EngageError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)


def _from_file(setting: Setting, value: Any, path: Path) -> Any:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not setting.repeat:
        raise EngageError(f"{path}: {setting.key}: takes one value, got a list")
    parsed = []
    for item in items:
        if isinstance(item, dict | list):
            raise EngageError(f"{path}: {setting.key}: expected a value, got {type(item).__name__}")
        if isinstance(item, bool) != (setting.parse is _switch):
            expected = "true or false" if setting.parse is _switch else "a value, not true/false"
            raise EngageError(f"{path}: {setting.key}: must be {expected}, got {item!r}")
        try:
            parsed.append(setting.parse(str(item).lower() if isinstance(item, bool) else str(item)))
        except EngageError as exc:
            raise EngageError(f"{path}: {setting.key}: {exc}") from None
    return tuple(parsed) if setting.repeat else parsed[0]


def _from_env(setting: Setting, text: str) -> Any:
    try:
        if setting.repeat:
            return tuple(setting.parse(part) for part in text.split(";") if part.strip())
        return setting.parse(text)
    except EngageError as exc:
        raise EngageError(f"${setting.env}: {exc}") from None


def resolve(args: argparse.Namespace, command: str) -> dict[str, str]:
    """Fill `args` with each setting of `command` from flag, environment, file or default; returns where each
    value came from ("flag", "$ENGAGE_X", the file's path, "default")."""
    config = RoomConfig.find(getattr(args, "config", None))
    sources = {}
    for setting in settings_of(command):
        given = getattr(args, setting.key, None)
        if given is not None:
            value, source = (tuple(given) if setting.repeat else given), "flag"
        elif os.environ.get(setting.env):
            value, source = _from_env(setting, os.environ[setting.env]), f"${setting.env}"
        elif setting.key in config.values:
            value, source = config.values[setting.key], str(config.path)
        else:
            value, source = setting.initial(), "default"
            if setting.key == "db":
                value = _location(value)
        setattr(args, setting.key, value)
        sources[setting.key] = source
    return sources


def shown_value(value: Any) -> str:
    """A setting's value as the config file would write it (passwords masked by the location's own text)."""
    if isinstance(value, tuple):
        return "[" + ", ".join(f'"{v}"' for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "(none)"
    return f'"{value}"' if isinstance(value, str | Path) or hasattr(value, "url") else str(value)


def describe(args: argparse.Namespace, sources: dict[str, str], keys: Iterable[str]) -> list[str]:
    """`key = value   # source` lines for `engage config`."""
    from monitor.text import printable

    return [f"{key} = {printable(shown_value(getattr(args, key)))}   # {sources[key]}" for key in keys]
