"""How fast recorded lectures are analyzed: `engage analyze` at its defaults on a generated 1080p H.264 lecture
(x264, B-frames, a keyframe every 250 frames, as cameras and screen recorders write them), against real time, against
the same command searching every analyzed frame with every view of the model card (`--search-period 0 --views all`,
as engage did before issue 43), and
against two decoding floors: OpenCV grabbing every frame, and PyAV decoding what `analyze` decodes at 2 frames a
second (the frames other frames refer to, and the analyzed ones as pictures), each doing nothing else.

Run: python bench/bench_recordings.py [--seconds 60] [--runs 3] [--budget] [--jobs] [--where] [--lecture 5]
`--where` also prints where the time of one `engage analyze` goes (bench/where_analyze.py).
`--lecture N` (default 5) also times a lecture of the clip N times over (a 5-minute lecture at the default), where
the start-up (printed: `engage analyze` on the clip's first second) counts less.
`--budget` also prints what one analyzed frame costs at each YuNet input width (detection, classification of the
faces found, faces found): the arithmetic of how fast `analyze` can be at its 2 analyzed frames a second.
Needs Debian's `ffmpeg` to encode the clip (apt-get install ffmpeg). Prints medians over the runs; the machine
is shared and noisy: compare medians and ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
from scenes import room_frames

from monitor.demo import write_frames


def lecture_clip(folder: Path, seconds: float) -> Path:
    """The generated room (bench/scenes.py) upscaled to 1080p and encoded with x264 by ffmpeg."""
    raw = write_frames(folder / "room.mp4", room_frames(seconds, 30), 30, (1280, 720))
    clip = folder / "lecture-1080p.mp4"
    encode = ["ffmpeg", "-v", "error", "-i", str(raw), "-vf", "scale=1920:1080", "-c:v", "libx264", "-preset", "fast"]
    subprocess.run([*encode, "-bf", "3", "-g", "250", "-pix_fmt", "yuv420p", str(clip)], check=True)
    return clip


def joined(clip: Path, times: int, out: Path) -> Path:
    """`clip` played `times` times over, as one recording (ffmpeg's concat demuxer: no re-encoding)."""
    listing = out.with_suffix(".txt")
    listing.write_text(f"file '{clip}'\n" * times)
    concat = ["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out)]
    subprocess.run(concat, check=True)
    return out


def cut(clip: Path, seconds: float, out: Path) -> Path:
    """The first `seconds` of `clip` (from its first keyframe, no re-encoding)."""
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(clip), "-t", str(seconds), "-c", "copy", str(out)], check=True)
    return out


def decoding_floor(clip: Path) -> float:
    capture = cv2.VideoCapture(str(clip))
    started = time.perf_counter()
    while capture.grab():
        pass
    capture.release()
    return time.perf_counter() - started


def pyav_floor(clip: Path) -> float:
    from monitor.source import PyAVVideo

    started = time.perf_counter()
    video = PyAVVideo(clip)
    for _ in video.frames(2.0):
        pass
    video.close()
    return time.perf_counter() - started


def analyze_seconds(clips: Path | list[Path], db: Path, *options: str) -> float:
    started = time.perf_counter()
    files = [str(clip) for clip in (clips if isinstance(clips, list) else [clips])]
    command = [sys.executable, "-m", "engage.cli", "analyze", *files, "--db", str(db), *options]
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def frame_budget(clip: Path, widths: tuple[int, ...] = (1280, 960, 640)) -> None:
    """Median ms per analyzed frame (at analyze's default 2 frames/s) for detection and classification by width."""
    from monitor.perception.align import face_crop
    from monitor.perception.detect import create_detector
    from monitor.perception.model import ExpressionClassifier
    from monitor.source import open_capture, sample_video

    frames = [frame.image for frame in sample_video(open_capture(str(clip)), 2.0)]
    classifier = ExpressionClassifier()
    for width in widths:
        detector = create_detector("yunet", 0.6)
        detector.detect_width = width
        detect_ms, classify_ms, found = [], [], []
        for image in frames:
            started = time.perf_counter()
            faces = detector.detect(image)
            detected = time.perf_counter()
            classifier.predict([face_crop(image, face) for face in faces])
            detect_ms.append((detected - started) * 1e3)
            classify_ms.append((time.perf_counter() - detected) * 1e3)
            found.append(len(faces))
        print(
            f"YuNet at {width} px wide: detection {statistics.median(detect_ms):.1f} ms, classification "
            f"{statistics.median(classify_ms):.1f} ms per analyzed frame; faces found: median "
            f"{statistics.median(found):g}, fewest {min(found)}, of 6"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", action="store_true", help="also the cost of one analyzed frame by YuNet width")
    parser.add_argument("--jobs", action="store_true", help="also two recordings with --jobs 1 against --jobs 2")
    parser.add_argument("--where", action="store_true", help="also where the time goes (bench/where_analyze.py)")
    parser.add_argument(
        "--lecture", type=int, default=5, help="also a lecture of the clip this many times over (0: not)"
    )
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        sys.exit("needs ffmpeg to encode the H.264 clip (Debian: apt-get install ffmpeg)")
    with tempfile.TemporaryDirectory() as folder:
        clip = lecture_clip(Path(folder), args.seconds)
        floor = statistics.median(decoding_floor(clip) for _ in range(args.runs))
        skipping = statistics.median(pyav_floor(clip) for _ in range(args.runs))
        walls, searching = [], []
        for k in range(args.runs):  # alternated, so both see the same machine
            walls.append(analyze_seconds(clip, Path(folder) / f"{k}.db"))
            searching.append(analyze_seconds(clip, Path(folder) / f"s{k}.db", "--search-period", "0", "--views", "all"))
        wall, every = statistics.median(walls), statistics.median(searching)
        start = statistics.median(
            analyze_seconds(cut(clip, 1.0, Path(folder) / f"first-{k}.mp4"), Path(folder) / f"first-{k}.db")
            for k in range(args.runs)
        )
        if args.lecture:
            lecture = joined(clip, args.lecture, Path(folder) / "lecture.mp4")
            length = args.lecture * args.seconds
            whole = statistics.median(analyze_seconds(lecture, Path(folder) / f"l{k}.db") for k in range(args.runs))
            print(
                f"{length / 60:g} min lecture (the clip {args.lecture} times over): engage analyze {whole:.1f} s "
                f"({length / whole:.1f}x real time, start-up included)"
            )
        if args.budget:
            frame_budget(clip)
        if args.where:
            subprocess.run([sys.executable, str(Path(__file__).with_name("where_analyze.py")), str(clip)], check=True)
        if args.jobs:
            pair = [clip, Path(folder) / "second.mp4"]
            shutil.copy(clip, pair[1])
            jobs = {n: [] for n in (1, 2)}
            for k in range(args.runs):
                for n in jobs:
                    jobs[n].append(analyze_seconds(pair, Path(folder) / f"j{n}-{k}.db", "--jobs", str(n)))
            one, two = (statistics.median(jobs[n]) for n in (1, 2))
            print(f"two recordings: --jobs 1 {one:.1f} s, --jobs 2 {two:.1f} s ({one / two:.2f}x)")
    print(
        f"{args.seconds:g} s of 1080p H.264 lecture: engage analyze {wall:.1f} s ({args.seconds / wall:.1f}x real "
        f"time, start-up included; start-up and a 1 s recording {start:.2f} s); searching every analyzed frame "
        f"with every view (engage before issue 43: "
        f"--search-period 0 --views all) {every:.1f} s ({args.seconds / every:.1f}x); "
        f"decoding floors: OpenCV every frame {floor:.1f} s ({args.seconds / floor:.1f}x), PyAV as analyze decodes "
        f"{skipping:.1f} s ({args.seconds / skipping:.1f}x) (medians of {args.runs})"
    )


if __name__ == "__main__":
    main()
