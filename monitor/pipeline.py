"""The one pipeline used by `live` and `analyze`: detect -> classify -> track -> aggregate -> store."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from monitor import __version__
from monitor.aggregate import IntervalAggregator
from monitor.attention import FacingCone, FrontDirection, facing_front
from monitor.consent import MIN_FACES_DEFAULT, Zone
from monitor.core import now
from monitor.errors import EngageError
from monitor.perception.align import face_crop
from monitor.perception.detect import FaceDetector
from monitor.perception.follow import FaceFollower, FollowSettings
from monitor.perception.model import ExpressionClassifier
from monitor.perception.pose import HeadPoseModel
from monitor.source import valid_frame
from monitor.store import HEARTBEAT_S, Marker, SessionWriter
from monitor.store.writebehind import WriteBehind
from monitor.track import IoUTracker
from monitor.types import Detection, FrameResult, Heading, IntervalAggregate

FINISH_WAIT_S = 60.0  # at the end, how long a busy store is waited for before the held intervals are given up


@dataclass(frozen=True)
class Recording:
    """Who records what: the session's name, its source and the room and machine it runs in."""

    name: str
    source: str
    room: str
    host: str
    uid: str | None = None  # the same for every analysis of the same recording with the same settings


@dataclass(frozen=True)
class PipelineSettings:
    fps: float = 2.0
    interval_s: float = 10.0
    detect_period_s: float = 0.06  # detect at most this often; frames in between reuse the faces last found
    search_period_s: float = FollowSettings.search_period_s  # search the whole frame at most this often
    rotate_views: bool = True  # one of the card's views per face and frame, in turn (False: all of them each frame)
    exclude_zones: tuple[Zone, ...] = ()  # faces whose centre lies here are dropped right after detection
    min_faces: int = MIN_FACES_DEFAULT  # a frame's expressions count only with at least this many faces
    facing: FacingCone = field(default_factory=FacingCone)  # within it a face counts as turned to the front
    front_auto: bool = False  # the front is the faces' median direction so far, not the camera

    def settings_dict(self, detector: FaceDetector, classifier: ExpressionClassifier) -> dict[str, object]:
        return {
            "fps": self.fps,
            "interval_s": self.interval_s,
            "detect_period_s": self.detect_period_s,
            "search_period_s": self.search_period_s,
            "views": "rotate" if self.rotate_views else "all",
            "exclude_zones": [str(zone) for zone in self.exclude_zones],
            "min_faces": self.min_faces,
            "facing_deg": [self.facing.yaw_deg, self.facing.pitch_deg],
            "front": "auto" if self.front_auto else "camera",
            "detector": detector.name,
            "model_version": classifier.version,
            "engage_version": __version__,
        }


class Pipeline:
    """Turns frames of one session into interval aggregates, committing each interval as it closes.

    Only the session's creation waits for the store; every later write goes through `self.writer`, which
    never blocks the frames and holds what a busy store refuses until it takes it (`WriteBehind`)."""

    def __init__(
        self,
        detector: FaceDetector,
        classifier: ExpressionClassifier,
        store: SessionWriter,
        settings: PipelineSettings,
        recording: Recording,
        *,
        start_wall: datetime | None = None,
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self.store = store
        self.settings = settings
        self.tracker = IoUTracker()
        self.follower = FaceFollower(
            detector, detector.for_crops(), FollowSettings(settings.search_period_s), settings.exclude_zones
        )
        self.poses = HeadPoseModel.load()
        self.front = FrontDirection(settings.front_auto)
        self._poses: list[tuple[float, float] | None] = []  # of the faces last detected
        self.start_wall = start_wall or now().replace(microsecond=0)
        self.aggregator = IntervalAggregator(settings.interval_s, self.start_wall, settings.min_faces)
        self.session_id = store.create_session(
            recording.name,
            recording.source,
            settings.settings_dict(detector, classifier),
            self.start_wall,
            room=recording.room,
            host=recording.host,
            uid=recording.uid,
        )
        self.writer = WriteBehind(store, self.session_id)
        self._beat_at = time.monotonic()
        self.frames = 0
        self.last_offset_s = 0.0
        self.last_interval: IntervalAggregate | None = None
        self._found: tuple[float, tuple[int, ...], list[Detection]] | None = None  # offset, frame shape, faces
        self._searched = False  # whether the faces last detected came from a full-frame search

    def process(self, image: object, offset_s: float) -> FrameResult | None:
        """Analyze one frame at `offset_s` seconds of session time; None (and counted) if it is garbage."""
        self.last_offset_s = offset_s
        if not valid_frame(image):
            self._store(self.aggregator.add_skipped(offset_s))
            return None
        assert isinstance(image, np.ndarray)
        clock = time.perf_counter()
        detections, fresh = self._detect(image, offset_s)
        searched = fresh and self._searched
        detected = time.perf_counter()
        view = self.frames if self.settings.rotate_views else None  # the tracks average the views in turn
        probabilities = self.classifier.predict([face_crop(image, face) for face in detections], view)
        classified = time.perf_counter()
        faces = self.tracker.update([face.box for face in detections], probabilities)
        tracked = time.perf_counter()
        if fresh:  # carried faces keep the poses of the frame they were found in
            self._poses = [self.poses.estimate(face) for face in detections]
        poses = self._poses
        facing = facing_front(poses, self.settings.facing, self.front)
        headings = [
            None if pose is None or face.landmarks is None else Heading(tuple(face.landmarks[2]), *pose)
            for face, pose in zip(detections, poses, strict=True)
        ]
        posed = time.perf_counter()
        result = FrameResult(offset_s, faces, fresh, searched, facing=facing, headings=headings)
        self._store(self.aggregator.add(result))
        stored = time.perf_counter()
        result.timings_ms = {
            "detect": (detected - clock) * 1e3,
            "classify": (classified - detected) * 1e3,
            "track": (tracked - classified) * 1e3,
            "pose": (posed - tracked) * 1e3,
            "store": (stored - posed) * 1e3,
        }
        self.frames += 1
        self._heartbeat()
        return result

    def _detect(self, image: np.ndarray, offset_s: float) -> tuple[list[Detection], bool]:
        """The faces of this frame (searched or followed, faces in opt-out zones dropped) and whether they were
        detected in it: frames of the same size less than a detect period after the last detection reuse its
        faces."""
        if self._found:
            found_at, shape, faces = self._found
            if image.shape == shape and 0 <= offset_s - found_at < self.settings.detect_period_s:
                return faces, False
        faces, self._searched = self.follower.faces(image, offset_s)
        self._found = (offset_s, image.shape, faces)
        return faces, True

    def idle(self, offset_s: float) -> None:
        """Session time passes with no frame (camera lost): close the windows that ended."""
        self.last_offset_s = max(self.last_offset_s, offset_s)
        self._found = None
        self.follower.reset()
        self.tracker.reset()
        self._store(self.aggregator.advance(offset_s))
        self._heartbeat()

    def _heartbeat(self) -> None:
        """Tell readers the session is alive, at most every HEARTBEAT_S (intervals closing also do)."""
        if time.monotonic() - self._beat_at >= HEARTBEAT_S:
            self.writer.heartbeat()
            self._beat_at = time.monotonic()

    def mark(self, text: str, offset_s: float) -> None:
        """A marker at `offset_s` seconds of session time."""
        self.writer.add_marker(Marker(offset_s, now(), text))

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every interval closed so far is in the store; False if it is still busy after `timeout_s`."""
        return self.writer.wait(timeout_s)

    def finish(
        self,
        status: str = "completed",
        end_offset_s: float | None = None,
        *,
        wait_s: float = FINISH_WAIT_S,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        """Flush the window in progress and record the session's end status, waiting at most `wait_s` for a busy
        store (telling `notify` why); an EngageError if it still refuses, naming what could not be written."""
        end = self.last_offset_s if end_offset_s is None else end_offset_s
        self._store(self.aggregator.flush(end))
        self.writer.finish(status, self.start_wall + timedelta(seconds=end))
        if not self.writer.close(wait_s, notify):
            raise EngageError(
                f"{self.writer.status}; gave up after {wait_s:.0f} s: session {self.session_id} keeps what was "
                "written and reads as interrupted"
            )

    def _store(self, closed: list[IntervalAggregate]) -> None:
        for aggregate in closed:
            self.writer.add_interval(aggregate)
            self.last_interval = aggregate
            self._beat_at = time.monotonic()
