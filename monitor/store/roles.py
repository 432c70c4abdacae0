"""Least privilege on the central PostgreSQL: a recording role for the room boxes that can add sessions,
intervals and markers but never delete, and a staff role for dashboards that can read, rename and prune."""

from __future__ import annotations

from monitor.errors import EngageError
from monitor.store import schema
from monitor.store.sql import SqlStore

RECORDED = "sessions, intervals, markers"
EVERY_TABLE = f"{RECORDED}, {schema.room_status.name}, {schema.schema_table.name}, {schema.meta.name}"
GRANTS = {
    "recorder": [
        f"SELECT ON {EVERY_TABLE}",
        f"INSERT, UPDATE ON {RECORDED}, {schema.room_status.name}",
        "USAGE ON sessions_id_seq, markers_id_seq",
    ],
    "staff": [f"SELECT ON {EVERY_TABLE}", f"UPDATE, DELETE ON {RECORDED}", f"INSERT, UPDATE ON {schema.meta.name}"],
}


def _quoted(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


def grant_roles(store: SqlStore, roles: dict[str, str]) -> list[str]:
    """Grant existing PostgreSQL roles what their part needs on `store` ({"recorder": "room_b12", "staff": ...});
    the owner runs this once the schema exists. Returns the statements run."""
    if store.dialect != "postgresql":
        raise EngageError("roles are for a central PostgreSQL store; a SQLite file is guarded by its file permissions")
    statements = []
    for part, role in roles.items():
        statements.append(f"REVOKE ALL ON {EVERY_TABLE} FROM {_quoted(role)}")
        statements += [f"GRANT {grant} TO {_quoted(role)}" for grant in GRANTS[part]]
    store.run_statements(statements)
    return statements
