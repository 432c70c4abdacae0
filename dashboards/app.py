"""`engage dashboard`: the Dash app over the session database."""

from __future__ import annotations

import socket
from pathlib import Path

from dash import Dash, html

from dashboards import callbacks, layout
from monitor.console import info, warn
from monitor.errors import EngageError
from monitor.store import SessionStore

ASSETS = Path(__file__).parent / "assets"


def create_app(db: Path) -> Dash:
    app = Dash(__name__, title="engage", assets_folder=str(ASSETS), suppress_callback_exceptions=True)

    def serve_layout() -> html.Div:
        if not db.is_file():
            return layout.empty_page(str(db))
        with SessionStore(db, create=False) as store:
            sessions = store.sessions()
        return layout.page(sessions) if sessions else layout.empty_page(str(db))

    app.layout = serve_layout
    callbacks.register(app, db)
    return app


def serve(db: Path, host: str, port: int) -> None:
    if db.exists():
        SessionStore(db, create=False).close()  # a corrupt or foreign file fails here, with a clear message
    _check_free(host, port)
    app = create_app(db)
    if host not in ("127.0.0.1", "localhost", "::1"):
        warn(f"the dashboard is reachable from other machines at {host}:{port}")
    info(f"engage dashboard on http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/ (Ctrl-C to stop)")
    app.run(host=host, port=port, debug=False)


def _check_free(host: str, port: int) -> None:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise EngageError(f"cannot serve on {host}:{port}: {exc.strerror} (choose another --port)") from None
