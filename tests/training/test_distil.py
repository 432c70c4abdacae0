"""Targets blended from a second label set of the same faces."""

import numpy as np
import pytest

from monitor.errors import EngageError
from tests.training.fer_fixtures import face
from training.config import TrainConfig
from training.data import LabelledImages
from training.distil import append_aux_targets, blend_labels
from training.train import heads_crossentropy


def labelled(images, targets):
    targets = np.asarray(targets, np.float32)
    return LabelledImages("t", images, targets, np.array(["train"] * len(images)), targets)


def test_matched_faces_get_the_blend_and_the_others_keep_their_targets():
    faces = np.stack([face(seed) for seed in range(4)])
    votes = labelled(faces[:3], [[0.2, 0.8, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    noisy = np.clip(faces[[3, 1, 0]].astype(int) + 1, 0, 255).astype(np.uint8)  # JPEG-like noise, other order
    original = labelled(noisy, [[0, 0, 1], [0, 0, 1], [0, 1, 0]])

    blended, matched = blend_labels(votes, original, weight=0.25)

    assert matched == 2
    np.testing.assert_allclose(blended.targets[0], [0.15, 0.85, 0.0])  # face 0: 0.75 * votes + 0.25 * neutral
    np.testing.assert_allclose(blended.targets[1], [0.0, 0.75, 0.25])  # face 1: FER2013 said negative
    np.testing.assert_allclose(blended.targets[2], [1.0, 0.0, 0.0])  # face 2 is not in the second set
    np.testing.assert_allclose(blended.targets.sum(axis=1), 1.0)


def test_the_auxiliary_targets_follow_each_face_own_and_are_zero_where_unmatched():
    faces = np.stack([face(seed) for seed in range(3)])
    votes = labelled(faces, [[0.2, 0.8, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    original = labelled(faces[[1, 0]], [[0, 0, 1], [0, 1, 0]])

    both, matched = append_aux_targets(votes, original)

    assert matched == 2
    np.testing.assert_allclose(both.targets[:, :3], votes.targets)
    np.testing.assert_allclose(both.targets[:, 3:], [[0, 1, 0], [0, 0, 1], [0, 0, 0]])


def test_the_two_head_loss_adds_the_weighted_auxiliary_crossentropy_and_nothing_for_a_zero_target():
    def crossentropy(target, probabilities):
        return -np.sum(np.asarray(target) * np.log(probabilities))

    predicted = np.array([[0.7, 0.2, 0.1, 0.1, 0.3, 0.6]] * 2, np.float32)
    targets = np.array([[1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0]], np.float32)

    losses = np.asarray(heads_crossentropy(3, 0.5)(targets, predicted))

    expected = [crossentropy([1, 0, 0], [0.7, 0.2, 0.1]) + 0.5 * crossentropy([0, 0, 1], [0.1, 0.3, 0.6])]
    expected.append(crossentropy([0, 1, 0], [0.7, 0.2, 0.1]))
    np.testing.assert_allclose(losses, expected, rtol=1e-5)


@pytest.mark.parametrize(
    ("second", "options", "message"),
    [
        ("blend_labels", {"blend_weight": 0}, "--blend-weight 0"),
        ("blend_labels", {"head": "emotions"}, "use it with --head classes"),
        ("aux_labels", {"aux_weight": 0}, "--aux-weight 0: give a weight > 0"),
        ("aux_labels", {"head": "emotions"}, "use it with --head classes"),
    ],
)
def test_second_label_set_options_are_checked_before_any_data_is_read(tmp_path, second, options, message):
    with pytest.raises(EngageError, match=message):
        TrainConfig(data=[tmp_path / "none.csv"], out=tmp_path, **{second: tmp_path / "fer2013"}, **options)
