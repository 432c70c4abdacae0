"""The room box's systemd unit is valid and starts the command that exists."""

import shutil
import subprocess

import pytest

from engage.cli import build_parser
from tests.conftest import ROOT

UNIT = ROOT / "deploy" / "engage-room@.service"


def test_the_unit_runs_engage_room_with_the_rooms_config():
    text = UNIT.read_text()
    command = next(line for line in text.splitlines() if line.startswith("ExecStart=")).split("engage ", 1)[1]
    args = build_parser().parse_args(command.replace("%i", "B12").split())
    assert args.command == "room" and str(args.config) == "/etc/engage/B12.toml" and args.preview is False
    assert "Restart=on-failure" in text and "KillSignal=SIGTERM" in text


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze (Debian: systemd)")
def test_systemd_accepts_the_unit(tmp_path):
    engage = tmp_path / "opt" / "engage" / ".venv" / "bin" / "engage"
    engage.parent.mkdir(parents=True)
    engage.write_text("#!/bin/sh\n")
    engage.chmod(0o755)
    unit = tmp_path / "engage-room@B12.service"
    unit.write_text(UNIT.read_text().replace("/opt/engage/.venv/bin/engage", str(engage)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines() if str(unit.name) in line or "engage" in line]
    assert done.returncode == 0 and not problems, done.stderr
