import cv2
import numpy as np

from monitor.demo import portrait
from monitor.perception.align import FER_LANDMARKS, alignment, face_crop
from monitor.perception.detect import HaarDetector, YuNetDetector
from monitor.types import Box, Detection


def turned(image, degrees, points):
    """The image turned by `degrees` about its centre, and the points turned with it."""
    turn = cv2.getRotationMatrix2D((image.shape[1] / 2, image.shape[0] / 2), degrees, 1.0)
    rotated = cv2.warpAffine(image, turn, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    return rotated, points @ turn[:, :2].T + turn[:, 2]


def eye_angle(points):
    (x, y) = points[1] - points[0]
    return np.degrees(np.arctan2(y, x))


def correlation(a, b):
    a, b = (cv2.cvtColor(cv2.resize(c, (64, 64)), cv2.COLOR_BGR2GRAY).astype(float).ravel() for c in (a, b))
    return float(np.corrcoef(a, b)[0, 1])


def test_alignment_maps_landmarks_onto_the_template_with_level_eyes():
    image = portrait()
    (face,) = YuNetDetector().detect(image)
    _, points = turned(image, 25, face.landmarks.astype(float))
    transform = alignment(points, FER_LANDMARKS)
    mapped = points @ transform[:, :2].T + transform[:, 2]
    assert abs(eye_angle(mapped) - eye_angle(FER_LANDMARKS)) < 1e-6
    assert np.abs(mapped - FER_LANDMARKS).max() < 0.08


def test_alignment_levels_a_rotated_face():
    image = cv2.copyMakeBorder(portrait(), 40, 40, 40, 40, cv2.BORDER_REPLICATE)
    (face,) = YuNetDetector().detect(image)
    upright = face_crop(image, face)
    for degrees in (-20, 20):
        rotated, points = turned(image, degrees, face.landmarks.astype(float))
        tilted = Detection(face.box, face.score, points.astype(np.float32))
        aligned, unlevelled = face_crop(rotated, tilted), face_crop(rotated, tilted, rotate=False)
        assert correlation(aligned, upright) > 0.95
        assert correlation(aligned, upright) > correlation(unlevelled, upright) + 0.05


def test_crop_frames_the_face_as_the_training_faces_are_framed():
    image = portrait()
    (face,) = YuNetDetector().detect(image)
    crop = face_crop(image, face)
    assert crop.shape[0] == crop.shape[1] and 0.9 < crop.shape[0] / face.box.w < 1.6
    big = cv2.copyMakeBorder(cv2.resize(crop, (192, 192)), 48, 48, 48, 48, cv2.BORDER_REPLICATE)
    (again,) = YuNetDetector().detect(big)
    assert np.abs((again.landmarks - 48) / 192 - FER_LANDMARKS).max() < 0.07


def test_without_landmarks_the_crop_is_the_box():
    image = portrait()
    (face,) = HaarDetector().detect(image)
    assert np.array_equal(face_crop(image, face), face.box.crop(image))
    assert face_crop(image, Detection(Box(0, 0, 10, 10), 1.0)).shape == (10, 10, 3)
