"""Where engage keeps its files unless told otherwise: light constants the command line reads at start-up."""

from pathlib import Path

DEFAULT_DB = Path("sessions") / "engage.db"
OUTBOX_DB = Path("sessions") / "outbox.db"
DB_ENV = "ENGAGE_DB"
