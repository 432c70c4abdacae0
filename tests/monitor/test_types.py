import numpy as np

from monitor.core import engagement_index
from monitor.types import Box


def test_iou_of_identical_disjoint_and_half_overlapping_boxes():
    a = Box(0, 0, 10, 10)
    assert a.iou(a) == 1.0
    assert a.iou(Box(20, 20, 10, 10)) == 0.0
    assert abs(a.iou(Box(5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_crop_clips_negative_origin():
    frame = np.arange(100, dtype=np.uint8).reshape(10, 10)
    assert Box(-3, -3, 5, 5).crop(frame).shape == (2, 2)


def test_engagement_index_formula():
    probs = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.6, 0.2]], np.float32)
    np.testing.assert_allclose(engagement_index(probs), [1.0, 0.5, 0.0, 0.5])
