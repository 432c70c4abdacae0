"""Searching rarely and following locally: the faces found match a full search; entering and leaving faces."""

import numpy as np
import pytest

from monitor.consent import Zone
from monitor.demo import render_frame
from monitor.perception.detect import create_detector
from monitor.perception.follow import GUTTER, FaceFollower, FollowSettings
from monitor.track import match_boxes

FPS = 2.0


def follower(**settings) -> FaceFollower:
    detector = create_detector("yunet")
    return FaceFollower(detector, detector.for_crops(), FollowSettings(**settings))


def frames(seconds: float, absent=lambda t: frozenset(), faces: int = 4):
    return [(render_frame(960, 540, faces, k / FPS, absent(k / FPS)), k / FPS) for k in range(round(seconds * FPS))]


def test_followed_faces_match_a_full_search_of_the_same_frame_with_fresh_landmarks():
    following, full = follower(search_period_s=10.0), create_detector("yunet")
    searched = []
    for image, offset in frames(8.0):
        faces, was_searched = following.faces(image, offset)
        searched.append(was_searched)
        reference = full.detect(image)
        assert len(faces) == len(reference) == 4
        pairs = match_boxes([f.box for f in faces], [f.box for f in reference], 0.1)
        assert len(pairs) == 4 and min(faces[i].box.iou(reference[j].box) for i, j in pairs.items()) >= 0.8
        assert all(face.landmarks is not None and face.landmarks.shape == (5, 2) for face in faces)
    assert searched[0] and not any(searched[1:])  # the room is still: one search, then following
    assert following.searches == 1


def test_all_followed_faces_are_refound_in_one_local_search_a_frame():
    following = follower(search_period_s=10.0)
    searched_images = []
    local_detect = following.local.detect
    following.local.detect = lambda image: searched_images.append(image.shape) or local_detect(image)
    for image, offset in frames(3.0):
        faces, _ = following.faces(image, offset)
        assert len(faces) == 4
    tile = round(following.settings.face_px * following.settings.crop_factor)
    assert searched_images == [(tile, 4 * tile + 3 * GUTTER, 3)] * 5  # the four crops side by side, each frame


@pytest.mark.parametrize("motion", [True, False], ids=["motion-gated", "periodic-only"])
def test_a_face_that_enters_is_counted_within_one_search_period(motion):
    period = 3.0
    settings = {} if motion else {"motion_px": 10**9}  # without the motion test only the periodic search finds it
    following = follower(search_period_s=period, **settings)
    enters_at = 4.0
    counts = [
        (offset, len(following.faces(image, offset)[0]))
        for image, offset in frames(12.0, lambda t: {3} if t < enters_at else set())
    ]
    first_seen = next(offset for offset, count in counts if count == 4)
    assert all(count == 3 for offset, count in counts if offset < enters_at)
    assert enters_at <= first_seen <= enters_at + (1 / FPS if motion else period)
    assert all(count == 4 for offset, count in counts if offset >= first_seen)


def test_a_face_that_leaves_stops_being_counted_at_once_and_is_dropped_after_its_misses():
    following = follower(search_period_s=60.0, motion_px=10**9)
    leaves_at = 3.0
    counts = [
        len(following.faces(image, offset)[0])
        for image, offset in frames(6.0, lambda t: {0} if t >= leaves_at else set())
    ]
    left = round(leaves_at * FPS)
    assert counts[:left] == [4] * left and counts[left:] == [3] * (len(counts) - left)
    assert len(following._known) == 3  # its misses ran out: no longer looked for


def test_a_cut_to_another_picture_is_searched_at_once():
    following = follower(search_period_s=60.0)
    image, _ = frames(0.5)[0]
    assert following.faces(image, 0.0)[1]
    assert not following.faces(image, 0.5)[1]
    cut = np.full_like(image, 200)
    faces, searched = following.faces(cut, 1.0)
    assert searched and faces == []


def test_faces_in_an_opt_out_zone_are_never_followed():
    detector = create_detector("yunet")
    left_half = Zone.parse("0,0,0.5,1")
    following = FaceFollower(detector, detector.for_crops(), FollowSettings(search_period_s=60.0), (left_half,))
    for image, offset in frames(3.0):
        faces, _ = following.faces(image, offset)
        assert faces and all(face.box.x + face.box.w / 2 >= 480 for face in faces)
    assert all(f.face.box.x + f.face.box.w / 2 >= 480 for f in following._known)


def test_search_period_zero_searches_every_frame():
    following = follower(search_period_s=0.0)
    assert all(following.faces(image, offset)[1] for image, offset in frames(2.0))
