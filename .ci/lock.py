"""Rewrite pylock.toml: the exact set CI installs, resolved from pyproject.toml's ranges and both extras.

Run with pip >= 26.1 after changing a range: `python .ci/lock.py`. The lock holds the dependencies only (engage
itself is installed from the checkout with --no-deps, since an editable project cannot be hash-checked) and is
resolved against PyPI alone, so it names no file of this machine. It fits the platform and Python it was made on
(Linux x86_64, CPython 3.11, as CI); `.ci/platforms.py` checks the ranges on every other platform.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("test", "train", "cluster")


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *(r for extra in EXTRAS for r in project["optional-dependencies"][extra])]


def main() -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listed:
        listed.write("\n".join(requirements()) + "\n")
        listed.flush()
        command = [sys.executable, "-m", "pip", "lock", "--isolated", "--index-url", "https://pypi.org/simple"]
        return subprocess.call([*command, "-r", listed.name, "-o", str(ROOT / "pylock.toml")])


if __name__ == "__main__":
    sys.exit(main())
