"""Session CSV export: the stable, documented schema read by spreadsheets, pandas and the dashboard."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from monitor.console import format_duration
from monitor.core import local_time
from monitor.errors import EngageError
from monitor.store import SessionInfo, SessionReader
from monitor.store.sql import SQLITE_HEADER
from monitor.tables import INTERVAL_COLUMNS, interval_table

CSV_COLUMNS = (
    "session_id",
    "session_name",
    "room",
    "interval",
    "start_time",
    *(c for c in INTERVAL_COLUMNS[2:] if c not in ("below_min_faces", "attention")),
    "markers",
    "below_min_faces",  # appended after the stable columns of earlier versions, in the order they came
    "lecture_time",
    "attention",
)


def session_table(store: SessionReader, session: SessionInfo) -> pd.DataFrame:
    """One row per interval in the CSV schema; markers that fall in an interval are joined with '; '."""
    markers = store.markers(session.id)
    table = interval_table(store.intervals(session.id)).rename(columns={"start_wall": "start_time"})
    table["start_time"] = table["start_time"].map(lambda t: local_time(t).isoformat(timespec="seconds"))
    table.insert(0, "room", session.room)
    table.insert(0, "session_name", session.name)
    table.insert(0, "session_id", session.id)
    starts = table["offset_s"].tolist()
    ends = [*starts[1:], float("inf")][: len(starts)]  # the last interval also takes markers after its end
    table["markers"] = [
        "; ".join(m.text for m in markers if start <= m.offset_s < end) for start, end in zip(starts, ends, strict=True)
    ]
    table["lecture_time"] = table["offset_s"].map(format_duration)  # m:ss, h:mm:ss from the first hour
    return table[list(CSV_COLUMNS)]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with `'` (OWASP's advice for CSV)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_text(table: pd.DataFrame, excel: bool = False) -> str:
    """The CSV: a header row, 4 decimals, missing values as empty cells, text that would start a formula
    neutralised. `excel`: times as local `YYYY-MM-DD HH:MM:SS`, which spreadsheets read as dates."""
    if excel and "start_time" in table:
        table = table.assign(start_time=table["start_time"].map(lambda t: t[:19].replace("T", " ")))
    text_columns = [name for name in table.columns if not pd.api.types.is_numeric_dtype(table[name])]
    safe = table.assign(**{name: table[name].map(spreadsheet_safe) for name in text_columns})
    return safe.to_csv(index=False, float_format="%.4f", lineterminator="\n")


STDOUT = Path("-")


def write_csv(
    table: pd.DataFrame, path: Path, *, force: bool = False, protected: Sequence[Path] = (), excel: bool = False
) -> Path:
    """Write `csv_text(table)` as UTF-8 to `path` (`-`: standard output), all or nothing: through a temporary
    file renamed into place. Never onto a database (any SQLite file, or a `protected` store and its journals);
    an existing file only with `force`. `excel`: with a byte-order mark and spreadsheet dates."""
    text = ("\ufeff" if excel else "") + csv_text(table, excel)
    if path == STDOUT:
        sys.stdout.write(text)
        return path
    _check_target(path, force, protected)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", newline="", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as temporary:
            try:
                temporary.write(text)
                temporary.flush()
                os.fsync(temporary.fileno())
            except OSError:
                os.unlink(temporary.name)
                raise
        os.replace(temporary.name, path)
    except OSError as exc:
        raise EngageError(f"cannot write {path}: {exc.strerror or exc}; nothing was written") from None
    return path


def _check_target(path: Path, force: bool, protected: Sequence[Path]) -> None:
    target = path.resolve()
    for store in protected:
        store = store.resolve()
        if target in (store, *(store.with_name(store.name + suffix) for suffix in ("-wal", "-shm", "-journal"))):
            raise EngageError(f"-o {path}: that is the session database in use; choose another file name")
    if target.is_dir():
        raise EngageError(f"-o {path}: is a folder; give a file name")
    if not target.exists():
        return
    try:
        with target.open("rb") as existing:
            is_database = existing.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError as exc:
        raise EngageError(f"-o {path}: cannot be read ({exc.strerror}); choose another file name") from None
    if is_database:
        raise EngageError(f"-o {path}: is a SQLite database, never overwritten by an export; choose another file name")
    if not force:
        raise EngageError(f"-o {path}: exists; add --force to replace it")


def safe_name(text: str) -> str:
    """`text` fit for a file name on every system."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text).strip("_") or "session"


def default_csv_name(session: SessionInfo) -> Path:
    return Path(f"session-{session.id}-{safe_name(session.name)}.csv")


def all_csv_name(room: str | None) -> Path:
    return Path(f"engage-sessions-{safe_name(room)}.csv" if room else "engage-sessions.csv")


def read_csv(path: Path) -> pd.DataFrame:
    """Read an exported CSV back with proper types (timestamps with time zone, empty cells as NaN)."""
    table = pd.read_csv(path, keep_default_na=False, na_values=[""])
    table["start_time"] = pd.to_datetime(table["start_time"], format="ISO8601")
    table["markers"] = table["markers"].fillna("").astype(str)
    return table
