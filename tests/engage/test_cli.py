"""The `engage` command end to end, in subprocesses, on a synthetic lecture video."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.demo import write_video
from monitor.perception.model import ModelCard
from monitor.store import STALE_AFTER, open_store
from monitor.tables import interval_table
from tests.conftest import ROOT, run_engage, wait_for_intervals

MEDIA_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".npy", ".mp4", ".avi", ".mkv"}


def test_analyze_stores_intervals_on_media_time(tmp_path, tiny_model, lecture_video):
    db = tmp_path / "sessions" / "engage.db"
    done = run_engage(
        "analyze", lecture_video, "--fps", "2", "--interval", "4", "--model", tiny_model, "--db", db, "--name", "week 1"
    )
    assert done.returncode == 0, done.stderr
    assert "only per-interval aggregates" in done.stderr
    with open_store(db) as store:
        (session,) = store.sessions()
        table = interval_table(store.intervals(session.id))
    assert session.status == "completed" and session.name == "week 1"
    assert session.settings["fps"] == 2
    assert session.settings["model_version"] == ModelCard.read(tiny_model.with_suffix(".json")).version
    assert table["offset_s"].tolist() == [0.0, 4.0, 8.0]
    assert table["frames"].tolist() == [8, 8, 8]
    assert table["faces_max"].tolist() == [3, 2, 3]  # the third face is away from 4 s to 8 s
    assert table["faces_mean"].tolist() == [3.0, 2.0, 3.0]
    assert (table["start_wall"].diff().dropna().dt.total_seconds() == 4.0).all()


def test_session_folder_holds_no_images_after_a_run(tmp_path, tiny_model, lecture_video):
    folder = tmp_path / "sessions"
    done = run_engage("analyze", lecture_video, "--model", tiny_model, "--db", folder / "engage.db", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(p.suffix.lower() not in MEDIA_SUFFIXES for p in written), written


def test_live_on_a_file_without_display_falls_back_to_headless(tmp_path, tiny_model, lecture_video):
    db = tmp_path / "s.db"
    done = run_engage("live", "--source", lecture_video, "--model", tiny_model, "--db", db, "--interval", "5")
    assert done.returncode == 0, done.stderr
    assert "no display found" in done.stderr
    with open_store(db) as store:
        (session,) = store.sessions()
        assert session.status == "completed"
        assert (
            interval_table(store.intervals(session.id))["frames"].sum() >= 15
        )  # 12 s of video at 2 fps, real-time pacing


def test_live_with_the_presenter_view_serves_it_while_the_lecture_runs_and_stops_it_after(tmp_path, lecture_video):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    command = [sys.executable, "-m", "engage.cli", "live", "--source", str(lecture_video), "--presenter"]
    process = subprocess.Popen(
        [*command, "--db", str(tmp_path / "s.db"), "--room", "B12"], stderr=subprocess.PIPE, text=True, env=env
    )
    lines = iter(process.stderr.readline, "")
    url = next(line for line in lines if "presenter view" in line).split("open ")[1].split()[0]
    page = ""
    for _ in range(100):
        try:
            page = urllib.request.urlopen(url, timeout=2).read().decode()
            break
        except OSError:
            time.sleep(0.2)
    assert "engage · presenter" in page and url.endswith("/presenter/")
    assert process.wait(timeout=60) == 0
    with pytest.raises(OSError):  # the lecture ended, and its presenter view with it
        urllib.request.urlopen(url, timeout=2)


def test_sigkill_keeps_closed_intervals_and_marks_the_session_interrupted(tmp_path, tiny_model, lecture_video):
    db = tmp_path / "s.db"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("DISPLAY", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engage.cli",
            "live",
            "--source",
            str(lecture_video),
            "--no-preview",
            "--interval",
            "1",
            "--model",
            str(tiny_model),
            "--db",
            str(db),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    try:
        assert wait_for_intervals(db, 3) >= 3, "live session wrote no intervals"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    with sqlite3.connect(db) as reader:
        indexes = [row[0] for row in reader.execute("SELECT idx FROM intervals ORDER BY idx")]
    assert indexes == list(range(len(indexes))) and len(indexes) >= 3
    listed = run_engage("sessions", "--db", db)
    assert listed.returncode == 0 and "running" in listed.stdout  # its heartbeat is still fresh
    silent_since = (datetime.now(UTC) - STALE_AFTER - timedelta(seconds=1)).isoformat()
    with sqlite3.connect(db) as writer:  # the heartbeat ages as if minutes had passed
        writer.execute("UPDATE sessions SET heartbeat_at = ?", (silent_since,))
    listed = run_engage("sessions", "--db", db)
    assert listed.returncode == 0 and "interrupted" in listed.stdout
    with sqlite3.connect(db) as reader:  # a reading command never writes the status
        assert reader.execute("SELECT status FROM sessions").fetchone()[0] == "running"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "nowhere.mp4"], "video file nowhere.mp4 not found"),
        (["live", "--source", "7"], "camera 7 could not be opened"),
        (["live", "--source", "rtsp://127.0.0.1:9/x"], "stream rtsp://127.0.0.1:9/x could not be opened"),
        (["analyze", "VIDEO", "--fps", "0"], "--fps must be between"),
        (["analyze", "VIDEO", "--fps", "fast"], "--fps must be a number"),
        (["analyze", "VIDEO", "--interval", "0.1"], "--interval must be between"),
        (["analyze", "VIDEO", "--detector", "mtcnn"], "unknown face detector 'mtcnn': choose one of yunet, haar"),
        (["analyze", "VIDEO", "--face-score", "1.5"], "--face-score must be between"),
        (["analyze", "VIDEO", "--detect-period", "-1"], "--detect-period must be between"),
        (["analyze", "VIDEO", "--model", "MISSING"], "missing.onnx is missing"),
        (["analyze", "VIDEO", "--db", "BLOCKED/sub/s.db"], "cannot be created"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_running_session(tmp_path, tiny_model, lecture_video, args, message):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    replace = {"VIDEO": str(lecture_video), "MISSING": str(tmp_path / "missing.onnx"), "BLOCKED": str(blocker)}
    args = [replace.get(a, a.replace("BLOCKED", str(blocker))) for a in args]
    db = tmp_path / "s.db"
    extra = [] if "--model" in args else ["--model", str(tiny_model)]
    extra += [] if "--db" in args else ["--db", str(db)]
    done = run_engage(*args, *extra)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in done.stderr, done.stderr
    if db.exists():
        assert all(s.status != "running" for s in open_store(db).sessions())


def test_corrupt_model_is_one_line_error(tmp_path, lecture_video, tiny_model):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"garbage" * 50)
    broken.with_suffix(".json").write_text(Path(tiny_model).with_suffix(".json").read_text())
    done = run_engage("analyze", lecture_video, "--model", broken, "--db", tmp_path / "s.db")
    assert done.returncode == 2 and "could not be loaded" in done.stderr and "Traceback" not in done.stderr


def test_help_does_not_import_tensorflow():
    code = "import sys; from engage.cli import build_parser; build_parser(); print('tensorflow' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "False"
    assert run_engage("--help").returncode == 0


def test_classify_images_with_detection_and_as_crops(tmp_path, tiny_model):
    import cv2

    from monitor.demo import portrait, render_frame

    cv2.imwrite(str(tmp_path / "class.png"), render_frame(640, 360, 3, 0.0))
    cv2.imwrite(str(tmp_path / "crop.jpg"), cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY)[60:160, 50:150])
    out = tmp_path / "faces.csv"
    done = run_engage("classify", tmp_path / "class.png", "--model", tiny_model, "--csv", out)
    assert done.returncode == 0, done.stderr
    import pandas as pd

    table = pd.read_csv(out)
    assert len(table) == 3 and list(table.columns[:7]) == ["file", "face", "x", "y", "w", "h", "label"]
    crops = run_engage("classify", tmp_path / "crop.jpg", "--no-detect", "--model", tiny_model)
    assert crops.returncode == 0 and "1 face(s) in 1 image(s)" in crops.stderr
    assert any(label in crops.stdout for label in ("positive", "neutral", "negative"))
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    failed = run_engage("classify", bad, "--model", tiny_model)
    assert failed.returncode == 2 and "is not a readable image" in failed.stderr
    unknown = run_engage("classify", tmp_path / "class.png", "--detector", "dlib", "--model", tiny_model)
    assert unknown.returncode == 2 and unknown.stderr.strip().endswith("choose one of yunet, haar")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_analyze_stopped_by_a_signal_ends_cleanly_like_live(tmp_path, tiny_model, stop):
    video = write_video(tmp_path / "long.mp4", seconds=120, fps=10, faces=2)
    db = tmp_path / "s.db"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "engage.cli", "analyze", str(video), "--interval", "1", "--fps", "5"]
    process = subprocess.Popen(
        [*command, "--model", str(tiny_model), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    wait_for_intervals(db, 2)
    process.send_signal(stop)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "analysis stopped early" in err and "interrupted" in err
    with sqlite3.connect(db) as reader:
        status, ended = reader.execute("SELECT status, ended_at FROM sessions").fetchone()
        indexes = [row[0] for row in reader.execute("SELECT idx FROM intervals ORDER BY idx")]
    assert status == "interrupted" and ended is not None
    assert indexes == list(range(len(indexes))) and 2 <= len(indexes) < 120


def test_a_whole_live_session_never_imports_pandas_or_tensorflow(tmp_path, tiny_model, lecture_video):
    command = ["live", "--source", str(lecture_video), "--no-preview", "--model", str(tiny_model)]
    code = (
        "import sys; from engage.cli import main; "
        f"code = main({[*command, '--db', str(tmp_path / 's.db')]!r}); "
        "print(code, sorted(m for m in ('pandas', 'tensorflow', 'plotly', 'dash') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr


def test_training_commands_without_tensorflow_name_the_extra(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "class NoTensorFlow:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('tensorflow', 'keras'):\n"
        "            raise ModuleNotFoundError(name, name=name)\n"
        "sys.meta_path.insert(0, NoTensorFlow())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    command = [sys.executable, "-m", "engage.cli", "train", "--data", str(tmp_path / "x.csv")]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "pip install 'engage[train]'" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_output_cut_short_by_a_pipe_is_no_traceback(tmp_path):
    from tests.factories import ROOM, START, aggregate

    db = tmp_path / "s.db"
    with open_store(db) as store:
        sid = store.create_session("long", "camera 0", {}, START, room=ROOM, host="x")
        store.add_intervals(sid, [aggregate(i) for i in range(3000)])
    export = subprocess.Popen(
        [sys.executable, "-m", "engage.cli", "export", "1", "-o", "-", "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    export.stdout.read(100)
    export.stdout.close()  # `| head -c 100`
    assert export.wait(60) == 0
    assert b"Traceback" not in export.stderr.read()


def test_without_a_terminal_live_logs_one_line_per_interval(tmp_path, tiny_model, lecture_video):
    done = run_engage(
        "live",
        "--source",
        lecture_video,
        "--no-preview",
        "--interval",
        "4",
        "--model",
        tiny_model,
        "--db",
        tmp_path / "s.db",
    )
    assert done.returncode == 0, done.stderr
    status = [line for line in done.stderr.splitlines() if "analyzed" in line and "fps" in line]
    assert 2 <= len(status) <= 3, done.stderr  # 12 s at 4 s an interval (the last closes at the end), never 1/s
