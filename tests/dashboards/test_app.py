"""The dashboard server's start-up checks and page selection, without a browser."""

import socket

from dash import html

from dashboards.app import create_app
from monitor.cli import main
from monitor.store import open_store
from tests.factories import ROOM, START, aggregate


def test_dashboard_refuses_a_busy_port_with_one_line(tmp_path, capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port), "--db", str(tmp_path / "none.db")]) == 2
    assert "Address already in use" in capsys.readouterr().err


def test_layout_is_the_empty_page_until_a_session_exists(tmp_path):
    db = tmp_path / "engage.db"
    app = create_app(db)
    assert "empty-page" in str(app.layout())
    with open_store(db) as store:
        store.add_interval(store.create_session("Week 1", "camera 0", {}, START, room=ROOM, host="test"), aggregate(0))
    page = app.layout()
    assert isinstance(page, html.Div) and "sessions-table" in str(page)
