"""The training tests need TensorFlow (the `[train]` extra); without it each module is skipped with that reason."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REASON = "the training tests need TensorFlow: pip install -e '.[train]'"


def tensorflow_installed() -> bool:
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except ImportError:
        return False


class SkippedModule(pytest.File):
    """A test module that is not imported, reported as skipped."""

    def collect(self) -> list[pytest.Item]:
        pytest.skip(REASON)


if not tensorflow_installed():

    def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.File:
        return SkippedModule.from_parent(parent, path=module_path)
