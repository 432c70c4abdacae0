"""Start-up benchmark: how long `engage --help` takes, and what `live`'s code path imports before the first frame.

Run: python bench/bench_startup.py [--runs 11]
Prints the median wall time of `engage --help` (a fresh interpreter each run), the heaviest imports it makes
(`python -X importtime`), and, for the modules `engage live` loads, their import time, the resident memory
they add and whether pandas, plotly, dash or TensorFlow are among them. The machine is shared and noisy:
compare medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

LIVE_MODULES = "engage.cli, engage.commands.record, monitor.run, monitor.preview, monitor.source, monitor.store.outbox"
HEAVY = ("pandas", "plotly", "dash", "tensorflow", "sqlalchemy", "numpy", "cv2")


def help_seconds(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "engage.cli", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def heaviest_help_imports(count: int = 5) -> list[tuple[str, float]]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "engage.cli", "--help"], capture_output=True, text=True, check=True
    )
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.removeprefix("import time:").split("|")
            if not name.startswith("  "):  # a top-level import, not one nested in another
                rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:count]


def live_imports() -> dict[str, object]:
    code = (
        "import json, sys, time, psutil; before = psutil.Process().memory_info().rss; t = time.perf_counter(); "
        f"import {LIVE_MODULES}; "
        "print(json.dumps({'seconds': time.perf_counter() - t, "
        "'rss_mib': (psutil.Process().memory_info().rss - before) / 2**20, "
        f"'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    times = help_seconds(args.runs)
    print(f"engage --help: median {statistics.median(times):.3f} s over {args.runs} runs (min {min(times):.3f} s)")
    for name, ms in heaviest_help_imports():
        print(f"  import {name}: {ms:.1f} ms cumulative")
    imports = [live_imports() for _ in range(5)]
    print(
        f"live's modules: median import {statistics.median(i['seconds'] for i in imports):.3f} s, "
        f"+{statistics.median(i['rss_mib'] for i in imports):.0f} MiB resident; "
        f"loaded: {', '.join(imports[0]['heavy'])}"
    )


if __name__ == "__main__":
    main()
