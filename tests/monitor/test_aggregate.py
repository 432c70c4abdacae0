import numpy as np

from monitor.aggregate import IntervalAggregator
from monitor.types import Box, FrameResult, TrackedFace
from tests.factories import START


def frame(offset: float, *probabilities: list[float]) -> FrameResult:
    faces = [TrackedFace(i + 1, Box(0, 0, 10, 10), np.array(p, np.float32)) for i, p in enumerate(probabilities)]
    return FrameResult(offset, faces)


def test_frames_are_aggregated_per_interval_with_counts_means_and_engagement():
    aggregator = IntervalAggregator(10, START)
    assert aggregator.add(frame(0.0, [1, 0, 0], [0, 1, 0])) == []
    assert aggregator.add(frame(5.0, [0, 0, 1])) == []
    (closed,) = aggregator.add(frame(10.0, [1, 0, 0]))
    assert closed.index == 0 and closed.offset_s == 0 and closed.duration_s == 10
    assert closed.start_wall == START
    assert closed.frames == 2 and closed.faces_max == 2 and closed.faces_mean == 1.5 and closed.tracks == 2
    assert closed.class_counts == {"positive": 1, "neutral": 1, "negative": 1}
    assert abs(closed.class_means["positive"] - 1 / 3) < 1e-6
    assert abs(closed.engagement - 0.5) < 1e-6


def test_interval_without_faces_has_empty_class_fields_not_zero():
    aggregator = IntervalAggregator(5, START)
    aggregator.add(frame(1.0))
    (closed,) = aggregator.flush(5.0)
    assert closed.frames == 1 and closed.faces_mean == 0
    assert closed.engagement is None and closed.class_means["neutral"] is None


def test_gap_without_frames_emits_empty_intervals_and_flush_keeps_partial():
    aggregator = IntervalAggregator(10, START)
    aggregator.add(frame(2.0, [0, 1, 0]))
    closed = aggregator.add(frame(35.0, [0, 1, 0]))
    assert [c.index for c in closed] == [0, 1, 2]
    assert [c.frames for c in closed] == [1, 0, 0]
    (last,) = aggregator.flush(37.5)
    assert last.index == 3 and last.duration_s == 7.5 and last.frames == 1


def test_skipped_frames_are_counted():
    aggregator = IntervalAggregator(10, START)
    aggregator.add_skipped(1.0)
    aggregator.add_skipped(2.0)
    (closed,) = aggregator.flush(3.0)
    assert closed.skipped_frames == 2 and closed.frames == 0
