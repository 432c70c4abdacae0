"""A room's timetable: weekly lecture slots such as `mon,wed 09:00-10:30`, so a room box records exactly the
lectures it should and nothing in between (`engage room`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from monitor.errors import EngageError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLOT = re.compile(r"\s*([a-z,\s]+?)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class Slot:
    """One weekly lecture slot: days of the week (0 = Monday) and a start and end time of day."""

    days: tuple[int, ...]
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> Slot:
        match = _SLOT.fullmatch(str(text).lower())
        if not match:
            raise EngageError(f"lecture {text!r}: give days and times, e.g. 'mon,wed 09:00-10:30'")
        names = [d.strip() for d in match[1].split(",") if d.strip()]
        if not names or any(d not in DAYS for d in names):
            raise EngageError(f"lecture {text!r}: days are {', '.join(DAYS)}")
        try:
            start, end = time(int(match[2]), int(match[3])), time(int(match[4]), int(match[5]))
        except ValueError:
            raise EngageError(f"lecture {text!r}: times run from 00:00 to 23:59") from None
        if end <= start:
            raise EngageError(f"lecture {text!r}: it must end after it starts (on the same day)")
        return cls(tuple(sorted({DAYS.index(d) for d in names})), start, end)

    def __str__(self) -> str:
        return f"{','.join(DAYS[d] for d in self.days)} {self.start:%H:%M}-{self.end:%H:%M}"


def current_or_next(slots: tuple[Slot, ...], moment: datetime) -> tuple[datetime, datetime]:
    """The (start, end) of the slot running at `moment`, else of the next one to start (within a week)."""
    candidates = []
    for days_ahead in range(8):
        day = (moment + timedelta(days=days_ahead)).date()
        for slot in slots:
            if day.weekday() in slot.days:
                start = datetime.combine(day, slot.start, moment.tzinfo)
                end = datetime.combine(day, slot.end, moment.tzinfo)
                if end > moment:
                    candidates.append((start, end))
    if not candidates:
        raise EngageError("the timetable has no lecture: give at least one, e.g. --lecture 'mon 09:00-10:30'")
    return min(candidates)
