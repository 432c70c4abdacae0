import csv

import numpy as np
import pytest

from engage.cli import main
from monitor.errors import EngageError
from tests.training.fer_fixtures import write_fer2013_csv, write_ferplus, write_image_folders
from training.data import has_clear_majority, load_dataset
from training.labels import LabelMapping


def test_default_mapping_and_overrides():
    mapping = LabelMapping()
    assert [mapping.class_index(e) for e in ("happy", "surprise", "neutral", "sad", "contempt")] == [0, 0, 1, 2, 2]
    custom = LabelMapping.parse("surprise=neutral, disgust=drop")
    assert custom.class_index("surprise") == 1 and custom.class_index("disgust") is None
    with pytest.raises(EngageError, match="unknown classes"):
        LabelMapping.parse("happy=joyful")
    with pytest.raises(EngageError, match="unknown emotion"):
        LabelMapping.parse("hapy=positive")


@pytest.mark.parametrize("mapping", ["happy=joyful", "hapy=positive", "happy"])
def test_a_bad_mapping_is_one_line_and_exit_2(mapping, capsys):
    assert main(["train", "--data", "nowhere.csv", "--mapping", mapping]) == 2
    err = capsys.readouterr().err
    assert err.startswith("engage: error:") and len(err.strip().splitlines()) == 1


def test_the_class_matrix_sums_the_kept_emotions_into_their_classes():
    mapping = LabelMapping.parse("disgust=drop, surprise=neutral")
    assert mapping.emotions == ("neutral", "happy", "surprise", "sad", "angry", "fear", "contempt")
    matrix = mapping.class_matrix()
    assert matrix.shape == (7, 3) and (matrix.sum(axis=1) == 1).all()
    assert [int(row.argmax()) for row in matrix] == [1, 0, 1, 2, 2, 2, 2]


@pytest.mark.parametrize("layout", ["csv", "folders", "ferplus"])
def test_every_layout_reads_splits_and_labels(tmp_path, layout):
    writer = {"csv": write_fer2013_csv, "folders": write_image_folders, "ferplus": write_ferplus}[layout]
    path = writer(tmp_path / "fer2013.csv" if layout == "csv" else tmp_path)
    data = load_dataset(path, LabelMapping())
    assert data.images.shape == (42, 48, 48) and data.images.dtype == np.uint8
    assert {s: int((data.splits == s).sum()) for s in ("train", "val", "test")} == {"train": 14, "val": 14, "test": 14}
    np.testing.assert_allclose(data.targets.sum(axis=1), 1.0)
    assert data.emotions.shape == (42, 8)
    np.testing.assert_allclose(data.emotions @ LabelMapping().class_matrix(), data.targets)
    if layout == "ferplus":
        assert data.skipped["no image name (not a face)"] == 1


def test_fer2013_labels_are_mapped_from_emotion_codes(tmp_path):
    data = load_dataset(write_fer2013_csv(tmp_path / "f.csv", per_usage=7), LabelMapping())
    # codes 0..6 = angry disgust fear happy sad surprise neutral
    assert data.labels[:7].tolist() == [2, 2, 2, 0, 2, 0, 1]


def test_ferplus_soft_labels_are_vote_shares_and_majority_is_hard(tmp_path):
    path = write_ferplus(tmp_path, per_usage=7)
    soft = load_dataset(path, LabelMapping(), soft=True)
    hard = load_dataset(path, LabelMapping(), soft=False)
    # first row: 7 neutral + 3 happiness votes
    np.testing.assert_allclose(soft.targets[0], [0.3, 0.7, 0.0])
    np.testing.assert_allclose(hard.targets[0], [0.0, 1.0, 0.0])
    np.testing.assert_allclose(soft.emotions[0], [0.7, 0.3, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(hard.emotions[0], [1, 0, 0, 0, 0, 0, 0, 0])


@pytest.mark.parametrize(
    ("votes", "clear"),
    [
        ([6, 4, 0, 0, 0, 0, 0, 0, 0, 0], True),
        ([5, 5, 0, 0, 0, 0, 0, 0, 0, 0], False),  # a tie is no majority
        ([4, 3, 1, 1, 1, 0, 0, 0, 0, 0], True),  # the three single votes are outliers: 4 of 7
        ([4, 3, 2, 1, 0, 0, 0, 0, 0, 0], False),  # 4 of 9
        ([0, 0, 0, 0, 0, 0, 0, 0, 7, 3], True),  # a clear "unknown" (excluded as not an emotion)
    ],
)
def test_clear_majority_is_the_ferplus_authors_rule(votes, clear):
    assert has_clear_majority(np.array(votes, np.float32)) is clear


def test_ferplus_clear_majority_keeps_only_faces_with_one(tmp_path):
    path = write_ferplus(tmp_path, per_usage=7)
    with path.open("a", newline="") as handle:  # 4 of 9 counted votes: the plurality, not a clear majority
        csv.writer(handle).writerow(["PrivateTest", "fer0000014.png", 4, 3, 2, 1, 0, 0, 0, 0, 0, 0])
    every = load_dataset(path, LabelMapping())
    clear = load_dataset(path, LabelMapping(), clear_majority=True)
    assert len(every.images) == len(clear.images) + 1 == 22
    assert clear.skipped["no clear majority"] == 1
    np.testing.assert_array_equal(every.labels[:-1], clear.labels)


def test_ferplus_emotion_targets_keep_only_the_mapped_emotions(tmp_path):
    path = write_ferplus(tmp_path, per_usage=7)
    data = load_dataset(path, LabelMapping.parse("happy=drop"), soft=True)
    assert data.emotions.shape[1] == 7
    np.testing.assert_allclose(data.emotions[0], [1, 0, 0, 0, 0, 0, 0])  # the 3 happiness votes are gone
    np.testing.assert_allclose(data.targets[0], [0.0, 1.0, 0.0])


def test_fer2013_csv_bad_rows_name_file_and_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("emotion,pixels,Usage\n3," + " ".join(["1"] * 2304) + ",Training\n3,1 2 3,Training\n")
    with pytest.raises(EngageError, match=r"bad.csv row 3: expected 2304 grey levels"):
        load_dataset(path, LabelMapping())
    path.write_text("emotion,pixels,Usage\n9," + " ".join(["1"] * 2304) + ",Training\n")
    with pytest.raises(EngageError, match=r"bad.csv row 2: unknown emotion '9'"):
        load_dataset(path, LabelMapping())


def test_missing_or_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(EngageError, match="no such file or folder"):
        load_dataset(tmp_path / "absent", LabelMapping())
    (tmp_path / "train").mkdir()
    with pytest.raises(EngageError, match="train: missing or empty"):
        load_dataset(tmp_path, LabelMapping())
    (tmp_path / "train" / "bored").mkdir()
    with pytest.raises(EngageError, match="unknown emotion folder"):
        load_dataset(tmp_path, LabelMapping())


def test_ferplus_rows_that_do_not_match_images_are_an_error(tmp_path):
    path = write_ferplus(tmp_path, per_usage=2)
    with path.open("a", newline="") as handle:
        csv.writer(handle).writerow(["Training", "fer9999999.png", 10, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(EngageError, match=r"fer2013new.csv row 9: image .*fer9999999.png is missing"):
        load_dataset(path, LabelMapping())


def test_super_resolution_without_its_model_or_opencv_contrib_is_a_clear_error(tmp_path):
    from training.superres import upscale_dataset

    data = load_dataset(write_fer2013_csv(tmp_path / "f.csv", per_usage=1), LabelMapping())
    with pytest.raises(EngageError, match=r"opencv-contrib-python|ESPCN_x4\.pb not found"):
        upscale_dataset(data, tmp_path / "ESPCN_x4.pb", 64)
