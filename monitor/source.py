"""Frame sources: sequential sampling of a video file (analyze) and a newest-frame reader thread (live)."""

from __future__ import annotations

import os
import struct
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

import cv2
import numpy as np

from monitor.console import native_stderr_silenced, warn
from monitor.errors import EngageError

if TYPE_CHECKING:
    import av

OPEN_TIMEOUT_MS = 5000


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    offset_s: float  # seconds since the source started (media time for files)


def parse_source(text: str | int) -> int | str:
    """'0' -> camera index 0; anything else is a path or URL."""
    return int(text) if isinstance(text, int) or str(text).isdigit() else str(text)


def is_stream(source: int | str) -> bool:
    return isinstance(source, str) and "://" in source


def describe(source: int | str) -> str:
    return f"camera {source}" if isinstance(source, int) else str(source)


def open_capture(source: int | str) -> cv2.VideoCapture:
    """Open a camera, file or stream, or raise a one-line EngageError naming what is wrong."""
    if isinstance(source, str) and not is_stream(source):
        path = Path(source)
        if not path.is_file():
            raise EngageError(f"video file {source} not found")
    capture = cv2.VideoCapture()
    capture.setExceptionMode(False)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, OPEN_TIMEOUT_MS]
    with native_stderr_silenced():
        opened = capture.open(source, cv2.CAP_ANY, params)
    if not opened or not capture.isOpened():
        capture.release()
        if isinstance(source, int):
            raise EngageError(
                f"camera {source} could not be opened: is a webcam connected and not used by another program? "
                "(use --source PATH to analyze a video file)"
            )
        if is_stream(source):
            raise EngageError(f"stream {source} could not be opened (unreachable or not a video stream)")
        raise EngageError(f"{source} is not a readable video")
    return capture


def valid_frame(image: object) -> bool:
    """A frame the pipeline can analyze: non-empty uint8, grey or 3/4-channel."""
    return (
        isinstance(image, np.ndarray)
        and image.dtype == np.uint8
        and image.size > 0
        and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4)))
        and min(image.shape[:2]) >= 16
    )


def media_fps(capture: cv2.VideoCapture) -> float:
    fps = capture.get(cv2.CAP_PROP_FPS)
    return fps if 1.0 <= fps <= 240.0 else 30.0


def sample_video(capture: cv2.VideoCapture, fps: float) -> Iterator[Frame]:
    """Frames of a recorded video at (at most) `fps` per second of media time; skipped frames are only grabbed."""
    native = media_fps(capture)
    period = 1.0 / fps
    next_due = 0.0
    index = 0
    while True:
        offset = index / native
        if offset + 1e-6 >= next_due:
            ok, image = capture.read()
            if not ok:
                return
            yield Frame(image, offset)
            while next_due <= offset + 1e-6:
                next_due += period
        elif not capture.grab():
            return
        index += 1


class VideoFile(Protocol):
    """A recording to analyze: its length and its frames at a given analysis rate."""

    duration_s: float  # 0 when the file does not say

    def frames(self, fps: float) -> Iterator[Frame]:
        """Frames at (at most) `fps` per second of media time, each with its media time from the start."""
        ...

    def close(self) -> None: ...


class OpenCVVideo:
    """A recording read by OpenCV: every frame grabbed, only the analyzed ones decoded into pictures."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self.capture = capture
        self.duration_s = frame_count(capture) / media_fps(capture)

    def frames(self, fps: float) -> Iterator[Frame]:
        return sample_video(self.capture, fps)

    def close(self) -> None:
        self.capture.release()


class PyAVVideo:
    """A recording decoded by FFmpeg's libraries through PyAV, skipping what no analyzed frame needs: frames no
    other frame refers to (most B-frames) when the analysis rate leaves them out, and whole stretches (a seek to
    the keyframe before the next analyzed frame) when analyzed frames lie more than SEEK_GAP_S apart."""

    SEEK_GAP_S = 10.0

    def __init__(self, path: Path, threads: int = 0) -> None:
        """`threads`: FFmpeg's decoding threads (0: as many as FFmpeg likes). One thread decodes a frame at a time
        with the least work in all; more threads overlap frames, for cores the analysis leaves idle."""
        import av  # FFmpeg's libraries: loaded only to analyze a recording

        self.path = path
        self.container = av.open(str(path))
        if not self.container.streams.video:
            self.container.close()
            raise ValueError("no video stream")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.stream.codec_context.thread_count = threads
        base = float(self.stream.time_base or 0)
        if self.stream.duration and base:
            self.duration_s = self.stream.duration * base
        else:
            self.duration_s = (self.container.duration or 0) / 1e6
        self.native_fps = float(self.stream.average_rate or 0) or 30.0

    def frames(self, fps: float) -> Iterator[Frame]:
        import av

        period = 1.0 / fps
        if period >= 2.0 / self.native_fps:  # the analysis leaves frames out: skip those no frame refers to
            self.stream.codec_context.skip_frame = "NONREF"
        try:
            yield from self._sampled(period)
        except av.FFmpegError as exc:  # a damaged stretch ends the readable recording, as OpenCV's reader does
            warn(f"{self.path}: the video is damaged from here on ({exc}); the analysis keeps what came before")

    def _sampled(self, period: float) -> Iterator[Frame]:
        start: float | None = None
        next_due = 0.0
        for frame in self.container.decode(self.stream):
            if frame.time is None:
                continue
            start = frame.time if start is None else start
            offset = frame.time - start
            if offset + 1e-6 < next_due:
                continue
            yield Frame(_bgr(frame), offset)
            while next_due <= offset + 1e-6:
                next_due += period
            if next_due - offset > self.SEEK_GAP_S:
                target = round((start + next_due) / float(self.stream.time_base))
                self.container.seek(target, stream=self.stream, backward=True)

    def close(self) -> None:
        self.container.close()


def _bgr(frame: av.VideoFrame) -> np.ndarray:
    """A decoded picture as BGR: OpenCV converts the usual 4:2:0 video (limited range, even size) in a sixth of
    FFmpeg's time; FFmpeg converts anything else."""
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    return frame.to_ndarray(format="bgr24")


def open_video(path: Path, threads: int = 0) -> VideoFile:
    """A recording to analyze, decoded by PyAV (with `threads` decoding threads, 0: FFmpeg's choice) where it can
    open it and by OpenCV otherwise; a one-line EngageError when neither can."""
    if not path.is_file():
        raise EngageError(f"video file {path} not found")
    try:
        return PyAVVideo(path, threads)
    except Exception:  # PyAV raises FFmpeg's error kinds (or ImportError without the wheel): OpenCV's turn
        return OpenCVVideo(open_capture(str(path)))


AHEAD_BYTES = 128 * 2**20  # decoded pictures held ahead of the analysis: about 20 of 1080p


class FramesAhead:
    """A recording's frames at `fps`, decoded in a thread of their own from the moment this is made, so decoding
    overlaps whatever the command still prepares (loading the models, opening the store) and then the analysis of
    each frame on a second core (FFmpeg and OpenCV leave the GIL while they decode). At most `max_bytes` of
    pictures wait ahead. Iterate once; `close` stops and joins the thread and closes the recording."""

    _END = object()

    def __init__(self, video: VideoFile, fps: float, max_bytes: int = AHEAD_BYTES) -> None:
        self.video = video
        self.duration_s = video.duration_s
        self._max_bytes = max_bytes
        self._waiting: deque[Frame | BaseException | object] = deque()
        self._bytes = 0
        self._stopping = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._decode, args=(video.frames(fps),), name="engage-decode")
        self._thread.daemon = True
        self._thread.start()

    def _decode(self, frames: Iterator[Frame]) -> None:
        try:
            for frame in frames:
                with self._changed:
                    self._changed.wait_for(lambda: self._stopping or self._bytes < self._max_bytes)
                    if self._stopping:
                        return
                    self._waiting.append(frame)
                    self._bytes += frame.image.nbytes
                    self._changed.notify_all()
            self._hand_over(self._END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._hand_over(exc)
        finally:
            close = getattr(frames, "close", None)
            if close:
                close()

    def _hand_over(self, item: BaseException | object) -> None:
        with self._changed:
            self._waiting.append(item)
            self._changed.notify_all()

    def __iter__(self) -> Iterator[Frame]:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting)
                item = self._waiting.popleft()
                if isinstance(item, Frame):
                    self._bytes -= item.image.nbytes
                    self._changed.notify_all()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Frame)
            yield item

    def close(self) -> None:
        """Stop decoding and close the recording (again: nothing more)."""
        with self._changed:
            closed, self._stopping = self._stopping, True
            self._waiting.clear()
            self._changed.notify_all()
        if not closed:
            self._thread.join()
            self.video.close()


def frame_count(capture: cv2.VideoCapture) -> int:
    return max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)


class LatestFrameReader:
    """Reads a live source in a thread and keeps only the newest frame, so analysis never lags behind.

    Every frame is grabbed (the source never backs up), but only a frame the analysis asks for is retrieved:
    decoded and converted to BGR (a camera's MJPEG or YUV conversion, a file's colour conversion), so at 2 analyzed
    frames a second the other 28 cost only their grab. A camera or stream that stops delivering is reopened with
    exponential backoff; a file source is played at its own frame rate and ends the reader at its end.
    """

    def __init__(self, source: int | str, capture: cv2.VideoCapture, max_backoff_s: float = 8.0) -> None:
        self.source = source
        self._capture = capture
        self._is_file = isinstance(source, str) and not is_stream(source)
        self._max_backoff = max_backoff_s
        self._lock = threading.Condition()
        self._frame: np.ndarray | None = None
        self._sequence = 0
        self._taken = 0
        self._wanted = threading.Event()  # the analysis waits for a frame: retrieve the next one grabbed
        self._stop = threading.Event()
        self.finished = threading.Event()
        self.connected = True
        self.reconnects = 0
        self._thread = threading.Thread(target=self._run, name="frame-reader", daemon=True)

    def start(self) -> LatestFrameReader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._capture.release()

    def latest(self, timeout: float) -> np.ndarray | None:
        """The next frame the source delivers, waiting up to `timeout` seconds; None if none came."""
        with self._lock:
            if self._sequence == self._taken:
                self._wanted.set()
            self._lock.wait_for(lambda: self._sequence > self._taken or self.finished.is_set(), timeout)
            if self._sequence == self._taken:
                return None
            self._taken = self._sequence
            return self._frame

    def _publish(self, image: np.ndarray | None) -> None:
        with self._lock:
            self._frame = image
            self._sequence += 1
            self._lock.notify_all()

    def _run(self) -> None:
        period = 1.0 / media_fps(self._capture) if self._is_file else 0.0
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                ok = self._capture.grab()
                if ok and self._wanted.is_set():
                    ok, image = self._capture.retrieve()
                    if ok:
                        self._wanted.clear()
                        self._publish(image)
                if ok:
                    if period:
                        next_due += period
                        self._stop.wait(max(0.0, next_due - time.monotonic()))
                elif self._is_file or not self._reconnect():
                    return
        finally:
            self.finished.set()
            with self._lock:
                self._lock.notify_all()

    def _reconnect(self) -> bool:
        self.connected = False
        backoff = 0.5
        while not self._stop.wait(backoff):
            self._capture.release()
            try:
                self._capture = open_capture(self.source)
            except EngageError:
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self.connected = True
            self.reconnects += 1
            return True
        return False


VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".3gp", ".mpg", ".mpeg", ".ts")


def recording_identity(path: Path) -> str:
    """What makes a recording the same file wherever it is copied: its size and the SHA-256 of its first and last
    MiB (reading a whole lecture to hash it would cost a second per gigabyte)."""
    import hashlib

    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as file:
        digest.update(file.read(2**20))
        file.seek(max(0, size - 2**20))
        digest.update(file.read(2**20))
    return f"{size}:{digest.hexdigest()}"


def videos_in(paths: Iterable[Path]) -> list[Path]:
    """The files given, and the video files (by suffix) inside the folders given, in name order."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
        else:
            found.append(path)
    return found


MP4_EPOCH = datetime(1904, 1, 1, tzinfo=UTC)  # QuickTime and MP4 count seconds from here
CONTAINERS_WITH_TIME = (".mp4", ".m4v", ".mov", ".3gp")


def recorded_at(path: Path) -> datetime | None:
    """When a recording was made, from its container's own header (the `mvhd` creation time of MP4, MOV, M4V and
    3GP files); None where the file has none, or a zero or implausible one (many encoders leave it empty)."""
    if path.suffix.lower() not in CONTAINERS_WITH_TIME:
        return None
    try:
        with path.open("rb") as file:
            header = _find_box(file, b"moov", os.fstat(file.fileno()).st_size)
            header = header and _find_box(file, b"mvhd", header)
            if not header:
                return None
            version = file.read(4)[0]
            raw = file.read(8 if version == 1 else 4)
    except (OSError, IndexError):
        return None
    moment = MP4_EPOCH + timedelta(seconds=int.from_bytes(raw, "big"))
    return moment if datetime(2000, 1, 1, tzinfo=UTC) < moment < datetime.now(UTC) + timedelta(days=1) else None


def _find_box(file: BinaryIO, kind: bytes, end: int) -> int | None:
    """Advance `file` into the box `kind` among the boxes from here to `end`; the box's end, or None."""
    while file.tell() + 8 <= end:
        start = file.tell()
        size, name = struct.unpack(">I4s", file.read(8))
        if size == 1:
            size = struct.unpack(">Q", file.read(8))[0]
        elif size == 0:
            size = end - start
        if size < 8:
            return None
        if name == kind:
            return start + size
        file.seek(start + size)
    return None
