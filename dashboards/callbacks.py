"""Dash callbacks; every read goes through the store's reader protocol (records, no SQL)."""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, no_update

from dashboards.figures import compare_figure, timeline_figure
from dashboards.layout import LECTURES_SHOWN, lectures_note, room_options, session_rows, summary_cards
from monitor.console import format_duration, shown
from monitor.core import CLASSES, local_time
from monitor.errors import EngageError
from monitor.export import csv_text, default_csv_name, session_table
from monitor.report import summarize
from monitor.store import SessionReader
from monitor.tables import interval_table


def register(app: Dash, store: Callable[[], SessionReader]) -> None:
    """The callbacks, reading through `store()` (one open store, shared by every request)."""

    @app.callback(
        Output("sessions-table", "data"),
        Output("lectures-note", "children"),
        Output("room", "options"),
        Output("refresh", "disabled"),
        Input("refresh", "n_intervals"),
        Input("room", "value"),
        Input("sessions-table", "selected_row_ids"),
    )
    def refresh_sessions(
        _: int | None, room: str | None, selected: list[int] | None
    ) -> tuple[list[dict], str, list[dict], bool]:
        s = store()
        sessions, rooms = s.sessions(room or None, LECTURES_SHOWN), s.rooms()
        running = {x.id for x in sessions if x.status == "running"}
        rows = session_rows(sessions)
        return rows, lectures_note(len(rows)), room_options(rooms), not (running & set(selected or []))

    @app.callback(
        Output("sessions-table", "selected_rows"),
        Output("sessions-table", "selected_row_ids"),
        Input("room", "value"),
        prevent_initial_call=True,
    )
    def select_newest(room: str | None) -> tuple[list[int], list[int]]:
        s = store()
        sessions = s.sessions(room or None, 1)
        return ([0], [sessions[0].id]) if sessions else ([], [])

    @app.callback(
        Output("main-graph", "figure"),
        Output("summary", "children"),
        Input("sessions-table", "selected_row_ids"),
        Input("view", "value"),
        Input("smoothing", "value"),
        Input("refresh", "n_intervals"),
    )
    def update_view(selected: list[int] | None, view: str, window: int, _: int | None) -> tuple[go.Figure, list]:
        if not selected:
            return go.Figure(layout={"title": "Select a lecture in the list above"}), []
        s = store()
        try:
            chosen = [s.session(i) for i in selected]
        except EngageError:  # deleted meanwhile, or another room's lecture (outside --room)
            return go.Figure(layout={"title": "That lecture is not in the store; choose another"}), []
        intervals = {info.id: interval_table(s.intervals(info.id)) for info in chosen}
        markers = s.markers(chosen[0].id)
        if view == "compare":
            rooms = {i.room for i in chosen}
            label = (
                "{i.name} · {i.room} ({i.started_at:%m-%d})" if len(rooms) > 1 else "{i.name} ({i.started_at:%m-%d})"
            )
            figure = compare_figure({label.format(i=i): intervals[i.id] for i in chosen}, window)
            rows = [(f"{i.name} · {i.room}", shown(i.mean_engagement)) for i in chosen]
            return figure, summary_cards("Mean engagement", rows, [])
        info = chosen[0]
        summary = summarize(intervals[info.id])
        cards = [
            ("Duration", format_duration(summary.duration_s)),
            ("Mean engagement", shown(summary.mean_engagement)),
            ("Median engagement", shown(summary.median_engagement)),
            *((c.capitalize(), shown(summary.class_shares[c], "{:.0%}")) for c in CLASSES),
        ]
        lows = [
            f"{format_duration(m.offset_s)} ({local_time(m.start_wall):%H:%M}): {m.engagement:.2f}"
            for m in summary.lowest
        ]
        title = f"{info.name} · {info.room} · {info.started_at:%Y-%m-%d %H:%M} · {info.status}"
        figure = timeline_figure(intervals[info.id], markers, window, title, info.settings.get("min_faces"))
        return figure, summary_cards(title, cards, lows)

    @app.callback(
        Output("download", "data"),
        Input("download-button", "n_clicks"),
        State("sessions-table", "selected_row_ids"),
        prevent_initial_call=True,
    )
    def download(_: int, selected: list[int] | None) -> dict | object:
        if not selected:
            return no_update
        s = store()
        try:
            info = s.session(selected[0])
        except EngageError:
            return no_update
        table = session_table(s, info)
        return dcc.send_string(csv_text(table), default_csv_name(info).name)
