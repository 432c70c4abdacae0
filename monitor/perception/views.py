"""Test-time views of a face crop: the whole crop or its centre, each optionally mirrored.

A model card lists the views its model averages, as names: `full`, `mirror` (the whole crop mirrored),
`centre90` (the central 90% of the crop's height and width), `centre90-mirror`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from monitor.errors import EngageError

_NAME = re.compile(r"full|(?P<whole_mirror>mirror)|centre(?P<percent>[5-9]\d)(?P<mirror>-mirror)?")


@dataclass(frozen=True)
class View:
    """The central `share` of a crop's height and width, mirrored left-right or not."""

    share: float = 1.0
    mirror: bool = False

    @classmethod
    def parse(cls, name: str) -> View:
        match = _NAME.fullmatch(name)
        if not match:
            raise EngageError(f"unknown view {name!r}: use full, mirror, centreNN or centreNN-mirror (NN 50-99)")
        if not match["percent"]:
            return cls(mirror=bool(match["whole_mirror"]))
        return cls(int(match["percent"]) / 100, bool(match["mirror"]))

    def __str__(self) -> str:
        region = "full" if self.share == 1.0 else f"centre{round(self.share * 100)}"
        if region == "full" and self.mirror:
            return "mirror"
        return region + ("-mirror" if self.mirror else "")

    def of(self, crop: np.ndarray) -> np.ndarray:
        """This view of a crop (any number of channels), before resizing to the model's input."""
        height, width = crop.shape[:2]
        kept_h, kept_w = max(round(height * self.share), 1), max(round(width * self.share), 1)
        top, left = (height - kept_h) // 2, (width - kept_w) // 2
        view = crop[top : top + kept_h, left : left + kept_w]
        return view[:, ::-1] if self.mirror else view


def parse_views(names: list[str]) -> tuple[View, ...]:
    """Views from their names; at least one, none twice."""
    views = tuple(View.parse(name) for name in names)
    if not views or len(set(views)) != len(views):
        raise EngageError(f"views {names}: give at least one, none twice")
    return views
