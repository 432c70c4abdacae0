"""`/presenter/`: the running lecture at a glance from the lectern, in large type.

For the room's running lecture: engagement read against the instructor's usual (`monitor.usual`) over the last
RECENT_S, the last TREND_S of engagement and attention as a trend, the faces counted, the lecture time and the clock.
A calm cue when the room has drifted well below its own level of this lecture; nothing under the small-group floor;
plain words when nothing is running or the camera is lost. It refreshes every interval and follows the newest
running lecture of the dashboard's rooms (or of `?room=NAME`) by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs

import flask
import pandas as pd
import plotly.graph_objects as go
from dash import Dash, Input, Output, dcc, html

from dashboards.figures import ATTENTION_COLOUR, ENGAGEMENT_COLOUR, FONT, lecture_clock
from monitor.console import format_duration
from monitor.core import local_time, now
from monitor.report import weighted_engagement
from monitor.store import SessionReader
from monitor.store.records import SessionInfo
from monitor.tables import interval_table
from monitor.usual import AT_USUAL, Reading, Usual, read, usual_level

PATH = "/presenter/"
RECENT_S = 120.0  # the room's state now: engagement over the last two minutes
TREND_S = 600.0  # the trend shown: the last ten minutes
DRIFT = 0.10  # the cue: the last minutes this far below the lecture's own level so far
REFRESH_MS = 10_000  # at most every 10 s; a lecture's own interval when it is longer


@dataclass(frozen=True)
class PresenterState:
    """What the presenter view shows; `message` alone when there is nothing to read."""

    room: str = ""
    message: str = ""  # nothing running, camera lost, under the floor
    lecture: SessionInfo | None = None
    elapsed_s: float = 0.0
    faces: int = 0
    reading: Reading | None = None
    drifted: bool = False
    trend: pd.DataFrame | None = None
    usual: Usual | None = None


def running_lecture(store: SessionReader, room: str | None) -> SessionInfo | None:
    """The newest running lecture of `room` (or of any room the store shows)."""
    return next((s for s in store.sessions(room, 50) if s.status == "running"), None)


def presenter_state(store: SessionReader, room: str | None) -> PresenterState:
    lecture = running_lecture(store, room)
    if lecture is None:
        return PresenterState(room or "", f"No lecture is running{f' in {room}' if room else ''}")
    intervals = interval_table(store.intervals(lecture.id))
    elapsed = float((intervals["offset_s"] + intervals["duration_s"]).max()) if len(intervals) else 0.0
    base = PresenterState(lecture.room, "", lecture, elapsed)
    if not len(intervals):
        return replace(base, message="The lecture has started: the first figures follow")
    last = intervals.iloc[-1]
    if last["frames"] == 0:
        lost = intervals[intervals["frames"] > 0]
        since = ""
        if len(lost):
            seen = lost["start_wall"].iloc[-1] + pd.Timedelta(seconds=float(lost["duration_s"].iloc[-1]))
            since = f" since {local_time(seen):%H:%M}"
        return replace(base, message=f"Camera lost{since}: reconnecting")
    recent = intervals[intervals["offset_s"] >= elapsed - RECENT_S]
    faces = round(float(recent["faces_mean"].iloc[-1]))
    floor = lecture.settings.get("min_faces")
    if recent["engagement"].isna().all():
        too_few = f"Fewer than {floor} faces in view: nothing is shown" if floor else "No faces in view"
        return replace(base, message=too_few, faces=faces)
    usual = usual_level(store, lecture, intervals)
    now_level = weighted_engagement(recent)
    before = weighted_engagement(intervals[intervals["offset_s"] < elapsed - RECENT_S])
    drifted = now_level is not None and before is not None and now_level < before - DRIFT
    trend = intervals[intervals["offset_s"] >= elapsed - TREND_S]
    return replace(base, faces=faces, reading=read(now_level, usual), drifted=drifted, trend=trend, usual=usual)


def trend_figure(state: PresenterState) -> go.Figure:
    """The last minutes of engagement (thick) and attention, the usual level as a band, in large type."""
    fig = go.Figure()
    if state.trend is not None:
        at = lecture_clock(state.trend["offset_s"])
        if state.usual is not None:
            level = state.usual.level
            fig.add_hrect(
                y0=level - AT_USUAL, y1=level + AT_USUAL, fillcolor=ENGAGEMENT_COLOUR, opacity=0.1, line_width=0
            )
            fig.add_hline(y=level, line={"color": ENGAGEMENT_COLOUR, "dash": "dash", "width": 2})
            fig.add_annotation(
                x=0, xref="paper", y=level, text="your usual", showarrow=False, yshift=16, xanchor="left"
            )
        fig.add_scatter(
            x=at, y=state.trend["engagement"], name="engagement", line={"color": ENGAGEMENT_COLOUR, "width": 6}
        )
        if state.trend["attention"].notna().any():
            fig.add_scatter(
                x=at, y=state.trend["attention"], name="attention", line={"color": ATTENTION_COLOUR, "width": 3}
            )
    fig.update_layout(
        font={**FONT, "size": 22},
        margin={"l": 60, "r": 20, "t": 10, "b": 50},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        plot_bgcolor="white",
        paper_bgcolor="white",
    )
    fig.update_yaxes(range=[0, 1.02], gridcolor="#EAECEE")
    fig.update_xaxes(tickformat="%H:%M:%S" if state.elapsed_s >= 3600 else "%M:%S", gridcolor="#EAECEE")
    return fig


def view(state: PresenterState) -> list:
    """The page's content for one state."""
    clock = f"{local_time(now()):%H:%M}"
    head = html.Div(
        [
            html.Span(state.room or "engage", className="presenter-room"),
            html.Span(
                f"lecture {format_duration(state.elapsed_s)}" if state.lecture else "", className="presenter-elapsed"
            ),
            html.Span(clock, className="presenter-clock"),
        ],
        className="presenter-head",
    )
    if state.message:
        return [head, html.Div(state.message, className="presenter-message")]
    reading = state.reading
    word = reading.word if reading else "at"
    big = html.Div(
        [
            html.Div(reading.headline if reading else "-", className="presenter-reading"),
            html.Div(f"last 2 minutes: {reading.detail}" if reading else "", className="presenter-detail"),
        ],
        className=f"presenter-state {word}",
    )
    faces = html.Div(
        [html.Span(str(state.faces), className="presenter-faces"), html.Span(" faces")], className="presenter-count"
    )
    cue = html.Div(
        "The room has drifted below its level of this lecture: a question, a pause or a change of pace may help",
        className="presenter-cue",
    )
    graph = dcc.Graph(
        figure=trend_figure(state), config={"displayModeBar": False, "staticPlot": True}, className="presenter-trend"
    )
    return [head, html.Div([big, faces], className="presenter-row"), *((cue,) if state.drifted else ()), graph]


def add_presenter(server: flask.Flask, store: Callable[[], SessionReader], rooms: Sequence[str] = ()) -> Dash:
    """The presenter view on the dashboard's server (its password, its store, its room scope)."""
    app = Dash(
        __name__,
        server=server,
        url_base_pathname=PATH,
        title="engage · presenter",
        assets_folder=str(Path(__file__).parent / "assets"),
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div(
        [
            dcc.Location(id="where"),
            dcc.Interval(id="tick", interval=REFRESH_MS),
            html.Div(id="presenter", className="presenter"),
        ]
    )

    @app.callback(
        Output("presenter", "children"),
        Output("tick", "interval"),
        Input("tick", "n_intervals"),
        Input("where", "search"),
    )
    def refresh(_: int | None, search: str | None) -> tuple[list, int]:
        asked = (parse_qs((search or "").lstrip("?")).get("room") or [None])[0]
        room = asked if not rooms or asked in rooms else None
        room = room or (rooms[0] if len(rooms) == 1 else None)
        state = presenter_state(store(), room)
        interval_s = float(state.lecture.settings.get("interval_s", 10)) if state.lecture else 10.0
        return view(state), int(max(REFRESH_MS, interval_s * 1000))

    return app
