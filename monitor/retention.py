"""Retention that enforces itself: the store keeps its policy, and every start of `live`, `analyze`, `sync` and
`dashboard` deletes the finished sessions older than it (never a running one, of any room)."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

from monitor.errors import EngageError

if TYPE_CHECKING:
    from monitor.store import SessionInfo, SqlStore

AGE_UNITS_H = {"h": 1, "d": 24, "w": 168, "y": 8766}  # a year of 365.25 days
MAX_AGE = timedelta(days=100 * 365.25)
POLICY = "retention"


def parse_age(text: str) -> timedelta:
    """`90d`, `12w`, `36h`, `1y`: at most 100 years."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdwy])\s*", str(text))
    if not match:
        raise EngageError(f"{text!r}: expected a number with h, d, w or y (e.g. 90d)")
    hours = float(match[1]) * AGE_UNITS_H[match[2]]
    if hours > MAX_AGE.total_seconds() / 3600:
        raise EngageError(f"{text!r}: at most 100 years (100y)")
    if hours <= 0:
        raise EngageError(f"{text!r}: give a period above 0")
    return timedelta(hours=hours)


def confirm(question: str, yes: bool) -> bool:
    """True with `yes`; else the answer of the person at the terminal; with no terminal an EngageError."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise EngageError(f"{question}: not done without --yes (no terminal to confirm); add --yes")
    return input(f"{question}? [y/N] ").strip().lower() in ("y", "yes")


def enforce(store: SqlStore, requested: str | None, *, yes: bool = False) -> list[SessionInfo]:
    """Store `requested` as the policy (one shorter than the stored one needs `yes` or a confirmation), then delete
    the finished sessions older than the policy in force. Returns what was deleted."""
    from monitor.console import info

    stored = store.policy(POLICY)
    if requested and requested != stored:
        shorter = stored is not None and parse_age(requested) < parse_age(stored)
        question = f"shorten the retention of {store.location} from {stored} to {requested}, deleting older sessions"
        if shorter and not confirm(question, yes):
            raise EngageError(f"retention stays {stored}; nothing was changed")
        store.set_policy(POLICY, requested)
        info(f"retention of {store.location}: {requested} (was {stored or 'none: keep until deleted'})")
        stored = requested
    if stored is None:
        return []
    old = store.older_than(parse_age(stored))
    if old:
        store.delete([s.id for s in old])
        names = ", ".join(f"{s.id} ({s.name}, {s.room}, {s.started_at:%Y-%m-%d})" for s in old)
        info(f"retention {stored}: deleted {len(old)} session(s) older than that: {names}")
    return old
