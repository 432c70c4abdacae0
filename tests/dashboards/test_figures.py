from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from dashboards.figures import class_shares, compare_figure, lecture_clock, smooth, timeline_figure
from monitor.core import CLASS_COLOURS
from monitor.store import Marker
from tests.factories import START, intervals


def test_smoothing_never_fills_gaps():
    values = pd.Series([0.2, 0.4, np.nan, 0.8, 1.0])
    smoothed = smooth(values, 3)
    assert np.isnan(smoothed[2])
    np.testing.assert_allclose(smoothed[[0, 1, 3, 4]], [0.3, 0.3, 0.9, 0.9])
    assert smooth(values, 1) is values


def test_timeline_keeps_gaps_as_gaps_and_uses_the_class_palette():
    fig = timeline_figure(intervals([0.5, None, None, 0.6, 0.7]), window=1)
    engagement = next(t for t in fig.data if t.name == "engagement")
    assert np.isnan(engagement.y[1]) and np.isnan(engagement.y[2]) and not engagement.connectgaps
    assert list(pd.to_datetime(engagement.x)) == list(lecture_clock(pd.Series([0, 30, 60, 90, 120])))
    areas = [t for t in fig.data if t.stackgroup]
    assert {t.stackgroup for t in areas} == {"run0", "run1"}  # two runs: never stacked across the gap
    assert all(t.fillcolor == CLASS_COLOURS[t.name] for t in areas)
    first_run = [t for t in areas if t.stackgroup == "run0"]
    assert [len(t.x) for t in first_run] == [1, 1, 1]


def test_markers_are_labelled_vertical_lines():
    markers = [Marker(90.0, START + timedelta(seconds=90), "slide 12")]
    fig = timeline_figure(intervals([0.5, 0.6, 0.7, 0.8]), markers)
    assert [s.x0 for s in fig.layout.shapes] == [datetime(1970, 1, 1, 0, 1, 30)]  # 1:30, across both panels
    assert fig.layout.xaxis.tickformat == "%-M:%S"  # lecture time as m:ss
    assert [a.text for a in fig.layout.annotations] == ["slide 12"]


def test_class_shares_are_missing_without_faces():
    shares = class_shares(intervals([0.5, None]))
    np.testing.assert_allclose(shares.iloc[0], [1 / 6, 1 / 3, 1 / 2])
    assert shares.iloc[1].isna().all()


def test_compare_overlays_each_session_on_lecture_time():
    fig = compare_figure({"A": intervals([0.5, 0.6]), "B": intervals([0.2, None, 0.4])})
    assert [t.name for t in fig.data] == ["A", "B"] and len(fig.data[1].x) == 3
    assert fig.data[0].line.color != fig.data[1].line.color


def test_empty_session_still_draws():
    assert timeline_figure(intervals([])).data[0].name == "engagement"


def test_names_and_markers_are_shown_as_written_never_as_markup():
    table = intervals([0.5, 0.6])
    wall = table["start_wall"][0].to_pydatetime()
    fig = timeline_figure(table, [Marker(30.0, wall, "<b>quiz</b>")], title='<a href="http://x">Week 1</a>')
    assert fig.layout.title.text == '&lt;a href="http://x"&gt;Week 1&lt;/a&gt;'
    assert fig.layout.annotations[0].text == "&lt;b&gt;quiz&lt;/b&gt;"
    assert compare_figure({"<i>A</i>": table}).data[0].name == "&lt;i&gt;A&lt;/i&gt;"


def test_intervals_below_the_small_group_floor_are_gaps_with_a_legend():
    table = intervals([0.5, None, None, 0.6])
    table.loc[1, "below_min_faces"] = 1
    table.loc[1, "faces_mean"] = 2.0
    fig = timeline_figure(table, min_faces=3)
    (floor,) = [trace for trace in fig.data if trace.name == "fewer than 3 faces: not counted"]
    assert list(pd.to_datetime(floor.x)) == [lecture_clock(30.0)]
    assert np.isnan(np.asarray(fig.data[0].y, dtype=float)[1])  # the engagement line has a gap there


def test_attention_is_drawn_beside_engagement_with_the_same_gaps_where_it_was_measured():
    table = intervals([0.5, None, 0.7]).assign(attention=[0.8, np.nan, 0.4])
    (trace,) = [t for t in timeline_figure(table).data if t.name.startswith("attention")]
    assert trace.y[0] == 0.8 and np.isnan(trace.y[1]) and trace.y[2] == 0.4 and trace.connectgaps is False
    assert not [t for t in timeline_figure(intervals([0.5, 0.7])).data if t.name.startswith("attention")]
