"""Where the time of `engage analyze` goes: each thread's CPU, and the analysis thread's parts.

Run: python bench/where_analyze.py RECORDING (bench_recordings.py --where runs it on its 1080p lecture)
Runs `engage analyze RECORDING` in this fresh process (so its imports count) into a new store, the main thread
under cProfile (which slows it a little), every thread's CPU time read from /proc (Linux). Prints the CPU seconds
of each thread that used any, and the main thread's start-up and finish, full searches, local searches,
classification and the whole pipeline. One run: run it a few times on a shared machine.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PARTS = {  # the main thread's parts: a function of the pipeline (file, function name) and what it does
    "full searches": ("follow.py", "_search"),
    "local searches (crops and YuNet)": ("follow.py", "_refind"),
    "classification (crops and the model)": ("model.py", "predict"),
    "the pipeline in all": ("pipeline.py", "process"),
}


def thread_cpu() -> dict[int, float]:
    """CPU seconds of each thread of this process, by native thread id."""
    seconds = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / TICK
    return seconds


def main() -> None:
    started = time.perf_counter()
    recording = sys.argv[1]
    names: dict[int, str] = {}
    last: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:  # threads end before the command returns: keep each one's last reading
        while not done.wait(0.02):
            names.update({t.native_id: t.name for t in threading.enumerate() if t.native_id})
            last.update(thread_cpu())

    sampler = threading.Thread(target=sample, name="sampler", daemon=True)
    sampler.start()
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory() as folder:
        profile.enable()
        from engage.cli import main as engage

        engage(["analyze", recording, "--db", os.path.join(folder, "where.db")])
        profile.disable()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    last.update(thread_cpu())
    print(f"engage analyze {os.path.basename(recording)}: {wall:.2f} s wall, {time.process_time():.2f} CPU s in all")
    for tid, cpu in sorted(last.items(), key=lambda item: -item[1]):
        name = "main" if tid == threading.main_thread().native_id else names.get(tid, "native (FFmpeg, ONNX Runtime)")
        if cpu >= 0.05 and name != "sampler":
            print(f"  thread {name}: {cpu:.2f} CPU s")
    stats = pstats.Stats(profile).stats  # (file, line, function) -> (calls, primitive calls, own s, cumulative s, _)
    analysis = sum(v[3] for k, v in stats.items() if k[0].endswith("run.py") and k[2] == "run_analyze")
    print(f"  main thread: start-up and finish {wall - analysis:.2f} s, the analysis {analysis:.2f} s, of which:")
    for part, (file, function) in PARTS.items():
        matching = [v for k, v in stats.items() if k[0].endswith(file) and k[2] == function]
        calls, seconds = sum(v[0] for v in matching), sum(v[3] for v in matching)
        print(f"    {part}: {seconds:.2f} s in {calls} calls")


if __name__ == "__main__":
    main()
