"""Page layout: session list, controls, summary cards and the main figure."""

from __future__ import annotations

from dash import dash_table, dcc, html

from monitor.console import format_duration
from monitor.core import local_time
from monitor.store import RoomState, SessionInfo
from monitor.usual import Reading

REFRESH_MS = 5000
ALL_ROOMS = ""  # the room selector's value for every room
LECTURES_SHOWN = 500  # the lecture list holds the newest this many (a school's year has tens of thousands)
TABLE_COLUMNS = [
    {"name": "Lecture", "id": "name"},
    {"name": "Room", "id": "room"},
    {"name": "Date", "id": "date"},
    {"name": "Duration", "id": "duration"},
    {"name": "Engagement", "id": "engagement", "type": "numeric", "format": {"specifier": ".2f"}},
    {"name": "Faces", "id": "faces", "type": "numeric"},
    {"name": "Status", "id": "status"},
]


USUAL_NOTE = (
    "Your usual is the median engagement of this room's last lectures (or, for a room's first lecture, of this "
    "lecture's first ten minutes); within 0.05 of it a lecture reads as at your usual. It is feedback on your "
    "teaching over time, never a judgement of one student."
)
INDEX_NOTE = (
    "Engagement index: the mean over every face seen of p(positive) + ½ p(neutral), from 0 to 1. A calm, attentive "
    "room of neutral faces scores a little under 0.5 (0.39 on the real audience clip engage is tested on, 83% "
    'neutral). The expression shares count each face\'s most likely expression, so "100% neutral" and 0.41 go '
    "together. It is feedback on your teaching over time, never a judgement of one student."
)


def listed(sessions: list[SessionInfo]) -> list[SessionInfo]:
    """The lectures worth listing: not the ones that ended before their first interval."""
    return [s for s in sessions if not s.empty]


def session_rows(sessions: list[SessionInfo]) -> list[dict[str, object]]:
    return [
        {
            "id": s.id,
            "name": s.name,
            "room": s.room,
            "date": f"{s.started_at:%Y-%m-%d %H:%M}",
            "duration": format_duration(s.duration_s),
            "engagement": s.mean_engagement,
            "faces": s.faces_seen,
            "status": s.status,
        }
        for s in sessions
    ]


ROOM_COLUMNS = [
    {"name": "Room", "id": "room"},
    {"name": "State", "id": "state"},
    {"name": "Last seen", "id": "seen"},
    {"name": "Queued intervals", "id": "queued", "type": "numeric"},
    {"name": "engage", "id": "version"},
    {"name": "Machine", "id": "host"},
]
HEALTH_MS = 15000


def room_rows(states: list[RoomState]) -> list[dict[str, object]]:
    """The rooms' health: what each said last, and `silent` where a recording room stopped reporting."""
    return [
        {
            "room": r.room,
            "state": f"silent since {local_time(r.seen_at):%H:%M} (was {r.state})" if r.silent else r.state,
            "seen": f"{local_time(r.seen_at):%Y-%m-%d %H:%M:%S}",
            "queued": r.queued,
            "version": r.version,
            "host": r.host,
        }
        for r in states
    ]


def rooms_section(states: list[RoomState]) -> html.Section:
    """The rooms that report to this store (a central one); hidden where none does."""
    return html.Section(
        [
            html.H2("Rooms"),
            dash_table.DataTable(
                id="rooms-table",
                columns=ROOM_COLUMNS,
                data=room_rows(states),
                sort_action="native",
                style_as_list_view=True,
                style_table={"overflowX": "auto"},
                style_cell={"fontSize": 15, "padding": "6px", "textAlign": "left", "fontFamily": "inherit"},
                style_data_conditional=[
                    {"if": {"filter_query": '{state} contains "silent"'}, "color": "#C0392B", "fontWeight": "600"},
                    {"if": {"filter_query": '{state} contains "camera lost"'}, "color": "#A04000", "fontWeight": "600"},
                    {"if": {"filter_query": '{state} = "recording"'}, "color": "#1E8449"},
                ],
            ),
            dcc.Interval(id="health-refresh", interval=HEALTH_MS),
        ],
        id="rooms-health",
        className="card",
        style={} if states else {"display": "none"},
    )


def header() -> html.Header:
    return html.Header(
        [
            html.H1("engage"),
            html.P(
                "Facial-expression feedback on your own teaching. Only per-interval aggregates are stored: "
                "no images, no identities."
            ),
        ]
    )


def empty_page(db: str) -> html.Div:
    return html.Div(
        [
            header(),
            html.Div(
                [
                    html.H2("No lectures recorded yet"),
                    html.P("Start the monitor at the beginning of your next lecture:"),
                    html.Pre('engage live --name "Week 1"'),
                    html.P("or look at an example first:"),
                    html.Pre("engage demo"),
                    html.P(f"Sessions are read from {db}. This page updates when you reload it."),
                ],
                className="empty",
                id="empty-page",
            ),
        ],
        className="page",
    )


def lectures_note(shown: int) -> str:
    """Said under the lecture list when it is cut to the newest LECTURES_SHOWN."""
    return f"The newest {shown} lectures; choose a room to narrow the list." if shown >= LECTURES_SHOWN else ""


def room_options(rooms: list[str]) -> list[dict[str, str]]:
    return [{"label": "All rooms", "value": ALL_ROOMS}, *({"label": r, "value": r} for r in rooms)]


def page(sessions: list[SessionInfo], rooms: list[str], room: str | None, states: list[RoomState] = ()) -> html.Div:
    """The page, the newest lecture selected (a shared link, ?lectures=3,5&view=compare, selects others)."""
    return html.Div(
        [
            header(),
            html.Section(
                [
                    html.Div(
                        [
                            html.H2("Lectures"),
                            dcc.Dropdown(
                                id="room",
                                options=room_options(rooms),
                                value=room or ALL_ROOMS,
                                clearable=False,
                                searchable=True,
                                className="room",
                            ),
                        ],
                        className="lectures-head",
                    ),
                    dash_table.DataTable(
                        id="sessions-table",
                        columns=TABLE_COLUMNS,
                        data=session_rows(sessions),
                        row_selectable="single",
                        selected_rows=[0] if sessions else [],
                        selected_row_ids=[sessions[0].id] if sessions else [],
                        style_table={"overflowX": "auto"},
                        sort_action="native",
                        page_size=10,
                        style_as_list_view=True,
                        style_cell={"fontSize": 16, "padding": "8px", "textAlign": "left", "fontFamily": "inherit"},
                        style_header={"fontWeight": "600", "backgroundColor": "#F4F6F7"},
                        style_data_conditional=[
                            {"if": {"filter_query": '{status} = "running"'}, "color": "#1E8449", "fontWeight": "600"},
                            {"if": {"filter_query": '{status} = "interrupted"'}, "color": "#A04000"},
                        ],
                    ),
                    html.P(lectures_note(len(sessions)), id="lectures-note", className="note"),
                ],
                className="card",
            ),
            html.Section(
                [
                    dcc.RadioItems(
                        id="view",
                        options=[
                            {"label": " One lecture", "value": "timeline"},
                            {"label": " Compare selected", "value": "compare"},
                        ],
                        value="timeline",
                        inline=True,
                        className="view",
                    ),
                    html.Div(
                        [
                            html.Label("Smoothing (intervals)", htmlFor="smoothing"),
                            dcc.Slider(
                                id="smoothing",
                                min=1,
                                max=9,
                                step=2,
                                value=1,
                                marks={k: str(k) for k in (1, 3, 5, 7, 9)},
                            ),
                        ],
                        className="smoothing",
                    ),
                    html.Button("Download CSV", id="download-button", className="button"),
                    dcc.Download(id="download"),
                    html.A("Link to this view", id="share-link", href="", className="share"),
                ],
                className="controls card",
            ),
            html.Section(id="summary", className="summary"),
            html.Section(
                dcc.Graph(id="main-graph", config={"displaylogo": False}, style={"height": "640px"}), className="card"
            ),
            rooms_section(list(states)),
            dcc.Interval(id="refresh", interval=REFRESH_MS, disabled=True),
            dcc.Location(id="url", refresh=False),
        ],
        className="page",
    )


def reading_card(reading: Reading | None) -> html.Div:
    """The lecture's engagement as an instructor reads it: above, at or below their usual, with the difference."""
    if reading is None:
        return html.Div(
            [html.Div("-", className="value"), html.Div("no faces seen yet", className="label")], className="metric"
        )
    return html.Div(
        [html.Div(reading.headline, className="value"), html.Div(f"engagement {reading.detail}", className="label")],
        className=f"metric reading {reading.word}",
    )


def summary_cards(
    title: str,
    figures: list[tuple[str, str]],
    lows: list[str],
    reading: Reading | None = None,
    index: str = "",
) -> list[html.Div]:
    """The summary: with `index` (one lecture), its reading against the usual first and the 0-1 index one click
    away; without (a comparison), the figures alone."""
    cards = [reading_card(reading)] if index else []
    cards += [
        html.Div([html.Div(value, className="value"), html.Div(label, className="label")], className="metric")
        for label, value in figures
    ]
    if lows:
        cards.append(
            html.Div(
                [html.Div("Revisit", className="label"), html.Ul([html.Li(x) for x in lows])], className="metric lows"
            )
        )
    details = html.Details(
        [html.Summary(f"Engagement index (0-1): {index}"), html.P(INDEX_NOTE, className="note index-note")],
        className="index-details",
    )
    note = html.P(USUAL_NOTE, className="note usual-note")
    return [
        html.H2(title, id="summary-title"),
        html.Div(cards, className="metrics"),
        *((note, details) if index else ()),
    ]
