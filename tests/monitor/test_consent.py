"""Consent by design: opt-out zones drop faces right after detection; the small-group floor keeps every stored
expression figure from fewer than `--min-faces` faces."""

import pytest

from engage.cli import main
from monitor.consent import Zone
from monitor.demo import render_frame, write_video
from monitor.errors import EngageError
from monitor.export import read_csv
from monitor.store import open_store
from monitor.tables import interval_table
from monitor.types import Box

TOP_RIGHT = "0.8,0,0.2,0.45"  # the top-right seat of the six-seat room below


@pytest.fixture(scope="module")
def six_seats(tmp_path_factory):
    """A room of six seats (two rows of three) at 1280x720, 6 s."""
    return write_video(tmp_path_factory.mktemp("room") / "six.mp4", seconds=6, fps=5, width=1280, height=720, faces=6)


def test_zones_parse_and_hold_a_box_by_its_centre():
    zone = Zone.parse(TOP_RIGHT)
    assert zone == Zone(0.8, 0.0, 0.2, 0.45) and str(zone) == TOP_RIGHT
    assert zone.contains(Box(1000, 100, 120, 150), 1280, 720)  # centre (1060, 175)
    assert not zone.contains(Box(900, 100, 100, 150), 1280, 720)  # centre (950, 175): x 0.74
    assert Zone.of_pixels(Box(1024, 0, 300, 324), 1280, 720) == zone  # a rectangle drawn past the edge is clipped
    assert zone.pixels(1280, 720) == (1024, 0, 1280, 324)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.8,0,0.2", "give four numbers X,Y,W,H"),
        ("a,b,c,d", "give four numbers X,Y,W,H"),
        ("0.8,0,0.3,0.45", "within 0-1"),
        ("-0.1,0,0.2,0.4", "within 0-1"),
        ("0.5,0.5,0,0.2", "has no area"),
    ],
)
def test_a_bad_zone_is_named(text, message):
    with pytest.raises(EngageError, match=message):
        Zone.parse(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--exclude-zone", "0.8,0,0.2"], "--exclude-zone give four numbers"),
        (["--exclude-zone", "0.9,0,0.2,0.4"], "--exclude-zone X,Y,W,H are fractions of the frame, within 0-1"),
        (["--exclude-zone", "0.1,0.1,0,0"], "has no area"),
        (["--min-faces", "0"], "--min-faces must be between 1 and 1000, got 0"),
        (["--min-faces", "two"], "--min-faces must be a whole number, got 'two'"),
        (["--retention", "soon"], "--retention 'soon': expected a number with h, d, w or y"),
    ],
)
def test_bad_consent_values_are_one_line_exit_2_and_record_nothing(six_seats, tmp_path, capsys, args, message):
    db = tmp_path / "s.db"
    with pytest.raises(SystemExit) as stopped:
        main(["analyze", str(six_seats), "--db", str(db), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2 and len(err) == 1 and message in err[0], err
    assert not db.exists()


def faces_per_interval(db, tiny_model, video, *args):
    assert main(["analyze", str(video), "--db", str(db), "--model", str(tiny_model), "--interval", "2", *args]) == 0
    with open_store(db) as store:
        (session,) = store.sessions()
        return session, interval_table(store.intervals(session.id))


def test_a_face_in_an_opt_out_zone_is_never_counted(six_seats, tiny_model, tmp_path, capsys):
    _, everyone = faces_per_interval(tmp_path / "all.db", tiny_model, six_seats)
    assert everyone["faces_max"].tolist() == [6, 6, 6] and everyone["tracks"].max() == 6
    session, zoned = faces_per_interval(tmp_path / "zone.db", tiny_model, six_seats, "--exclude-zone", TOP_RIGHT)
    assert zoned["faces_max"].tolist() == [5, 5, 5] and zoned["tracks"].max() == 5
    assert (zoned["n_positive"] + zoned["n_neutral"] + zoned["n_negative"]).max() <= 5 * zoned["frames"].max()
    assert session.settings["exclude_zones"] == [TOP_RIGHT]
    capsys.readouterr()
    assert main(["show", "1", "--db", str(tmp_path / "zone.db")]) == 0
    assert f"not analyzed: {TOP_RIGHT}" in capsys.readouterr().out


def test_below_the_floor_frames_and_faces_are_stored_but_no_expression(six_seats, tiny_model, tmp_path, capsys):
    session, table = faces_per_interval(tmp_path / "floor.db", tiny_model, six_seats, "--min-faces", "7")
    assert table["frames"].tolist() == [4, 4, 4] and table["faces_max"].tolist() == [6, 6, 6]
    assert table["engagement"].isna().all() and table["p_positive"].isna().all()
    assert (table[["n_positive", "n_neutral", "n_negative"]] == 0).all().all()
    assert table["below_min_faces"].tolist() == [1, 1, 1]
    assert session.mean_engagement is None and session.settings["min_faces"] == 7
    out = tmp_path / "floor.csv"
    assert main(["export", "1", "--db", str(tmp_path / "floor.db"), "-o", str(out)]) == 0
    csv = read_csv(out)
    assert csv["attention"].isna().all()  # the floor holds back attention as it does the expressions
    assert list(csv.columns)[-3:] == ["below_min_faces", "lecture_time", "attention"]
    assert csv["below_min_faces"].tolist() == [
        1,
        1,
        1,
    ]
    capsys.readouterr()
    assert main(["show", "1", "--db", str(tmp_path / "floor.db")]) == 0
    shown = capsys.readouterr().out
    assert "mean -   median -" in shown and "small-group floor 7 faces (3 interval(s) below it, not counted)" in shown


def test_min_faces_1_restores_single_faces_with_a_warning(tiny_model, tmp_path, capsys):
    video = write_video(tmp_path / "one.mp4", seconds=4, fps=5, faces=1)
    args = ["analyze", str(video), "--db", str(tmp_path / "s.db"), "--model", str(tiny_model), "--interval", "2"]
    assert main([*args, "--min-faces", "1"]) == 0
    assert "single students can be singled out" in capsys.readouterr().err
    with open_store(tmp_path / "s.db") as store:
        assert all(a.engagement is not None for a in store.intervals(1))
    assert main([*args]) == 0  # the default floor of 3: one face never stores an expression
    with open_store(tmp_path / "s.db") as store:
        assert all(a.engagement is None and a.below_min_faces for a in store.intervals(2))


def test_the_preview_shades_each_zone():
    from monitor.preview import draw

    frame = render_frame(640, 360, 3, 0.0)
    drawn = draw(frame, None, [Zone.parse("0.5,0,0.5,0.5")])
    assert (drawn[:180, 320:] != frame[:180, 320:]).any() and (drawn[200:, :300] == frame[200:, :300]).all()
