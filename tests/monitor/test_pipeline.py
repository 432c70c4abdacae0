import numpy as np

from monitor.demo import render_frame
from monitor.detect import HaarDetector
from monitor.model import ExpressionClassifier
from monitor.pipeline import Pipeline, PipelineSettings
from monitor.store import SessionStore


def make_pipeline(tmp_path, tiny_model, interval=5.0):
    store = SessionStore(tmp_path / "s.db")
    settings = PipelineSettings(fps=2, interval_s=interval)
    return Pipeline(HaarDetector(), ExpressionClassifier(tiny_model), store, settings, name="t", source="test")


def test_pipeline_writes_each_interval_as_it_closes_and_finishes_the_session(tmp_path, tiny_model):
    pipeline = make_pipeline(tmp_path, tiny_model)
    for step in range(12):  # 6 s at 2 fps
        result = pipeline.process(render_frame(640, 360, 3, step / 2), step / 2)
        assert len(result.faces) == 3
        assert set(result.timings_ms) == {"detect", "classify", "track", "store"}
    stored = pipeline.store.intervals(pipeline.session_id)
    assert stored["interval"].tolist() == [0]  # 0-5 s closed at the frame at 5.0 s
    assert stored["frames"].tolist() == [10] and stored["tracks"].tolist() == [3]
    pipeline.finish("completed", 6.0)
    stored = pipeline.store.intervals(pipeline.session_id)
    assert stored["duration_s"].tolist() == [5.0, 1.0]
    assert pipeline.store.session(pipeline.session_id).status == "completed"


def test_garbage_frames_are_skipped_and_counted(tmp_path, tiny_model):
    pipeline = make_pipeline(tmp_path, tiny_model)
    assert pipeline.process(None, 0.1) is None
    assert pipeline.process(np.zeros((0, 0, 3), np.uint8), 0.2) is None
    assert pipeline.process(np.zeros((360, 640, 3), np.float64), 0.3) is None
    assert pipeline.process(render_frame(640, 360, 1, 0.0), 0.4) is not None
    pipeline.finish("completed", 1.0)
    (row,) = pipeline.store.intervals(pipeline.session_id).itertuples()
    assert row.skipped_frames == 3 and row.frames == 1 and pipeline.skipped == 3


def test_lost_camera_gap_is_recorded_as_intervals_without_frames(tmp_path, tiny_model):
    pipeline = make_pipeline(tmp_path, tiny_model)
    pipeline.process(render_frame(640, 360, 2, 0.0), 1.0)
    pipeline.idle(16.0)
    pipeline.process(render_frame(640, 360, 2, 0.0), 17.0)
    pipeline.finish("completed", 18.0)
    table = pipeline.store.intervals(pipeline.session_id)
    assert table["frames"].tolist() == [1, 0, 0, 1]
    assert table["engagement"].isna().tolist() == [False, True, True, False]
