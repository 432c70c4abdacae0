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


def test_frames_read_ahead_keep_their_order_errors_and_stop_when_closed(lecture_video):
    import threading

    from monitor.source import Frame, read_ahead

    plain = [f.offset_s for f in sample_video(open_capture(str(lecture_video)), 2)]
    assert [f.offset_s for f in read_ahead(sample_video(open_capture(str(lecture_video)), 2))] == plain

    def broken():
        yield Frame(np.zeros((2, 2, 3), np.uint8), 0.0)
        raise OSError("disk gone")

    frames = read_ahead(broken())
    assert next(frames).offset_s == 0.0
    with pytest.raises(OSError, match="disk gone"):
        next(frames)

    endless = read_ahead(Frame(np.zeros((2, 2, 3), np.uint8), float(k)) for k in range(10**9))
    assert next(endless).offset_s == 0.0
    endless.close()
    assert not any(t.name == "engage-decode" for t in threading.enumerate())
