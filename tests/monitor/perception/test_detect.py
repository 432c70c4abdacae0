import subprocess
import sys

import cv2
import numpy as np
import pytest

from monitor.demo import face_positions, portrait, render_frame
from monitor.errors import EngageError
from monitor.perception.detect import DETECTORS, HaarDetector, YuNetDetector, _grid, create_detector


def small_faces_frame(head_sizes: list[int]) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """A 1280x720 frame with portrait heads of the given widths in a row; (x, y, width) of each head."""
    frame = np.full((720, 1280, 3), (70, 64, 60), np.uint8)
    head, placed, x = portrait(), [], 20
    for size in head_sizes:
        tile = cv2.resize(head, (size, round(size * head.shape[0] / head.shape[1])), interpolation=cv2.INTER_AREA)
        frame[300 : 300 + tile.shape[0], x : x + size] = tile
        placed.append((x, 300, size))
        x += size + 30
    return frame, placed


def inside(box, x, y, size, margin=10):
    """Whether a box lies within the head tile at (x, y) of width `size` (tiles keep the portrait's 190:220 shape)."""
    height = size * 220 / 190
    return x - margin <= box.x and box.x + box.w <= x + size + margin and y - margin <= box.y <= y + height


def test_registry_builds_each_detector_and_rejects_an_unknown_name():
    assert isinstance(create_detector(), YuNetDetector)
    assert isinstance(create_detector("haar"), HaarDetector)
    assert set(DETECTORS) == {"yunet", "haar"}
    with pytest.raises(EngageError, match="unknown face detector 'mtcnn': choose one of yunet, haar"):
        create_detector("mtcnn")


@pytest.mark.parametrize("name", ["yunet", "haar"])
def test_each_detector_finds_every_face_of_a_multi_face_frame_with_boxes_mapped_back(name):
    frame = render_frame(1280, 720, 6, t=0.0)
    faces = create_detector(name).detect(frame)
    assert len(faces) == 6
    for x, y, size in face_positions(1280, 720, 6):
        assert sum(inside(f.box, x, y, size) and f.box.w > size * 0.3 for f in faces) == 1


def test_yunet_finds_the_portrait_with_landmarks_where_the_eyes_and_mouth_are():
    (face,) = YuNetDetector().detect(portrait())
    assert face.score > 0.8 and face.box.w > 60
    right_eye, left_eye, nose, right_mouth, left_mouth = face.landmarks
    assert right_eye[0] < nose[0] < left_eye[0]  # the face's right eye is on the image's left
    assert right_eye[1] < nose[1] < right_mouth[1] and left_eye[1] < nose[1] < left_mouth[1]
    box = face.box
    assert all(box.x <= px <= box.x + box.w and box.y <= py <= box.y + box.h for px, py in face.landmarks)


def test_yunet_finds_faces_of_20_px_in_a_720p_frame_at_the_default_width():
    frame, heads = small_faces_frame([44, 48, 56, 64, 80])  # faces of about 21-38 px inside the heads
    faces = YuNetDetector().detect(frame)
    for x, y, size in heads:
        assert any(inside(f.box, x, y, size) for f in faces), (x, size)
    assert min(f.box.w for f in faces) <= 22


@pytest.mark.parametrize("name", ["yunet", "haar"])
def test_grey_four_channel_tiny_and_empty_frames_do_not_crash(name):
    detector = create_detector(name)
    grey = cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY)
    assert len(detector.detect(grey)) == 1
    assert len(detector.detect(cv2.cvtColor(portrait(), cv2.COLOR_BGR2BGRA))) == 1
    assert detector.detect(np.zeros((1, 1, 3), np.uint8)) == []
    assert detector.detect(render_frame(640, 360, 3, 0.0, absent={0, 1, 2})) == []


def test_haar_has_no_landmarks_so_crops_stay_boxes():
    (face,) = HaarDetector().detect(portrait())
    assert face.landmarks is None


@pytest.mark.parametrize("content", [None, b"garbage" * 40], ids=["missing", "corrupt"])
def test_missing_or_corrupt_detector_file_is_one_line_exit_2(tmp_path, tiny_model, lecture_video, content):
    model = tmp_path / "yunet.onnx"
    if content:
        model.write_bytes(content)
    db = tmp_path / "s.db"
    code = (
        "import sys; from pathlib import Path; import monitor.perception.detect as d; "
        f"d.default_yunet_path = lambda: Path({str(model)!r}); from engage.cli import main; "
        f"sys.exit(main(['analyze', {str(lecture_video)!r}, '--model', {str(tiny_model)!r}, '--db', {str(db)!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    problem = "is missing" if content is None else "could not be loaded (not a YuNet ONNX file)"
    assert done.stderr.strip().splitlines() == [f"engage: error: face detector model {model} {problem}"]
    assert not db.exists()


@pytest.mark.parametrize("max_px", [307_200, 210_000])
def test_a_search_by_parts_finds_the_faces_a_whole_search_finds_small_large_and_across_the_parts(max_px):
    # heads of 40-300 px: faces of about 20-140 px, some across the middle where the parts meet
    frame, placed = small_faces_frame([40, 48, 60, 90, 160, 300])
    whole = YuNetDetector().detect(frame)
    parts = YuNetDetector(max_input_px=max_px).detect(frame)
    assert len(whole) == len(parts) == len(placed)
    for face in parts:
        best = max(whole, key=lambda other: other.box.iou(face.box))
        assert best.box.iou(face.box) >= 0.7 and face.landmarks is not None
        np.testing.assert_allclose(face.landmarks, best.landmarks, atol=0.15 * best.box.w)


def test_parts_are_a_grid_of_at_most_the_pixels_asked_for():
    assert _grid(1280, 720, 307_200) == (2, 2) and _grid(1280, 720, 210_000) == (3, 2)
    assert _grid(1280, 720, 10) == (3, 3)  # the finest grid when none fits
