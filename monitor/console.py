"""Terminal output: the live status line, the analyze progress bar, and messages."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from monitor.text import printable

console = Console(stderr=True, highlight=False)  # messages, status and progress
output = Console(highlight=False, width=120)  # tables: the command's result, on stdout

PRIVACY_NOTICE = (
    "Privacy: faces are analyzed in memory only; no frame, face crop or identity is stored - "
    "only per-interval aggregates."
)


def warn(message: str) -> None:
    console.print(f"[yellow]warning:[/] {escape(printable(message))}", soft_wrap=True)


def info(message: str) -> None:
    console.print(escape(printable(message)), soft_wrap=True)


def error_line(message: object) -> str:
    """The one line `engage` prints for an error."""
    return f"engage: error: {printable(message)}"


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def shown(value: float | None, pattern: str = "{:.2f}") -> str:
    """A figure for display; '-' where it is missing (None or NaN, never 0)."""
    return "-" if value is None or value != value else pattern.format(value)


def status_text(
    elapsed_s: float, fps: float, faces: int, engagement: float | None, connected: bool = True, store: str = ""
) -> str:
    """The live status line; `store` is what the central-store sender has to say (empty: all sent)."""
    state = "" if connected else "  [camera lost, reconnecting]"
    sending = f"  [{store}]" if store else ""
    return (
        f"{format_duration(elapsed_s)}  analyzed {fps:4.1f} fps  faces {faces:2d}  "
        f"engagement {shown(engagement)}{state}{sending}"
    )


class StatusLine(AbstractContextManager["StatusLine"]):
    """A single refreshing line on a terminal; plain lines (one per update call with `force`) otherwise."""

    def __init__(self) -> None:
        self._live = (
            Live(Text(""), console=console, refresh_per_second=4, transient=True) if console.is_terminal else None
        )

    def __enter__(self) -> StatusLine:
        if self._live:
            self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._live:
            self._live.__exit__(kind, exc, tb)

    def update(self, text: str, force: bool = False) -> None:
        if self._live:
            self._live.update(Text(text))
        elif force:
            print(text, file=sys.stderr, flush=True)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]analyzing[/]"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%  {task.fields[detail]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Silence what native libraries (FFmpeg, LiteRT) print to stderr; our own errors say what went wrong."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
