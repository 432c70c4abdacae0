"""What every layer shares: the expression classes, the engagement rule and the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command line imports this module; numpy stays out of `engage --help`
    import numpy as np

CLASSES: tuple[str, ...] = ("positive", "neutral", "negative")
CLASS_COLOURS = {"positive": "#27AE60", "neutral": "#5A96B4", "negative": "#E74C3C"}  # every view uses these
NEUTRAL_WEIGHT = 0.5


def engagement_index(probabilities: np.ndarray) -> np.ndarray:
    """Engagement in 0..1 per row of (positive, neutral, negative) probabilities: p_pos + 0.5 * p_neu."""
    return probabilities[..., 0] + NEUTRAL_WEIGHT * probabilities[..., 1]


def now() -> datetime:
    """The wall clock, time-zone aware in the machine's zone."""
    return datetime.now(UTC).astimezone()


def local_time(moment: datetime) -> datetime:
    """`moment` on this machine's clock, with the UTC offset its time zone's rules give *that* moment (a July
    lecture keeps summer time when it is shown in winter). Takes pandas Timestamps too."""
    return datetime.astimezone(moment)
