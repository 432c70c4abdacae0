import cv2

from monitor.demo import face_positions, portrait, render_frame
from monitor.detect import HaarDetector


def test_haar_finds_every_pasted_face_and_maps_boxes_back_from_the_downscaled_copy():
    frame = render_frame(1280, 720, 6, t=0.0)
    boxes = HaarDetector(detect_width=640).detect(frame)
    assert len(boxes) == 6
    for x, _y, size in face_positions(1280, 720, 6):
        assert any(b.x >= x - 10 and b.x + b.w <= x + size + 10 and b.w > size * 0.3 for b in boxes)


def test_detects_on_grey_frames_and_finds_nothing_on_blank():
    detector = HaarDetector()
    assert len(detector.detect(cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY))) == 1
    assert detector.detect(render_frame(640, 360, 3, 0.0, absent={0, 1, 2})) == []
