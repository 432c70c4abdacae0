"""The demo lecture: its expressions come from the model on generated frames, and its timeline tells a story."""

from __future__ import annotations

import pytest

from engage.cli import main
from monitor.demo import EXPRESSIONS, STORY, expression_head, portrait, story_expressions
from monitor.perception.model import ExpressionClassifier
from monitor.report import dip_and_recovery
from monitor.store import open_store
from tests.factories import aggregate


def test_every_expression_is_a_reshaped_portrait_and_the_laugh_is_the_photo_itself():
    assert (expression_head("laugh") == portrait()).all()
    for name in set(EXPRESSIONS) - {"laugh"}:
        assert expression_head(name).shape == portrait().shape and (expression_head(name) != portrait()).any()


def test_the_model_reads_the_frown_as_less_engaged_than_the_laugh():
    readings = ExpressionClassifier().predict([expression_head(name) for name in ("laugh", "calm", "frown")])
    engagement = readings[:, 0] + 0.5 * readings[:, 1]
    assert engagement[0] > engagement[1] > engagement[2]


def test_the_story_starts_calm_dips_and_recovers():
    assert story_expressions(0) == STORY[0][1]
    assert set(story_expressions(25)) == {"frown"} and set(story_expressions(40)) == {"laugh"}


@pytest.mark.slow
def test_demo_timeline_has_a_visible_dip_and_recovery(tmp_path, capsys):
    database = tmp_path / "demo.db"
    assert main(["demo", "--db", str(database)]) == 0
    with open_store(database) as store:
        (session,) = store.sessions()
        read = [i.engagement for i in store.intervals(session.id) if i.engagement is not None]
    low = read.index(min(read))
    assert max(read) - min(read) >= 0.3, read  # not flat
    assert 0 < low < len(read) - 1 and max(read[low:]) - read[low] >= 0.3, read  # a dip, then a recovery
    assert "recovered to" in capsys.readouterr().err


def test_dip_and_recovery_names_the_lowest_stretch_and_the_recovery():
    line = dip_and_recovery([aggregate(0, 0.7), aggregate(1, 0.3), aggregate(2, None), aggregate(3, 0.9)])
    assert line == "engagement was lowest at 0:10-0:20 (0.30, down from 0.70); it recovered to 0.90 by 0:30"
    assert dip_and_recovery([aggregate(0, 0.7), aggregate(1, 0.3)]).endswith("it did not recover before the end")
    assert dip_and_recovery([aggregate(0, None)]) == "too few intervals with faces to find a dip"
