"""Where engage keeps its files unless told otherwise: one place per user, the convention of each platform."""

from pathlib import Path

from platformdirs import user_data_path

LEGACY_FOLDER = Path("sessions")  # engage before 0.2 kept its store in ./sessions of the folder it ran in
DB_NAME, OUTBOX_NAME = "engage.db", "outbox.db"


def data_folder() -> Path:
    """This user's engage folder: ~/.local/share/engage on Linux ($XDG_DATA_HOME), ~/Library/Application
    Support/engage on macOS, %LOCALAPPDATA%\\engage on Windows."""
    return user_data_path("engage", appauthor=False)


def default_db() -> Path:
    """The session store every command uses unless --db, $ENGAGE_DB or the room config names another: the user's
    `engage.db`, or a store an older engage left in ./sessions/."""
    legacy = LEGACY_FOLDER / DB_NAME
    return legacy.resolve() if legacy.is_file() else data_folder() / DB_NAME


def default_outbox() -> Path:
    """Where a recording to a central store keeps what it has not sent yet (beside the user's store)."""
    legacy = LEGACY_FOLDER / OUTBOX_NAME
    return legacy.resolve() if legacy.is_file() else data_folder() / OUTBOX_NAME
