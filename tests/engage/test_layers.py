"""The house: the command line sits on top; the runtime imports neither the dashboard nor the training."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_packages(package: str) -> dict[str, set[str]]:
    """Each module of `package` (file path) and the top-level packages it imports, at any depth."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("monitor", {"engage", "dashboards", "training"}),
        ("dashboards", {"engage", "training"}),
        ("training", {"engage"}),
    ],
)
def test_no_layer_imports_a_layer_above_it(package, forbidden):
    upward = {module: names & forbidden for module, names in imported_packages(package).items() if names & forbidden}
    assert upward == {}


def test_the_commands_do_not_import_the_command_line_back():
    assert all("engage.cli" not in path.read_text() for path in (ROOT / "engage" / "commands").glob("*.py"))
