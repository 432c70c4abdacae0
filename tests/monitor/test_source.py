import time

import numpy as np
import pytest

from monitor.errors import EngageError
from monitor.source import LatestFrameReader, open_capture, parse_source, sample_video, valid_frame


def test_parse_source():
    assert parse_source("0") == 0 and parse_source("2") == 2
    assert parse_source("lecture.mp4") == "lecture.mp4"
    assert parse_source("rtsp://cam/1") == "rtsp://cam/1"


def test_sample_video_uses_media_time_at_the_requested_rate(lecture_video):
    offsets = [f.offset_s for f in sample_video(open_capture(str(lecture_video)), fps=2)]
    assert len(offsets) == 24
    np.testing.assert_allclose(offsets[:4], [0.0, 0.5, 1.0, 1.5])


def test_sample_video_never_exceeds_native_rate(lecture_video):
    frames = list(sample_video(open_capture(str(lecture_video)), fps=30))
    assert len(frames) == 120


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("missing.mp4", "video file missing.mp4 not found"),
        (57, "camera 57 could not be opened"),
        ("rtsp://127.0.0.1:9/none", "stream rtsp://127.0.0.1:9/none could not be opened"),
    ],
)
def test_unopenable_sources_are_clear_errors(source, message):
    with pytest.raises(EngageError, match=message):
        open_capture(source)


def test_non_video_file_is_a_clear_error(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    with pytest.raises(EngageError, match="is not a readable video"):
        open_capture(str(bogus))


def test_valid_frame_rejects_garbage():
    assert valid_frame(np.zeros((48, 64, 3), np.uint8))
    assert valid_frame(np.zeros((48, 64), np.uint8))
    for garbage in (
        None,
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((48, 64, 3), np.float32),
        np.zeros((48, 64, 2), np.uint8),
        np.zeros(10, np.uint8),
        "frame",
    ):
        assert not valid_frame(garbage)


def test_latest_frame_reader_plays_a_file_in_real_time_and_hands_out_only_new_frames(lecture_video):
    reader = LatestFrameReader(str(lecture_video), open_capture(str(lecture_video))).start()
    try:
        first = reader.latest(timeout=2)
        assert first is not None
        time.sleep(0.35)  # ~3 frames at 10 fps pass; only the newest is returned
        assert reader.latest(timeout=1) is not None
        assert reader.latest(timeout=0) is None
    finally:
        reader.stop()


def test_a_stream_that_ends_is_reopened_with_backoff(tmp_path):
    from monitor.demo import write_video

    video = write_video(tmp_path / "one-second.mp4", seconds=1, fps=10, faces=1)
    stream = f"file://{video}"  # a URL, so the reader treats its end as a dropped stream
    reader = LatestFrameReader(stream, open_capture(stream), max_backoff_s=0.5).start()
    try:
        frames, deadline = 0, time.monotonic() + 5
        while time.monotonic() < deadline and reader.reconnects < 2:
            frames += reader.latest(timeout=0.1) is not None
        assert reader.reconnects >= 2 and frames >= 2
        assert not reader.finished.is_set()
    finally:
        reader.stop()


def _mp4_with_creation_time(path, moment, version=0):
    """The boxes of an MP4 header: ftyp, then moov holding mvhd with `moment` as its creation time."""
    import struct
    from datetime import UTC, datetime

    seconds = int((moment - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds())
    stamp = struct.pack(">Q" if version else ">I", seconds)
    mvhd_body = bytes([version, 0, 0, 0]) + stamp * 2 + b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(mvhd_body), b"mvhd") + mvhd_body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    ftyp = struct.pack(">I4s", 16, b"ftyp") + b"isom\0\0\0\0"
    free = struct.pack(">I4s", 12, b"free") + b"\0" * 4
    path.write_bytes(ftyp + free + moov)
    return path


@pytest.mark.parametrize("version", [0, 1])
def test_the_recording_time_comes_from_the_container_header(tmp_path, version):
    from datetime import UTC, datetime

    from monitor.source import recorded_at

    taught = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert recorded_at(_mp4_with_creation_time(tmp_path / "lecture.mp4", taught, version)) == taught
    assert recorded_at(_mp4_with_creation_time(tmp_path / "zero.mov", datetime(1904, 1, 1, tzinfo=UTC))) is None
    (tmp_path / "clip.avi").write_bytes(b"RIFF")
    assert recorded_at(tmp_path / "clip.avi") is None and recorded_at(tmp_path / "truncated.mp4") is None


class Counted:
    """A recording of `count` grey frames a second apart, that may break after `good` of them."""

    duration_s = 0.0

    def __init__(self, count: int, good: int | None = None) -> None:
        self.count, self.good, self.closed = count, good, False

    def frames(self, fps: float):
        from monitor.source import Frame

        for k in range(self.count):
            if k == self.good:
                raise OSError("disk gone")
            yield Frame(np.zeros((100, 100, 3), np.uint8), float(k))

    def close(self) -> None:
        self.closed = True


def test_frames_ahead_keep_their_order_and_errors_and_stop_when_closed(lecture_video):
    import threading

    from monitor.source import FramesAhead, OpenCVVideo

    plain = [f.offset_s for f in sample_video(open_capture(str(lecture_video)), 2)]
    assert [f.offset_s for f in FramesAhead(OpenCVVideo(open_capture(str(lecture_video))), 2)] == plain

    broken = FramesAhead(Counted(10, good=1), 1)
    frames = iter(broken)
    assert next(frames).offset_s == 0.0
    with pytest.raises(OSError, match="disk gone"):
        next(frames)

    endless = Counted(10**9)
    ahead = FramesAhead(endless, 1, max_bytes=3 * 100 * 100 * 3)
    time.sleep(0.3)  # decoding started before anyone asked, and stopped at the bound
    assert len(ahead._waiting) == 3
    assert next(iter(ahead)).offset_s == 0.0
    ahead.close()
    ahead.close()
    assert endless.closed and not any(t.name == "engage-decode" for t in threading.enumerate())


def h264_with_b_frames(path, seconds: float = 20.0, fps: int = 25):
    """An H.264 clip with B-frames and a keyframe every 5 s (as cameras write them), encoded by PyAV's own x264;
    each frame shows its index as a grey level."""
    av = pytest.importorskip("av")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"bf": "3", "g": str(5 * fps)})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for k in range(round(seconds * fps)):
            image = np.full((240, 320, 3), k % 250, np.uint8)
            image[:, :40] = (0, 0, 255)  # a red band: colours survive the conversion
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("fps", [2.0, 0.05])  # skipping frames nothing refers to; seeking past whole stretches
def test_pyav_decodes_the_analyzed_frames_at_their_media_time(tmp_path, fps):
    from monitor.source import PyAVVideo, open_video

    path = h264_with_b_frames(tmp_path / "camera.mp4")
    video = open_video(path, threads=1)
    assert isinstance(video, PyAVVideo) and video.duration_s == pytest.approx(20.0, abs=0.1)
    frames = list(video.frames(fps))
    video.close()
    assert len(frames) == round(20 * fps)
    lateness = [f.offset_s - k / fps for k, f in enumerate(frames)]  # a skipped B-frame's turn goes to the next
    assert all(-1e-6 <= late <= 3 / 25 + 1e-6 for late in lateness)
    for frame in frames:
        index = round(frame.offset_s * 25)
        assert frame.image.shape == (240, 320, 3)
        assert abs(int(np.median(frame.image[:, 60:, 1])) - index % 250) <= 3  # the picture of that very frame
        assert np.abs(frame.image[:, 4:36].mean(axis=(0, 1)) - (0, 0, 255)).max() <= 8


def test_odd_sized_video_is_converted_by_ffmpeg(tmp_path):
    av = pytest.importorskip("av")
    from monitor.source import PyAVVideo

    path = tmp_path / "odd.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ffv1", rate=5)
        stream.width, stream.height, stream.pix_fmt = 101, 77, "yuv444p"
        for k in range(10):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.full((77, 101, 3), 20 * k, np.uint8), "bgr24")))
        container.mux(stream.encode(None))
    video = PyAVVideo(path, threads=1)
    frames = list(video.frames(5.0))
    video.close()
    assert len(frames) == 10 and frames[3].image.shape == (77, 101, 3)
    assert abs(int(frames[3].image.mean()) - 60) <= 2
