import cv2
import numpy as np
import pytest

from monitor.demo import portrait
from monitor.errors import EngageError
from training.aligned import align_dataset, runtime_crop
from training.config import TrainConfig
from training.data import LabelledImages


def cut(margin: float) -> np.ndarray:
    """A 48x48 grey face cut from the bundled portrait with `margin` of its face width around the face."""
    grey = cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY)
    x, y, side = 47, 60, 92  # the portrait's face box, about
    pad = round(margin * side)
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return cv2.resize(padded[y : y + side + 2 * pad, x : x + side + 2 * pad], (48, 48), interpolation=cv2.INTER_AREA)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_faces_framed_loosely_or_tightly_come_out_framed_alike():
    from monitor.perception.detect import YuNetDetector

    detector = YuNetDetector(min_score=0.5)
    tight, loose = cut(0.0), cut(0.3)
    tight_crop, loose_crop = runtime_crop(detector, tight), runtime_crop(detector, loose)
    assert tight_crop.shape == loose_crop.shape == (48, 48)
    assert difference(tight_crop, loose_crop) < difference(tight, loose) / 3


def test_a_dataset_keeps_the_faces_the_detector_misses_and_says_how_many_it_reframed():
    noise = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    images = np.stack([cut(0.3), noise])
    data = LabelledImages("faces", images, np.eye(3, dtype=np.float32)[[0, 1]], np.array(["train"] * 2), np.eye(2))
    aligned = align_dataset(data)
    assert aligned.source == "faces (runtime crops of 1 of 2 faces)"
    assert difference(aligned.images[0], images[0]) > 5 and np.array_equal(aligned.images[1], noise)
    assert np.array_equal(aligned.targets, data.targets) and np.array_equal(data.images, images)  # a copy
    assert align_dataset(data) is aligned  # the next stage of a run aligns nothing again


def test_align_refuses_options_that_match_faces_by_their_pixels(tmp_path):
    with pytest.raises(EngageError, match="--align re-frames the faces"):
        TrainConfig(data=[tmp_path], align=True, blend_labels=tmp_path)
