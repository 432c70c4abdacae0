"""Head pose per face (yaw and pitch, degrees) from YuNet's five landmarks and box: a small ridge regression on
roll-levelled, scale-free landmark features, fitted by `python -m training.headpose` and bundled as
`models/headpose.json`. yaw > 0: the face turns toward the image's left; pitch > 0: chin up. Faces without
landmarks (the Haar detector) have no pose."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from monitor.errors import EngageError
from monitor.types import Box, Detection


def pose_features(landmarks: np.ndarray, box: Box) -> np.ndarray:
    """Features of one face: the five landmarks with the eyes levelled and scaled by the eye-to-mouth distance,
    the eye distance and the nose's offset, the landmarks relative to the box, its aspect; then every product of
    two (a second-degree polynomial)."""
    points = np.asarray(landmarks, np.float64).reshape(5, 2)
    right_eye, left_eye = points[0], points[1]
    eyes, mouth = (right_eye + left_eye) / 2, (points[3] + points[4]) / 2
    angle = np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    scale = np.linalg.norm(mouth - eyes) + 1e-6
    level = (points - eyes) @ turn.T / scale
    eye_distance = np.linalg.norm(left_eye - right_eye) / scale
    in_box = (points - [box.x, box.y]) / [max(box.w, 1), max(box.h, 1)]
    base = np.concatenate(
        [
            level.ravel(),
            [eye_distance, level[2, 0] / (eye_distance + 1e-6), level[2, 1]],
            in_box.ravel(),
            [box.w / max(box.h, 1)],
        ]
    )
    pairs = np.outer(base, base)[np.triu_indices(len(base))]
    return np.concatenate([[1.0], base, pairs])


def default_pose_path() -> Path:
    return Path(str(resources.files("monitor") / "models" / "headpose.json"))


@dataclass(frozen=True)
class HeadPoseModel:
    """The bundled regression: one weight vector each for yaw and pitch over `pose_features`."""

    yaw: np.ndarray
    pitch: np.ndarray
    card: dict

    @classmethod
    def load(cls, path: Path | None = None) -> HeadPoseModel:
        path = path or default_pose_path()
        try:
            card = json.loads(path.read_text())
            yaw, pitch = np.asarray(card["yaw_weights"], np.float64), np.asarray(card["pitch_weights"], np.float64)
        except (OSError, ValueError, KeyError) as exc:
            raise EngageError(f"head-pose model {path} cannot be read: {exc}") from None
        return cls(yaw, pitch, card)

    def estimate(self, face: Detection) -> tuple[float, float] | None:
        """(yaw, pitch) in degrees, or None for a face without landmarks."""
        if face.landmarks is None:
            return None
        features = pose_features(face.landmarks, face.box)
        return float(features @ self.yaw), float(features @ self.pitch)
