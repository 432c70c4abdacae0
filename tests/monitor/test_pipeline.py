import cv2
import numpy as np
import pytest

from monitor.demo import render_frame
from monitor.perception.detect import create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings, Recording
from monitor.store import open_store
from monitor.tables import interval_table
from tests.factories import ROOM


def make_pipeline(tmp_path, tiny_model, interval=5.0, detector="yunet", min_faces=1, **settings):
    store = open_store(tmp_path / "s.db")
    settings = PipelineSettings(fps=2, interval_s=interval, min_faces=min_faces, **settings)
    return Pipeline(
        create_detector(detector),
        ExpressionClassifier(tiny_model),
        store,
        settings,
        Recording("t", "test", ROOM, "test"),
    )


@pytest.mark.parametrize("detector", ["yunet", "haar"])
def test_pipeline_writes_each_interval_as_it_closes_and_finishes_the_session(tmp_path, tiny_model, detector):
    pipeline = make_pipeline(tmp_path, tiny_model, detector=detector)
    for step in range(12):  # 6 s at 2 fps
        result = pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
        assert len(result.faces) == 3
        assert set(result.timings_ms) == {"detect", "classify", "track", "pose", "store"}
    assert pipeline.flush()
    stored = interval_table(pipeline.store.intervals(pipeline.session_id))
    assert stored["interval"].tolist() == [0]  # 0-5 s closed at the frame at 5.0 s
    assert stored["frames"].tolist() == [10] and stored["tracks"].tolist() == [3]
    pipeline.finish("completed", 6.0)
    stored = interval_table(pipeline.store.intervals(pipeline.session_id))
    assert stored["duration_s"].tolist() == [5.0, 1.0]
    # the portraits look into the camera; Haar faces have no landmarks, so no pose and no attention
    attention = stored["attention"]
    assert (attention == 1.0).all() if detector == "yunet" else attention.isna().all()
    session = pipeline.store.session(pipeline.session_id)
    assert session.status == "completed" and session.settings["detector"] == pipeline.detector.name


def test_frames_within_a_detect_period_reuse_the_faces_found_and_keep_their_tracks(tmp_path, tiny_model):
    pipeline = make_pipeline(tmp_path, tiny_model, detect_period_s=0.06)
    frames = [(render_frame(640, 360, 3, t / 30), t / 30) for t in range(6)]
    results = [pipeline.process(image, offset) for image, offset in frames]
    assert [r.detected for r in results] == [True, False, True, False, True, False]
    assert all(len(r.faces) == 3 for r in results)
    assert {f.track_id for r in results for f in r.faces} == {1, 2, 3}
    assert pipeline.process(render_frame(1280, 720, 3, 0.2), 0.2).detected  # another frame size: detect again
    pipeline.idle(5.0)
    assert pipeline.process(render_frame(1280, 720, 3, 0.2), 5.01).detected  # after a gap: detect again


@pytest.mark.parametrize("shape", [(360, 640), (360, 640, 4), (1, 1, 3)], ids=["grey", "bgra", "1x1"])
def test_grey_four_channel_and_tiny_frames_are_analyzed_or_counted(tmp_path, tiny_model, shape):
    pipeline = make_pipeline(tmp_path, tiny_model)
    frame = render_frame(640, 360, 2, 0.0)
    image = {2: cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), 3: cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)}
    result = pipeline.process(image[len(shape)] if shape[0] > 1 else np.zeros(shape, np.uint8), 0.0)
    if shape[0] > 1:
        assert len(result.faces) == 2
    else:
        assert result is None
        pipeline.finish("completed", 1.0)
        (row,) = pipeline.store.intervals(pipeline.session_id)
        assert row.skipped_frames == 1 and row.frames == 0


def test_garbage_frames_are_skipped_and_counted(tmp_path, tiny_model):
    pipeline = make_pipeline(tmp_path, tiny_model)
    assert pipeline.process(None, 0.1) is None
    assert pipeline.process(np.zeros((0, 0, 3), np.uint8), 0.2) is None
    assert pipeline.process(np.zeros((360, 640, 3), np.float64), 0.3) is None
    assert pipeline.process(render_frame(640, 360, 1, 0.0), 0.4) is not None
    pipeline.finish("completed", 1.0)
    (row,) = pipeline.store.intervals(pipeline.session_id)
    assert row.skipped_frames == 3 and row.frames == 1


def test_lost_camera_gap_is_recorded_as_intervals_without_frames(tmp_path, tiny_model):
    pipeline = make_pipeline(tmp_path, tiny_model)
    pipeline.process(render_frame(640, 360, 2, 0.0), 1.0)
    pipeline.idle(16.0)
    pipeline.process(render_frame(640, 360, 2, 0.0), 17.0)
    pipeline.finish("completed", 18.0)
    table = interval_table(pipeline.store.intervals(pipeline.session_id))
    assert table["frames"].tolist() == [1, 0, 0, 1]
    assert table["engagement"].isna().tolist() == [False, True, True, False]


def test_following_and_views_in_turn_store_what_searching_and_every_view_on_every_frame_store(tmp_path, tiny_model):
    tables = []
    for period in (0.0, 4.0):
        pipeline = make_pipeline(tmp_path / str(period), tiny_model, search_period_s=period, rotate_views=period > 0)
        results = [
            pipeline.process(render_frame(960, 540, 4, k / 2, {1} if 6 <= k / 2 < 9 else set()), k / 2)
            for k in range(30)
        ]
        pipeline.finish("completed", 15.0)
        settings = pipeline.store.session(pipeline.session_id).settings
        assert settings["search_period_s"] == period and settings["views"] == ("rotate" if period else "all")
        searches = sum(r.searched for r in results)
        assert searches == 30 if period == 0 else searches < 10
        tables.append(interval_table(pipeline.store.intervals(pipeline.session_id)))
    every, followed = tables
    for column in ("faces_mean", "engagement", "attention", "n_positive", "n_neutral", "n_negative"):
        np.testing.assert_allclose(followed[column], every[column], atol=0.02, err_msg=column)
