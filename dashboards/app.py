"""`engage dashboard`: the Dash app over a session store (a local file or the central database)."""

from __future__ import annotations

import base64
import errno
import functools
import hmac
import os
import socket
from collections.abc import Sequence
from pathlib import Path

import flask
from dash import Dash, html
from waitress.server import BaseWSGIServer, create_server

from dashboards import callbacks, layout
from dashboards.presenter import add_presenter
from monitor.console import info, warn
from monitor.errors import EngageError
from monitor.retention import enforce
from monitor.store import SessionReader, StoreLocation, open_store
from monitor.store.scope import RoomScope

ASSETS = Path(__file__).parent / "assets"
PASSWORD_ENV = "ENGAGE_DASHBOARD_PASSWORD"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def create_app(
    where: StoreLocation | str | os.PathLike[str], rooms: Sequence[str] = (), password: str | None = None
) -> Dash:
    """The dashboard; with `rooms`, it reads those rooms' lectures and no other (a hard scope, whatever a request
    asks); with a `password`, every request needs it (HTTP basic auth, any user name)."""
    location = StoreLocation.of(where)
    app = Dash(__name__, title="engage", assets_folder=str(ASSETS), suppress_callback_exceptions=True)

    @functools.cache
    def store() -> SessionReader:  # opened at the first request that finds it (a new SQLite file may come later)
        opened = open_store(location, create=False)
        return RoomScope(opened, rooms) if rooms else opened

    def serve_layout() -> html.Div:
        if location.is_local and not location.path.is_file():
            return layout.empty_page(str(location))
        first = rooms[0] if len(rooms) == 1 else None
        sessions, known = layout.listed(store().sessions(first, layout.LECTURES_SHOWN)), store().rooms()
        if not known:
            return layout.empty_page(str(location))
        return layout.page(sessions, known, first, store().room_states())

    app.layout = serve_layout
    callbacks.register(app, store)
    add_presenter(app.server, store, rooms)
    if password:
        _require_password(app.server, password)
    return app


def _require_password(server: flask.Flask, password: str) -> None:
    expected = password.encode()

    @server.before_request
    def check() -> flask.Response | None:
        header = flask.request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            given = base64.b64decode(encoded).partition(b":")[2] if scheme.lower() == "basic" else b""
        except ValueError:
            given = b""
        if hmac.compare_digest(given, expected):
            return None
        return flask.Response(
            "engage dashboard: password required", 401, {"WWW-Authenticate": 'Basic realm="engage", charset="UTF-8"'}
        )


def serve(
    location: StoreLocation,
    host: str,
    port: int,
    rooms: Sequence[str] = (),
    *,
    retention: str | None = None,
    yes: bool = False,
) -> None:
    """Serve the dashboard; first the store's retention policy is enforced (and set, with `retention`)."""
    password = os.environ.get(PASSWORD_ENV) or None
    if host not in LOCAL_HOSTS and not password:
        raise EngageError(f"--host {host} opens the dashboard to other machines: set {PASSWORD_ENV} to a password")
    if not location.is_local or location.path.exists():
        with open_store(location, create=False) as store:  # unreachable, corrupt or foreign: one line, here
            if store.location.is_local and not store.location.writable:
                warn(f"{store.location} is read-only: retention not applied")
            else:
                enforce(store, retention, yes=yes)
    app = create_app(location, rooms, password)
    server = _server(app, host, port)
    if host not in LOCAL_HOSTS:
        warn(f"the dashboard is reachable from other machines (password from ${PASSWORD_ENV})")
    if rooms:
        info(f"showing room{'s' if len(rooms) > 1 else ''} {', '.join(rooms)} only")
    for address in _addresses(host, port):
        info(f"engage dashboard listening on {address} (Ctrl-C to stop)")
    try:
        server.run()
    except KeyboardInterrupt:
        info("dashboard stopped")
    finally:
        server.close()


def _server(app: Dash, host: str, port: int) -> BaseWSGIServer:
    """A production WSGI server (waitress: pure Python, every platform) bound to `host`:`port`."""
    try:
        return create_server(app.server, host=host, port=port, threads=8, ident="engage")
    except OSError as exc:
        reason = (
            "address in use: is a dashboard already running there?" if exc.errno == errno.EADDRINUSE else exc.strerror
        )
        raise EngageError(f"cannot serve on {host}:{port}: {reason} (choose another --port)") from None


def _addresses(host: str, port: int) -> list[str]:
    """The URLs the server really answers on: every address of this machine for 0.0.0.0 / ::."""
    if host in ("0.0.0.0", "::"):
        name = socket.gethostname()
        return [f"http://127.0.0.1:{port}/ (this machine)", f"http://{name}:{port}/ (every address of {name})"]
    shown = f"[{host}]" if ":" in host else host
    return [f"http://{shown}:{port}/"]
