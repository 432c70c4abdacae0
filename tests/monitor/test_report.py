import numpy as np

from monitor.report import sparkline, summarize
from tests.factories import intervals


def test_summary_weights_by_faces_and_lists_lowest_moments_in_time_order():
    table = intervals([0.8, None, 0.2, 0.5, 0.3])
    table.loc[0, "faces_mean"] = 1.0  # one face only in the first interval
    summary = summarize(table, lowest=2)
    expected = np.average([0.8, 0.2, 0.5, 0.3], weights=[1, 3, 3, 3])
    assert abs(summary.mean_engagement - expected) < 1e-9
    assert summary.median_engagement == 0.4
    assert [m.offset_s for m in summary.lowest] == [60.0]  # 120 s belongs to the same dip
    assert summary.duration_s == 150.0 and summary.intervals_with_faces == 4
    assert abs(summary.class_shares["negative"] - 0.5) < 1e-9


def test_summary_of_a_session_without_faces():
    summary = summarize(intervals([None, None]))
    assert summary.mean_engagement is None and summary.median_engagement is None
    assert summary.class_shares["positive"] is None and summary.lowest == []


def test_sparkline_shows_gaps_as_spaces():
    assert sparkline(intervals([0.0, None, 1.0])["engagement"]) == "▁ █"


def test_the_moments_to_revisit_are_separate_dips():
    summary = summarize(intervals([0.8, None, 0.2, 0.25, 0.3, 0.6, 0.7, 0.4, 0.9]), lowest=3)
    assert [m.offset_s for m in summary.lowest] == [60.0, 210.0]  # 90 s and 120 s are the first dip again
