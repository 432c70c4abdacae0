"""Dash callbacks; every read goes through monitor.store.SessionStore."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from dash import Dash, Input, Output, State, dcc, no_update

from dashboards.figures import compare_figure, timeline_figure
from dashboards.layout import session_rows, summary_cards
from monitor.console import format_duration, shown
from monitor.export import csv_text, default_csv_name, session_table
from monitor.model import CLASSES
from monitor.report import summarize
from monitor.store import SessionStore


def register(app: Dash, db: Path) -> None:
    def store() -> SessionStore:
        return SessionStore(db, create=False)

    @app.callback(
        Output("sessions-table", "data"),
        Output("refresh", "disabled"),
        Input("refresh", "n_intervals"),
        Input("sessions-table", "selected_row_ids"),
    )
    def refresh_sessions(_: int | None, selected: list[int] | None) -> tuple[list[dict], bool]:
        with store() as s:
            sessions = s.sessions()
        running = {x.id for x in sessions if x.status == "running"}
        return session_rows(sessions), not (running & set(selected or []))

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
        with store() as s:
            chosen = [s.session(i) for i in selected]
            intervals = {info.id: s.intervals(info.id) for info in chosen}
            markers = s.markers(chosen[0].id)
        if view == "compare":
            figure = compare_figure({f"{i.name} ({i.started_at:%m-%d})": intervals[i.id] for i in chosen}, window)
            rows = [(i.name, shown(i.mean_engagement)) for i in chosen]
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
            f"{format_duration(m.offset_s)} ({m.start_wall.tz_convert(info.started_at.tzinfo):%H:%M}): "
            f"{m.engagement:.2f}"
            for m in summary.lowest
        ]
        title = f"{info.name} · {info.started_at:%Y-%m-%d %H:%M} · {info.status}"
        return timeline_figure(intervals[info.id], markers, window, title), summary_cards(title, cards, lows)

    @app.callback(
        Output("download", "data"),
        Input("download-button", "n_clicks"),
        State("sessions-table", "selected_row_ids"),
        prevent_initial_call=True,
    )
    def download(_: int, selected: list[int] | None) -> dict | object:
        if not selected:
            return no_update
        with store() as s:
            info = s.session(selected[0])
            table = session_table(s, info)
        return dcc.send_string(csv_text(table), default_csv_name(info).name)
