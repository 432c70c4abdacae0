"""Pure figure builders: interval tables (`monitor.tables.interval_table`) and markers in, plotly Figures out."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from monitor.core import CLASS_COLOURS, CLASSES, local_time
from monitor.store import Marker
from monitor.usual import AT_USUAL, Usual

ENGAGEMENT_COLOUR = "#2C3E50"
FACES_COLOUR = "#95A5A6"
ATTENTION_COLOUR = "#8E44AD"
FLOOR_COLOUR = "#BDC3C7"
COMPARE_COLOURS = ("#2C3E50", "#E67E22", "#8E44AD", "#16A085", "#C0392B", "#2980B9")
FONT = {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 16}


def smooth(values: pd.Series, window: int) -> pd.Series:
    """Centred rolling mean over `window` intervals that never fills an interval that has no value."""
    if window <= 1:
        return values
    smoothed = values.rolling(window, center=True, min_periods=1).mean()
    return smoothed.where(values.notna())


def class_shares(intervals: pd.DataFrame) -> pd.DataFrame:
    """Share of face observations per class in each interval, NaN where no face was seen."""
    counts = intervals[[f"n_{c}" for c in CLASSES]].astype(float)
    total = counts.sum(axis=1)
    shares = counts.div(total.where(total > 0), axis=0)
    shares.columns = list(CLASSES)
    return shares


CLOCK_ZERO = pd.Timestamp("1970-01-01")  # the x axis is lecture time drawn as a clock from here


def lecture_clock(offset_s: pd.Series | float) -> pd.Series | pd.Timestamp:
    """Seconds since the lecture's start as x positions that plotly labels m:ss (or h:mm:ss)."""
    return CLOCK_ZERO + pd.to_timedelta(offset_s, unit="s")


def _clock_axis(fig: go.Figure, longest_s: float, **where: int) -> None:
    """Label the x axis as lecture time: m:ss, or h:mm:ss for lectures of an hour or more."""
    shown = "%-H:%M:%S" if longest_s >= 3600 else "%-M:%S"
    fig.update_xaxes(type="date", tickformat=shown, hoverformat=shown, **where)


def _segments(mask: pd.Series) -> list[pd.Index]:
    """Runs of consecutive True rows, so a stacked area is never drawn across a gap."""
    runs, current = [], []
    for index, value in mask.items():
        if value:
            current.append(index)
        elif current:
            runs.append(pd.Index(current))
            current = []
    if current:
        runs.append(pd.Index(current))
    return runs


def plain(text: str) -> str:
    """User text (names, rooms, markers) shown by plotly as written: its pseudo-HTML tags become entities."""
    return html.escape(text, quote=False)


def _layout(fig: go.Figure, title: str) -> go.Figure:
    """Shared styling; `title` is user text."""
    fig.update_layout(
        title={"text": plain(title), "x": 0.01},
        font=FONT,
        template="plotly_white",
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.12},
        margin={"l": 70, "r": 70, "t": 70, "b": 40},
    )
    return fig


def timeline_figure(
    intervals: pd.DataFrame,
    markers: Sequence[Marker] = (),
    window: int = 1,
    title: str = "",
    min_faces: int | None = None,
    usual: Usual | None = None,
) -> go.Figure:
    """Engagement, attention and faces (top) and the stacked class shares (bottom) over minutes of lecture time;
    intervals below the small-group floor (`min_faces`) are gaps, marked along the bottom; engagement is drawn
    against the `usual` level, with a band where it reads as at the usual."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.55, 0.45],
        vertical_spacing=0.08,
        specs=[[{"secondary_y": True}], [{}]],
    )
    at = lecture_clock(intervals["offset_s"])
    clock = intervals["start_wall"].map(lambda t: f"{local_time(t):%H:%M:%S}")

    def over_time(values: pd.Series, name: str, hover: str, **style: object) -> go.Scatter:
        """One line over lecture time; a missing value stays a gap."""
        return go.Scatter(x=at, y=values, name=name, connectgaps=False, customdata=clock, hovertemplate=hover, **style)

    engagement = smooth(intervals["engagement"], window)
    line = {"color": ENGAGEMENT_COLOUR, "width": 3}
    hover = "%{y:.2f} at %{customdata}<extra>%{fullData.name}</extra>"
    fig.add_trace(
        over_time(engagement, "engagement", hover, mode="lines+markers", line=line, marker={"size": 5}), row=1, col=1
    )
    if intervals["attention"].notna().any():  # sessions recorded before attention, or with Haar, have none
        attention = smooth(intervals["attention"], window)
        hover = "%{y:.0%} facing front at %{customdata}<extra></extra>"
        line = {"color": ATTENTION_COLOUR, "width": 2}
        fig.add_trace(
            over_time(attention, "attention (share facing front)", hover, mode="lines", line=line), row=1, col=1
        )
    faces = intervals["faces_mean"].where(intervals["frames"] > 0)
    line = {"color": FACES_COLOUR, "dash": "dot"}
    fig.add_trace(
        over_time(faces, "faces", "%{y:.1f} faces<extra></extra>", mode="lines", line=line),
        row=1,
        col=1,
        secondary_y=True,
    )
    shares = class_shares(intervals).apply(lambda column: smooth(column, window))
    for k, rows in enumerate(_segments(shares.notna().all(axis=1))):
        for name in CLASSES:
            fig.add_trace(
                go.Scatter(
                    x=at[rows],
                    y=shares.loc[rows, name],
                    name=name,
                    stackgroup=f"run{k}",
                    mode="lines",
                    line={"color": CLASS_COLOURS[name], "width": 0.5},
                    fillcolor=CLASS_COLOURS[name],
                    legendgroup=name,
                    showlegend=k == 0,
                    hovertemplate=f"{name} %{{y:.0%}}<extra></extra>",
                ),
                row=2,
                col=1,
            )
    below = intervals["below_min_faces"] == 1
    if below.any():
        fig.add_trace(
            go.Scatter(
                x=at[below],
                y=[0.02] * int(below.sum()),
                name=f"fewer than {min_faces or 'the floor of'} faces: not counted",
                mode="markers",
                marker={"symbol": "square", "size": 9, "color": FLOOR_COLOUR},
                hovertemplate="fewer faces than the small-group floor: expressions not kept<extra></extra>",
            ),
            row=1,
            col=1,
        )
    for marker in markers:
        at = lecture_clock(marker.offset_s).to_pydatetime()
        fig.add_shape(
            type="line", x0=at, x1=at, y0=0, y1=1, yref="paper", line={"color": "#7F8C8D", "dash": "dash", "width": 1.5}
        )
        fig.add_annotation(
            x=at,
            y=1.02,
            yref="paper",
            text=plain(marker.text),
            showarrow=False,
            font={"size": 13, "color": "#34495E"},
            xanchor="left",
        )
    if usual is not None:  # after the traces: plotly leaves shapes out of a subplot without any
        band = {"y0": usual.level - AT_USUAL, "y1": usual.level + AT_USUAL, "row": 1, "col": 1}
        fig.add_hrect(**band, fillcolor=ENGAGEMENT_COLOUR, opacity=0.08, line_width=0)
        fig.add_hline(
            y=usual.level,
            row=1,
            col=1,
            line={"color": ENGAGEMENT_COLOUR, "dash": "dash", "width": 1.5},
            annotation_text=f"your usual ({usual.basis})",
            annotation_position="top left",
            annotation_font={"size": 12, "color": ENGAGEMENT_COLOUR},
        )
    fig.update_yaxes(title_text="engagement, attention (0-1)", range=[0, 1.02], row=1, col=1, secondary_y=False)
    most = float(faces.max()) if faces.notna().any() else 1.0
    fig.update_yaxes(
        title_text="faces",
        range=[0, most * 1.25 + 0.5],
        dtick=max(1, math.ceil(most / 5)),
        showgrid=False,
        row=1,
        col=1,
        secondary_y=True,
    )
    fig.update_yaxes(title_text="expressions", range=[0, 1], tickformat=".0%", row=2, col=1)
    fig.update_xaxes(title_text="lecture time", row=2, col=1)
    _clock_axis(fig, float((intervals["offset_s"] + intervals["duration_s"]).max()) if len(intervals) else 0.0)
    return _layout(fig, title)


def compare_figure(sessions: dict[str, pd.DataFrame], window: int = 1) -> go.Figure:
    """Engagement of several sessions overlaid on minutes since each one's start; the keys name the legend."""
    fig = go.Figure()
    for k, (name, intervals) in enumerate(sessions.items()):
        fig.add_trace(
            go.Scatter(
                x=lecture_clock(intervals["offset_s"]),
                y=smooth(intervals["engagement"], window),
                name=plain(name),
                mode="lines+markers",
                connectgaps=False,
                marker={"size": 4},
                line={"color": COMPARE_COLOURS[k % len(COMPARE_COLOURS)], "width": 3},
                hovertemplate="%{y:.2f}<extra>%{fullData.name}</extra>",
            ),
        )
    fig.update_yaxes(title_text="engagement (0-1)", range=[0, 1.02])
    fig.update_xaxes(title_text="lecture time")
    longest = max((float(t["offset_s"].max()) for t in sessions.values() if len(t)), default=0.0)
    _clock_axis(fig, longest)
    return _layout(fig, "Engagement compared")


def empty_figure(message: str) -> go.Figure:
    """No axes, only `message` (nothing selected, or the lecture is gone)."""
    fig = go.Figure(layout={"template": "plotly_white", "font": FONT})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(
        text=plain(message),
        showarrow=False,
        font={"size": 20, "color": "#566573"},
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
    )
    return fig
