"""Session CSV export: the stable, documented schema read by spreadsheets, pandas and the dashboard."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from monitor.core import now
from monitor.errors import EngageError
from monitor.store import SessionInfo, SessionReader
from monitor.tables import INTERVAL_COLUMNS, interval_table

CSV_COLUMNS = ("session_id", "session_name", "room", "interval", "start_time", *INTERVAL_COLUMNS[2:], "markers")


def session_table(store: SessionReader, session: SessionInfo) -> pd.DataFrame:
    """One row per interval in the CSV schema; markers that fall in an interval are joined with '; '."""
    markers = store.markers(session.id)
    local = now().tzinfo
    table = interval_table(store.intervals(session.id)).rename(columns={"start_wall": "start_time"})
    table["start_time"] = table["start_time"].dt.tz_convert(local).map(lambda t: t.isoformat(timespec="seconds"))
    table.insert(0, "room", session.room)
    table.insert(0, "session_name", session.name)
    table.insert(0, "session_id", session.id)
    starts = table["offset_s"].tolist()
    ends = [*starts[1:], float("inf")][: len(starts)]  # the last interval also takes markers after its end
    table["markers"] = [
        "; ".join(m.text for m in markers if start <= m.offset_s < end) for start, end in zip(starts, ends, strict=True)
    ]
    return table[list(CSV_COLUMNS)]


def csv_text(table: pd.DataFrame) -> str:
    """The CSV: a header row, 4 decimals, missing values as empty cells."""
    return table.to_csv(index=False, float_format="%.4f", lineterminator="\n")


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """Write `csv_text(table)` as UTF-8."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(csv_text(table), encoding="utf-8")
    except OSError as exc:
        raise EngageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


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
