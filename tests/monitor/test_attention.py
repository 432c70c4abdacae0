"""Attention: the cone around the front, the camera or the room's own median front, and the share per interval."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.aggregate import IntervalAggregator
from monitor.attention import FacingCone, FrontDirection, facing_front
from monitor.errors import EngageError
from monitor.types import Box, FrameResult, TrackedFace
from tests.factories import START


def test_a_face_faces_the_front_within_both_half_angles():
    cone = FacingCone(30, 25)
    poses = [(0.0, 0.0), (29.0, -24.0), (31.0, 0.0), (0.0, -26.0), None]
    assert facing_front(poses, cone, FrontDirection()) == [True, True, False, False, None]


def test_auto_front_is_the_median_direction_seen_so_far():
    front = FrontDirection(auto=True)
    side_camera = [(40.0 + d, -10.0) for d in (-5, 0, 5, 2, -2)]  # the class looks 40 degrees off the camera axis
    assert facing_front(side_camera, FacingCone(), front) == [True] * 5
    assert facing_front([(40.0, -10.0), (-10.0, -10.0)], FacingCone(), front) == [True, False]
    assert facing_front(side_camera, FacingCone(), FrontDirection()) == [False] * 5  # the camera as front


@pytest.mark.parametrize("text", ["30", "a,b", "0,25", "30,91", "30,25,5"])
def test_a_bad_cone_is_one_error_naming_what_is_expected(text):
    with pytest.raises(EngageError, match="half-angles"):
        FacingCone.parse(text)


def test_cone_reads_and_prints_its_half_angles():
    assert FacingCone.parse("45,20") == FacingCone(45, 20) and str(FacingCone.parse("45,20")) == "45,20"


def _frame(offset: float, facing: list[bool | None]) -> FrameResult:
    faces = [TrackedFace(i, Box(10 * i, 0, 10, 10), np.array([0.2, 0.6, 0.2])) for i in range(len(facing))]
    return FrameResult(offset, faces, facing=facing)


def test_attention_is_the_share_of_posed_observations_facing_front_under_the_floor():
    aggregator = IntervalAggregator(10.0, START, min_faces=3)
    aggregator.add(_frame(1.0, [True, True, False, None]))  # 2 of 3 posed faces
    aggregator.add(_frame(2.0, [False, False, True]))  # 1 of 3
    aggregator.add(_frame(3.0, [True, True]))  # below the floor: not counted
    (interval,) = aggregator.flush(10.0)
    assert interval.attention == pytest.approx(3 / 6)
    (empty,) = IntervalAggregator(10.0, START, min_faces=3).flush(5.0)
    assert empty.attention is None
    none_posed = IntervalAggregator(10.0, START, min_faces=1)
    none_posed.add(_frame(1.0, [None]))  # Haar faces have no pose
    assert none_posed.flush(10.0)[0].attention is None


def test_the_preview_draws_each_face_direction_from_its_nose():
    from monitor.preview import direction_line
    from monitor.types import Heading

    assert direction_line(Heading((100.0, 100.0), 0.0, 0.0), 60) == ((100, 100), (100, 100))  # into the camera
    (_, _), (x, y) = direction_line(Heading((100.0, 100.0), 30.0, -30.0), 60)
    assert (x, y) == (70, 130)  # turned toward the image's left and down


def test_the_pipeline_gives_the_preview_a_heading_for_every_yunet_face(tmp_path, tiny_model):
    from monitor.demo import render_frame
    from tests.monitor.test_pipeline import make_pipeline

    result = make_pipeline(tmp_path, tiny_model).process(render_frame(640, 360, 3, 0.0), 0.0)
    assert len(result.headings) == len(result.faces) == 3 and all(h is not None for h in result.headings)
    assert result.facing == [True, True, True]
