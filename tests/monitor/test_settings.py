"""The room config file: every option of live and analyze from a TOML file; flag > environment > file > default."""

import pytest

from engage.cli import main
from monitor.store import open_store
from tests.postgres import PASSWORD


def config_lines(capsys, *args):
    assert main(["config", *args]) == 0
    return dict(line.split(" = ", 1) for line in capsys.readouterr().out.splitlines())


def test_flag_beats_environment_beats_file_beats_default(tmp_path, monkeypatch, capsys):
    room = tmp_path / "engage.toml"
    room.write_text('fps = 5\nmin_faces = 4\nroom = "B12"\nexclude_zones = ["0.8,0,0.2,0.45"]\nretention = "90d"\n')
    monkeypatch.setenv("ENGAGE_MIN_FACES", "6")
    shown = config_lines(capsys, "--config", str(room))
    assert shown["fps"] == f"5.0   # {room}" and shown["min_faces"] == "6   # $ENGAGE_MIN_FACES"
    assert shown["room"] == f'"B12"   # {room}' and shown["exclude_zones"] == f'["0.8,0,0.2,0.45"]   # {room}'
    assert shown["interval"] == "10.0   # default" and shown["retention"] == f'"90d"   # {room}'
    monkeypatch.chdir(tmp_path)  # ./engage.toml is found without --config
    assert config_lines(capsys)["fps"] == f"5.0   # {room.name}"
    monkeypatch.setenv("ENGAGE_CONFIG", str(room))
    assert config_lines(capsys)["fps"] == f"5.0   # {room}"


def test_a_room_box_records_with_its_file(tmp_path, tiny_model, lecture_video):
    room = tmp_path / "room.toml"
    db = tmp_path / "box.db"
    room.write_text(f'db = "{db}"\nroom = "B12"\nmin_faces = 2\ninterval = 4\nmodel = "{tiny_model}"\n')
    assert main(["analyze", str(lecture_video), "--config", str(room), "--interval", "6"]) == 0
    with open_store(db) as store:
        (session,) = store.sessions()
    assert session.room == "B12" and session.settings["min_faces"] == 2 and session.settings["interval_s"] == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fpss = 5", "unknown key 'fpss'; known: db, outbox, room"),
        ('fps = "fast"', "fps: must be a number, got 'fast'"),
        ("min_faces = 2.5", "min_faces: must be a whole number, got '2.5'"),
        ('preview = "no"', "preview: must be true or false, got 'no'"),
        ("fps = true", "fps: must be a value, not true/false"),
        ('exclude_zones = "0.8,0,0.3,0.45"', "exclude_zones: X,Y,W,H are fractions of the frame, within 0-1"),
        ("fps = [1, 2]", "fps: takes one value, got a list"),
        ("[room]\nname = 'B12'", "room: expected a value, got dict"),
        ("fps = ", "is not valid TOML"),
    ],
)
def test_a_bad_file_is_one_line_naming_key_and_file(tmp_path, capsys, text, message):
    room = tmp_path / "room.toml"
    room.write_text(text + "\n")
    assert main(["analyze", "lecture.mp4", "--config", str(room), "--db", str(tmp_path / "s.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(room) in err[0] and message in err[0], err
    assert not (tmp_path / "s.db").exists()


def test_a_missing_config_and_a_bad_variable_are_one_line(tmp_path, monkeypatch, capsys):
    assert main(["config", "--config", str(tmp_path / "none.toml")]) == 2
    assert f"room config {tmp_path / 'none.toml'} not found" in capsys.readouterr().err
    monkeypatch.setenv("ENGAGE_FPS", "99")
    assert main(["config"]) == 2
    assert "$ENGAGE_FPS: must be between 0.1 and 30, got 99" in capsys.readouterr().err


def test_config_never_prints_a_password(tmp_path, capsys):
    room = tmp_path / "room.toml"
    room.write_text(f'db = "postgresql://engage:{PASSWORD}@db.school.example/engage"\n')
    shown = config_lines(capsys, "--config", str(room))
    assert shown["db"] == f'"postgresql://engage:***@db.school.example/engage"   # {room}'


def test_zones_without_a_display_say_so_in_one_line(monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["zones", "--source", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a display" in err[0] and "--exclude-zone X,Y,W,H" in err[0]


def test_drawn_zones_replace_those_in_the_room_config_and_keep_the_rest(tmp_path, capsys):
    from monitor.consent import Zone
    from monitor.settings import write_zones

    room = tmp_path / "engage.toml"
    room.write_text('room = "B12"\nexclude_zones = [\n  "0.1,0.1,0.1,0.1",\n]\nfps = 3\n')
    write_zones(room, [Zone.parse("0.8,0,0.2,0.45"), Zone.parse("0,0.5,0.25,0.5")])
    shown = config_lines(capsys, "--config", str(room))
    assert shown["exclude_zones"] == f'["0.8,0,0.2,0.45", "0,0.5,0.25,0.5"]   # {room}'
    assert shown["room"].startswith('"B12"') and shown["fps"].startswith("3.0")
    assert room.read_text().count("exclude_zones") == 1


def test_the_readme_room_configs_are_valid_files(tmp_path, capsys):
    from tests.conftest import ROOT

    examples = [block.split("```", 1)[0] for block in (ROOT / "README.md").read_text().split("```toml\n")[1:]]
    assert len(examples) >= 2
    for number, example in enumerate(examples):
        room = tmp_path / f"room{number}.toml"
        room.write_text(example)
        shown = config_lines(capsys, "--config", str(room))
        keys = [line.split("=")[0].strip() for line in example.splitlines() if "=" in line and not line.startswith("#")]
        assert all(shown[key].endswith(f"# {room}") for key in keys), number
