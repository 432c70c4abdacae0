"""The head-pose fit runs end to end on a folder laid out like ../shared/data/headpose and writes a card the
runtime loads."""

import subprocess
import sys

import cv2

from monitor.demo import render_frame
from monitor.perception.pose import HeadPoseModel
from monitor.types import Box, Detection
from tests.conftest import ROOT


def test_the_fit_writes_a_card_the_runtime_loads(tmp_path):
    (tmp_path / "images").mkdir()
    rows = ["file,yaw_deg,pitch_deg,roll_deg"]
    for k in range(8):
        cv2.imwrite(str(tmp_path / "images" / f"p{k}.jpg"), render_frame(450, 450, 1, k * 0.7))
        rows.append(f"p{k}.jpg,{k - 4}.0,{2 * k - 8}.0,0.0")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "headpose.json"
    command = [sys.executable, "-m", "training.headpose", str(tmp_path), "--out", str(out), "--folds", "2"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "yaw_mae_below_60" in done.stdout and "fitted on 8 faces of 8 photos" in done.stdout
    model = HeadPoseModel.load(out)
    assert model.card["data"]["faces"] == 8 and len(model.yaw) == len(model.pitch)
    assert model.estimate(Detection(Box(100, 100, 80, 100), 0.9)) is None
