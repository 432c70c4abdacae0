"""Check that the runtime's dependencies resolve to wheels on every supported platform and Python.

For each pair, pip resolves pyproject.toml's [project.dependencies] as that machine would, accepting only wheels
(`pip install --dry-run --only-binary=:all: --platform ... --python-version ...`): a release that drops a platform's
wheels fails here before it fails on an instructor's laptop. Exact pins in [project.dependencies] fail too (they
belong in pylock.toml). Prints one line per pair; exits 1 if any pair fails. Needs the package index.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")


def _manylinux(arch: str, newest_glibc: int) -> list[str]:
    """Linux tags of a machine with glibc 2.`newest_glibc` (pip does not widen a manylinux tag on its own)."""
    return [f"manylinux_2_{minor}_{arch}" for minor in range(newest_glibc, 16, -1)] + [f"manylinux2014_{arch}"]


PLATFORMS = {
    "Windows x64": ["win_amd64"],
    "macOS 14+ arm64": ["macosx_14_0_arm64"],  # pip widens a macOS tag to the releases before it
    "macOS 14+ x86_64 (Intel)": ["macosx_14_0_x86_64"],
    "Linux x86_64 (glibc 2.31+)": _manylinux("x86_64", 31),
    "Linux aarch64 (glibc 2.31+, Raspberry Pi OS 11+)": _manylinux("aarch64", 31),
}


def dependencies(pyproject: Path) -> list[str]:
    return tomllib.loads(pyproject.read_text())["project"]["dependencies"]


def resolve(requirements: list[str], tags: list[str], python: str) -> tuple[bool, str]:
    """(resolved, what): the packages pip would install there, or the last line of its refusal."""
    command = [sys.executable, "-m", "pip", "install", "--isolated", "--index-url", "https://pypi.org/simple"]
    command += ["--dry-run", "--quiet", "--ignore-installed", "--report", "-"]
    command += ["--only-binary=:all:", "--python-version", python, *(f"--platform={tag}" for tag in tags)]
    done = subprocess.run([*command, *requirements], capture_output=True, text=True)
    if done.returncode:
        lines = [line for line in done.stderr.splitlines() if line.strip() and "WARNING" not in line]
        return False, lines[-1] if lines else f"pip exited {done.returncode}"
    installed = json.loads(done.stdout)["install"]
    versions = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in installed}
    runtime = ("onnxruntime", "opencv-python", "numpy", "pandas", "psycopg-binary")
    return True, ", ".join(f"{name} {versions[name]}" for name in runtime if name in versions)


def main() -> int:
    requirements = dependencies(Path(__file__).resolve().parents[1] / "pyproject.toml")
    pinned = [r for r in requirements if "==" in r]
    if pinned:
        print(f"exact pins in [project.dependencies] (keep them in pylock.toml): {', '.join(pinned)}")
        return 1
    pairs = [(name, tags, python) for name, tags in PLATFORMS.items() for python in PYTHONS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda pair: resolve(requirements, pair[1], pair[2]), pairs))
    for (name, _, python), (resolved, what) in zip(pairs, results, strict=True):
        print(f"{'ok  ' if resolved else 'FAIL'} {name}, Python {python}: {what}")
    failed = sum(not resolved for resolved, _ in results)
    print(f"{len(pairs) - failed} of {len(pairs)} platform/Python pairs resolve to wheels")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
