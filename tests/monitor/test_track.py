import numpy as np

from monitor.track import IoUTracker
from monitor.types import Box


def one_hot(index: int) -> np.ndarray:
    return np.eye(3, dtype=np.float32)[[index]]


def test_moving_face_keeps_its_track_id_and_new_face_gets_a_new_one():
    tracker = IoUTracker()
    first = tracker.update([Box(100, 100, 50, 50)], one_hot(0))
    second = tracker.update([Box(104, 102, 50, 50), Box(400, 100, 50, 50)], np.concatenate([one_hot(0), one_hot(1)]))
    assert second[0].track_id == first[0].track_id
    assert second[1].track_id != first[0].track_id


def test_smoothing_keeps_one_blink_from_flipping_the_label():
    tracker = IoUTracker(window=5)
    box = Box(10, 10, 40, 40)
    for _ in range(4):
        tracker.update([box], one_hot(0))
    (face,) = tracker.update([box], one_hot(2))
    assert face.label == "positive"
    np.testing.assert_allclose(face.probabilities, [0.8, 0.0, 0.2])


def test_track_survives_short_misses_then_expires():
    tracker = IoUTracker(max_missed=2)
    box = Box(0, 0, 30, 30)
    (first,) = tracker.update([box], one_hot(1))
    tracker.update([], np.zeros((0, 3)))
    tracker.update([], np.zeros((0, 3)))
    (again,) = tracker.update([box], one_hot(1))
    assert again.track_id == first.track_id
    for _ in range(3):
        tracker.update([], np.zeros((0, 3)))
    (new,) = tracker.update([box], one_hot(1))
    assert new.track_id != first.track_id
