"""Dash callbacks; every read goes through the store's reader protocol (records, no SQL)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, no_update

from dashboards.figures import compare_figure, empty_figure, timeline_figure
from dashboards.layout import (
    LECTURES_SHOWN,
    lectures_note,
    listed,
    room_options,
    room_rows,
    session_rows,
    summary_cards,
)
from monitor.console import format_duration, shown
from monitor.core import CLASSES, local_time
from monitor.errors import EngageError
from monitor.export import csv_text, default_csv_name, session_table
from monitor.report import summarize
from monitor.store import SessionReader
from monitor.tables import interval_table
from monitor.usual import Reading, read, usual_level


def _against_usual(reading: Reading | None) -> str:
    return "-" if reading is None else f"{reading.headline} ({reading.difference:+.2f})"


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
        sessions, rooms = listed(s.sessions(room or None, LECTURES_SHOWN)), s.rooms()
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
        sessions = listed(s.sessions(room or None, 2))
        return ([0], [sessions[0].id]) if sessions else ([], [])

    @app.callback(
        Output("sessions-table", "row_selectable"),
        Output("sessions-table", "selected_rows", allow_duplicate=True),
        Output("sessions-table", "selected_row_ids", allow_duplicate=True),
        Input("view", "value"),
        State("sessions-table", "selected_rows"),
        State("sessions-table", "selected_row_ids"),
        prevent_initial_call=True,
    )
    def one_or_many(view: str, rows: list[int] | None, ids: list[int] | None) -> tuple[str, list[int], list[int]]:
        """One lecture: one row ticked at a time (the first kept); compare: as many as wanted."""
        if view == "compare":
            return "multi", rows or [], ids or []
        return "single", (rows or [])[:1], (ids or [])[:1]

    @app.callback(
        Output("view", "value"),
        Output("sessions-table", "row_selectable", allow_duplicate=True),
        Output("sessions-table", "selected_rows", allow_duplicate=True),
        Output("sessions-table", "selected_row_ids", allow_duplicate=True),
        Input("url", "search"),
        State("sessions-table", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def open_link(search: str | None, rows: list[dict] | None) -> tuple:
        """A shared link (?lectures=3,5&view=compare) opens the lectures and the view it names."""
        asked = parse_qs((search or "").lstrip("?"))
        ids = [r["id"] for r in rows or []]
        wanted = [int(i) for i in ",".join(asked.get("lectures", [])).split(",") if i.isdigit() and int(i) in ids]
        if not wanted:
            return no_update, no_update, no_update, no_update
        view = "compare" if asked.get("view") == ["compare"] else "timeline"
        wanted = wanted if view == "compare" else wanted[:1]
        return view, "multi" if view == "compare" else "single", [ids.index(i) for i in wanted], wanted

    @app.callback(
        Output("rooms-table", "data"),
        Output("rooms-health", "style"),
        Input("health-refresh", "n_intervals"),
        prevent_initial_call=True,
    )
    def room_health(_: int) -> tuple[list[dict], dict]:
        states = store().room_states()
        return room_rows(states), {} if states else {"display": "none"}

    @app.callback(
        Output("share-link", "href"),
        Output("download-button", "disabled"),
        Input("sessions-table", "selected_row_ids"),
        Input("view", "value"),
    )
    def share(selected: list[int] | None, view: str) -> tuple[str, bool]:
        """A link that opens this view again, and the download only when a lecture is ticked."""
        ids = ",".join(map(str, selected or []))
        return f"?lectures={ids}&view={view}", not selected

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
            return empty_figure("Tick a lecture in the list above"), []
        s = store()
        try:
            chosen = [s.session(i) for i in selected]
        except EngageError:  # deleted meanwhile, or another room's lecture (outside --room)
            return empty_figure("That lecture is not in the store; choose another"), []
        intervals = {info.id: interval_table(s.intervals(info.id)) for info in chosen}
        markers = s.markers(chosen[0].id)
        if view == "compare":
            rooms = {i.room for i in chosen}
            label = (
                "{i.name} · {i.room} ({i.started_at:%m-%d})" if len(rooms) > 1 else "{i.name} ({i.started_at:%m-%d})"
            )
            figure = compare_figure({label.format(i=i): intervals[i.id] for i in chosen}, window)
            readings = {i.id: read(i.mean_engagement, usual_level(s, i, intervals[i.id])) for i in chosen}
            rows = [
                (f"{i.name} · {i.room} (index {shown(i.mean_engagement)})", _against_usual(readings[i.id]))
                for i in chosen
            ]
            return figure, summary_cards("Engagement against your usual", rows, [])
        info = chosen[0]
        summary = summarize(intervals[info.id])
        usual = usual_level(s, info, intervals[info.id])
        cards = [
            ("Duration", format_duration(summary.duration_s)),
            *((c.capitalize(), shown(summary.class_shares[c], "{:.0%}")) for c in CLASSES),
            ("Mean attention", shown(summary.mean_attention, "{:.0%}")),
        ]
        lows = [
            f"{format_duration(m.offset_s)} ({local_time(m.start_wall):%H:%M}): {m.engagement:.2f}"
            for m in summary.lowest
        ]
        if summary.lowest_attention:
            at, share = summary.lowest_attention
            lows.append(f"least attention: {format_duration(at)}, {share:.0%} facing front")
        title = f"{info.name} · {info.room} · {info.started_at:%Y-%m-%d %H:%M} · {info.status}"
        figure = timeline_figure(intervals[info.id], markers, window, title, info.settings.get("min_faces"), usual)
        index = f"mean {shown(summary.mean_engagement)}, median {shown(summary.median_engagement)}"
        return figure, summary_cards(title, cards, lows, read(summary.mean_engagement, usual), index)

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
