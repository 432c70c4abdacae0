"""Head pose from YuNet's landmarks: the bundled regression, its conventions and its speed budget's inputs."""

import cv2
import numpy as np

from monitor.classify import classify_images
from monitor.demo import render_frame
from monitor.perception.detect import create_detector
from monitor.perception.model import ExpressionClassifier
from monitor.perception.pose import HeadPoseModel, pose_features
from monitor.types import Box, Detection


def test_a_frontal_face_looks_ahead_and_a_turned_one_turns_the_documented_way():
    model = HeadPoseModel.load()
    frame = render_frame(640, 360, 1, 0.0)
    (face,) = create_detector("yunet").detect(frame)
    (mirrored,) = create_detector("yunet").detect(np.ascontiguousarray(frame[:, ::-1]))
    for seen in (face, mirrored):
        yaw, pitch = model.estimate(seen)
        assert abs(yaw) < 10 and abs(pitch) < 25  # the bundled portrait looks into the camera
    box = Box(100, 100, 80, 100)
    eyes_and_mouth = [[120, 140], [160, 140], [125, 185], [155, 185]]

    def turned(nose_x: float) -> float:
        points = np.array([*eyes_and_mouth[:2], [nose_x, 165], *eyes_and_mouth[2:]], np.float32)
        return model.estimate(Detection(box, 0.9, points))[0]

    assert turned(126) > 8 > -8 > turned(154)  # nose toward the image's left: yaw > 0


def test_features_ignore_where_the_face_is_and_how_large():
    points = np.array([[120, 140], [160, 140], [140, 165], [125, 185], [155, 185]], np.float64)
    near = pose_features(points, Box(100, 100, 80, 100))
    far = pose_features(points * 0.5 + 300, Box(350, 350, 40, 50))
    np.testing.assert_allclose(near, far, atol=1e-9)


def test_a_face_without_landmarks_has_no_pose():
    assert HeadPoseModel.load().estimate(Detection(Box(0, 0, 50, 50), 0.9)) is None


def test_classify_writes_yaw_and_pitch_for_every_yunet_face(tmp_path, tiny_model):
    cv2.imwrite(str(tmp_path / "room.png"), render_frame(640, 360, 3, 0.0))
    table = classify_images(
        [tmp_path], ExpressionClassifier(tiny_model), create_detector("yunet"), HeadPoseModel.load()
    )
    assert len(table) == 3 and table["yaw"].notna().all() and table["pitch"].notna().all()
    haar = classify_images([tmp_path], ExpressionClassifier(tiny_model), create_detector("haar"), HeadPoseModel.load())
    assert haar["yaw"].isna().all()  # Haar gives no landmarks
