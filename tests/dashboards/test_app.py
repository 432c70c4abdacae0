"""The dashboard server's start-up checks and page selection, without a browser."""

import base64
import socket

from dash import html, no_update

from dashboards.app import create_app
from engage.cli import main
from monitor.store import open_store
from tests.factories import ROOM, START, aggregate


def test_dashboard_refuses_a_busy_port_with_one_line(tmp_path, capsys):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["dashboard", "--port", str(port), "--db", str(tmp_path / "none.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"engage: error: cannot serve on 127.0.0.1:{port}: address in use: is a dashboard already running "
        "there? (choose another --port)"
    ]


def test_layout_is_the_empty_page_until_a_session_exists(tmp_path):
    db = tmp_path / "engage.db"
    app = create_app(db)
    assert "empty-page" in str(app.layout())
    with open_store(db) as store:
        store.add_interval(store.create_session("Week 1", "camera 0", {}, START, room=ROOM, host="test"), aggregate(0))
    page = app.layout()
    assert isinstance(page, html.Div) and "sessions-table" in str(page)


def _two_rooms(db):
    with open_store(db) as store:
        for room, name in (("B12", "Physics"), ("C3", "Chemistry")):
            sid = store.create_session(name, "camera 0", {}, START, room=room, host="test")
            store.add_interval(sid, aggregate(0))
            store.finish_session(sid, "completed")


def _callback(app, output_prefix):
    (key,) = [k for k in app.callback_map if k.startswith(output_prefix)]
    return app.callback_map[key]["callback"].__wrapped__


def test_the_room_selector_lists_every_room_and_filters_the_lectures(tmp_path):
    db = tmp_path / "engage.db"
    _two_rooms(db)
    app = create_app(db)
    page = str(app.layout())
    assert "All rooms" in page and "'B12'" in page and "'C3'" in page
    refresh = _callback(app, "..sessions-table.data")
    rows, note, options, _ = refresh(None, "C3", [])
    assert [r["name"] for r in rows] == ["Chemistry"] and [o["value"] for o in options] == ["", "B12", "C3"]
    rows, note, _, _ = refresh(None, "", [])
    assert {r["room"] for r in rows} == {"B12", "C3"} and note == ""


def test_a_dashboard_open_to_other_machines_needs_a_password(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("ENGAGE_DASHBOARD_PASSWORD", raising=False)
    assert main(["dashboard", "--host", "0.0.0.0", "--db", str(tmp_path / "none.db")]) == 2
    assert "ENGAGE_DASHBOARD_PASSWORD" in capsys.readouterr().err


def test_with_a_password_every_request_needs_it(tmp_path):
    db = tmp_path / "engage.db"
    _two_rooms(db)
    client = create_app(db, password="staff-only").server.test_client()
    assert client.get("/").status_code == 401
    assert client.get("/_dash-layout").status_code == 401
    wrong = base64.b64encode(b"teacher:guess").decode()
    assert client.get("/", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
    right = base64.b64encode(b"teacher:staff-only").decode()
    assert client.get("/_dash-layout", headers={"Authorization": f"Basic {right}"}).status_code == 200


def test_room_is_a_hard_scope_whatever_the_browser_asks(tmp_path):
    db = tmp_path / "engage.db"
    _two_rooms(db)
    with open_store(db) as store:
        chemistry = store.resolve("Chemistry").id
        sid = store.create_session("Biology", "camera 0", {}, START, room="D4", host="test")
        store.add_interval(sid, aggregate(0))
    app = create_app(db, rooms=["B12", "D4"])
    page = str(app.layout())
    assert "'B12'" in page and "'D4'" in page and "C3" not in page and "Chemistry" not in page
    rows, _, options, _ = _callback(app, "..sessions-table.data")(None, "C3", [])
    assert rows == [] and [o["value"] for o in options] == ["", "B12", "D4"]
    rows, *_ = _callback(app, "..sessions-table.data")(None, "", [])
    assert {r["name"] for r in rows} == {"Physics", "Biology"}
    figure, cards = _callback(app, "..main-graph.figure")([chemistry], "timeline", 1, None)
    assert "not in the store" in figure.layout.annotations[0].text and cards == []
    assert _callback(app, "download.data")(1, [chemistry]) is no_update


def test_an_unknown_lecture_id_is_an_answer_not_a_server_error(tmp_path):
    db = tmp_path / "engage.db"
    _two_rooms(db)
    client = create_app(db).server.test_client()
    client.get("/")
    request = {
        "output": "..main-graph.figure...summary.children..",
        "outputs": [{"id": "main-graph", "property": "figure"}, {"id": "summary", "property": "children"}],
        "inputs": [
            {"id": "sessions-table", "property": "selected_row_ids", "value": [999]},
            {"id": "view", "property": "value", "value": "timeline"},
            {"id": "smoothing", "property": "value", "value": 1},
            {"id": "refresh", "property": "n_intervals", "value": None},
        ],
        "changedPropIds": ["sessions-table.selected_row_ids"],
    }
    answer = client.post("/_dash-update-component", json=request)
    assert answer.status_code == 200 and "not in the store" in answer.get_data(as_text=True)


def test_the_listening_lines_name_the_addresses_really_bound():
    from dashboards.app import _addresses

    assert _addresses("127.0.0.1", 8050) == ["http://127.0.0.1:8050/"]
    assert _addresses("::1", 8050) == ["http://[::1]:8050/"]
    everywhere = _addresses("0.0.0.0", 8050)
    assert everywhere[0] == "http://127.0.0.1:8050/ (this machine)" and socket.gethostname() in everywhere[1]


def test_the_dashboard_runs_on_a_production_server(tmp_path):
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import ROOT

    db = tmp_path / "engage.db"
    _two_rooms(db)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "engage.cli", "dashboard", "--db", str(db), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "no answer"
                time.sleep(0.2)
        assert answer.status == 200 and answer.headers["Server"] == "engage"
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert f"listening on http://127.0.0.1:{port}/" in err and "development server" not in err
    assert err.count("listening on") == 1
