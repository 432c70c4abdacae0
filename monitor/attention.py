"""Which faces are turned to the front of the room: head pose (monitor.perception.pose) inside a cone around the front.

A face observation faces the front when its yaw and pitch each lie within the cone's half-angles of the front
direction. The front is the camera (yaw 0, pitch 0) unless the room says `auto`: then it is the median direction
of the faces seen so far in the lecture, for a camera mounted to one side of the board. The share of observations
facing the front is the room's attention; it never says where one student looked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from monitor.errors import EngageError

Pose = tuple[float, float]  # (yaw, pitch) in degrees


@dataclass(frozen=True)
class FacingCone:
    """Half-angles in degrees: how far a head may turn sideways (yaw) and up or down (pitch) and still face front."""

    yaw_deg: float = 30.0
    pitch_deg: float = 25.0

    def __str__(self) -> str:
        return f"{self.yaw_deg:g},{self.pitch_deg:g}"

    @classmethod
    def parse(cls, text: str) -> FacingCone:
        """'YAW,PITCH' half-angles such as '30,25', each 1-90 degrees."""
        try:
            yaw, pitch = (float(part) for part in text.split(","))
        except ValueError:
            raise EngageError(f"must be two half-angles in degrees such as 30,25, got {text!r}") from None
        if not (1 <= yaw <= 90 and 1 <= pitch <= 90):
            raise EngageError(f"half-angles must be 1-90 degrees, got {text!r}")
        return cls(yaw, pitch)


class FrontDirection:
    """The room's front: the camera, or with `auto` the running median pose of the faces seen so far."""

    def __init__(self, auto: bool = False, memory: int = 5000) -> None:
        self.auto = auto
        self._seen: deque[Pose] = deque(maxlen=memory)  # the most recent observations (a long lecture drifts)

    def update(self, poses: list[Pose]) -> Pose:
        """Take this frame's poses into account and return the front to judge them against."""
        if not self.auto:
            return (0.0, 0.0)
        self._seen.extend(poses)
        if not self._seen:
            return (0.0, 0.0)
        import numpy as np  # here, not at the top: the settings table (and `engage --help`) imports this module

        yaw, pitch = np.median(np.asarray(self._seen), axis=0)
        return float(yaw), float(pitch)


def facing_front(poses: list[Pose | None], cone: FacingCone, front: FrontDirection) -> list[bool | None]:
    """Per face: whether it faces the front; None for a face without a pose (a Haar face has no landmarks)."""
    known = [pose for pose in poses if pose is not None]
    yaw0, pitch0 = front.update(known)
    return [
        None if pose is None else abs(pose[0] - yaw0) <= cone.yaw_deg and abs(pose[1] - pitch0) <= cone.pitch_deg
        for pose in poses
    ]
